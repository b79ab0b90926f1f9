package lmu.backend.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * A block of device memory from a {@link DeviceAllocator}. {@link #close()} returns it to the
 * allocator's cache (stream-ordered: work already enqueued on the context's stream that reads or
 * writes it still completes first).
 */
public final class DeviceBuffer implements AutoCloseable {
    private final DeviceAllocator owner;
    final CachingAllocator.Block<CUdeviceptr> block;
    private boolean freed;

    DeviceBuffer(DeviceAllocator owner, CachingAllocator.Block<CUdeviceptr> block) {
        this.owner = owner;
        this.block = block;
    }

    /** The device pointer. */
    public CUdeviceptr ptr() {
        if (freed) throw new IllegalStateException("DeviceBuffer: used after it was freed");
        return block.ptr();
    }

    /** The bytes requested (the usable size). */
    public long bytes() {
        return block.requested();
    }

    /** The bytes reserved for it (its size class). */
    public long capacity() {
        return block.capacity();
    }

    void markFreed() {
        if (freed) throw new IllegalStateException("DeviceBuffer: freed twice");
        freed = true;
    }

    /** Returns the memory to the allocator's cache. */
    @Override
    public void close() {
        if (!freed) owner.free(this);
    }
}
