package lmu.backend.cuda;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * The caching device allocator of one {@link CudaContext}: {@link CachingAllocator}'s size classes
 * and free lists over {@code cuMemAlloc}/{@code cuMemFree}. Blocks are reused in stream order on
 * the context's stream; a block last used on another stream is freed with {@link
 * #freeAfter(DeviceBuffer, CUstream)}, which records an event there and recycles the block once
 * the event has completed.
 */
public final class DeviceAllocator implements AutoCloseable {
    private final CudaContext ctx;
    private final CachingAllocator<CUdeviceptr> cache;

    DeviceAllocator(CudaContext ctx) {
        this.ctx = ctx;
        this.cache = new CachingAllocator<>(new DriverMemory());
    }

    private final class DriverMemory implements CachingAllocator.RawMemory<CUdeviceptr> {
        @Override
        public CUdeviceptr allocate(long bytes) {
            CUdeviceptr p = new CUdeviceptr();
            int rc = Driver.code(() -> JCudaDriver.cuMemAlloc(p, bytes));
            if (rc == CudaException.CUDA_ERROR_OUT_OF_MEMORY) return null;
            if (rc != CudaException.CUDA_SUCCESS) {
                throw Driver.exception("cuMemAlloc", rc, CachingAllocator.bytes(bytes) + " on " + ctx);
            }
            return p;
        }

        @Override
        public void release(CUdeviceptr ptr) {
            Driver.check("cuMemFree", () -> JCudaDriver.cuMemFree(ptr), "on " + ctx);
        }

        @Override
        public long freeBytes() {
            return ctx.memoryInfo()[0];
        }

        @Override
        public long totalBytes() {
            return ctx.totalBytes();
        }

        @Override
        public String deviceName() {
            return ctx.toString();
        }
    }

    /**
     * A buffer of at least {@code bytes}; contents undefined.
     *
     * @param bytes size in bytes, &gt; 0
     * @throws DeviceOutOfMemoryException when the device is out of memory even after the cache was released
     */
    public DeviceBuffer allocate(long bytes) {
        return new DeviceBuffer(this, cache.allocate(bytes));
    }

    /** Returns {@code buf} to the cache, to be reused by work enqueued later on the context's stream. */
    public void free(DeviceBuffer buf) {
        buf.markFreed();
        cache.free(buf.block);
    }

    /**
     * Returns {@code buf} to the cache once the work enqueued so far on {@code other} has finished.
     *
     * @param buf the buffer, last used on {@code other}
     * @param other a stream other than the context's
     */
    public void freeAfter(DeviceBuffer buf, CUstream other) {
        CUevent event = new CUevent();
        Driver.check("cuEventCreate", () -> JCudaDriver.cuEventCreate(event, CUevent_flags.CU_EVENT_DISABLE_TIMING));
        Driver.check("cuEventRecord", () -> JCudaDriver.cuEventRecord(event, other));
        buf.markFreed();
        cache.freeAfter(buf.block, new CachingAllocator.Fence() {
            @Override
            public boolean isComplete() {
                return Driver.code(() -> JCudaDriver.cuEventQuery(event)) == CudaException.CUDA_SUCCESS;
            }

            @Override
            public void close() {
                JCudaDriver.cuEventDestroy(event);
            }
        });
    }

    /**
     * Makes a new private pool active: until {@link #endPool}, allocations come from it and frees
     * go to it (the memory of a graph being captured, see {@link CachingAllocator.Pool}).
     */
    public CachingAllocator.Pool<CUdeviceptr> beginPool() {
        return cache.beginPool();
    }

    /** Deactivates the active pool (it keeps its memory for its graph). */
    public void endPool() {
        cache.endPool();
    }

    /** Synchronises the context and gives a pool's free memory back to the driver (its graph destroyed). */
    public void releasePool(CachingAllocator.Pool<CUdeviceptr> pool) {
        ctx.synchronize();
        cache.releasePool(pool);
    }

    /** The allocator's counters. */
    public CachingAllocator.Stats stats() {
        return cache.stats();
    }

    /** Resets the peak counters (e.g. at the start of a step). */
    public void resetPeaks() {
        cache.resetPeaks();
    }

    /** Synchronises the context and gives every cached block back to the driver. */
    public void releaseCached() {
        ctx.synchronize();
        cache.releaseCached(true);
    }

    /** Releases the cache; buffers still in use stay allocated until the context is closed. */
    @Override
    public void close() {
        cache.releaseCached(true);
    }
}
