package lmu.backend.cuda;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The bookkeeping of a caching device allocator, kept apart from the driver so it can be tested
 * with a fake: requests are rounded up to a size class, freed blocks go to a free list per class
 * and are handed out again by later requests of the same class, so a training step that repeats
 * the previous step's shapes allocates nothing from the driver.
 *
 * <p><b>Stream ordering.</b> All kernels of a {@link CudaContext} run on its one stream, so a block
 * freed with {@link #free(Block)} after its last use was <em>enqueued</em> may be reused at once by
 * work enqueued later on the same stream: the stream runs them in order. A block last used on
 * another stream (a copy or communication stream) must be freed with {@link #freeAfter(Block,
 * Fence)}: it stays pending until the fence (an event recorded on that stream) has completed.
 *
 * <p><b>Out of memory.</b> When the driver refuses a request, every cached block is released and
 * the request retried once; if it still fails, {@link DeviceOutOfMemoryException} says how much was
 * asked, how much the device has free, how much this allocator holds and what to reduce.
 *
 * <p>Not thread-safe: one allocator per device, used by that device's thread.
 *
 * @param <P> the driver's pointer type ({@code CUdeviceptr}; anything in tests)
 */
public final class CachingAllocator<P> {
    /** Smallest size class: every block is a multiple of 512 bytes (covers 128-byte alignment). */
    public static final long MIN_CLASS = 512;

    /** The memory below the cache: raw device allocations, one driver call each. */
    public interface RawMemory<P> {
        /** Allocates {@code bytes}, or returns null when the device is out of memory. */
        P allocate(long bytes);

        /** Returns a block obtained from {@link #allocate(long)} to the device. */
        void release(P ptr);

        /** Free bytes on the device as the driver reports them ({@code cuMemGetInfo}). */
        long freeBytes();

        /** Total bytes on the device. */
        long totalBytes();

        /** Names the device in messages, e.g. {@code "cuda:0 (NVIDIA H100 80GB HBM3)"}. */
        String deviceName();
    }

    /** Completion of work on another stream (a recorded {@code CUevent}). */
    public interface Fence {
        /** True once the work before the fence has finished; must not block. */
        boolean isComplete();

        /** Called once the block behind the fence has been recycled. */
        default void close() {}
    }

    /** A block handed out by the allocator: its pointer, its size class and the size asked for. */
    public static final class Block<P> {
        private final P ptr;
        private final long classBytes;
        private long requestedBytes;
        private boolean inUse;
        private Pool<P> pool; // the private pool of a captured graph that owns the block, or null

        Block(P ptr, long classBytes) {
            this.ptr = ptr;
            this.classBytes = classBytes;
        }

        /** The device pointer. */
        public P ptr() {
            return ptr;
        }

        /** The block's capacity in bytes (its size class). */
        public long capacity() {
            return classBytes;
        }

        /** The bytes requested for the current use. */
        public long requested() {
            return requestedBytes;
        }
    }

    /**
     * Counters of the allocator, all in bytes except the counts.
     *
     * @param allocated bytes in blocks handed out (their size classes)
     * @param requested bytes asked for by the blocks handed out
     * @param cached bytes in freed blocks kept for reuse, including pending ones
     * @param reserved bytes obtained from the driver and not released: allocated + cached
     * @param peakAllocated the largest {@code allocated} so far
     * @param peakReserved the largest {@code reserved} so far
     * @param driverAllocations calls to the raw allocator that succeeded
     * @param driverReleases blocks given back to the driver
     * @param cacheHits requests served from a free list
     * @param cacheFlushes times the whole cache was released to satisfy a request
     */
    public record Stats(long allocated, long requested, long cached, long reserved, long peakAllocated,
            long peakReserved, long driverAllocations, long driverReleases, long cacheHits, long cacheFlushes) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "allocated %s (requested %s), cached %s, reserved %s, peak allocated %s,"
                    + " peak reserved %s, driver allocations %d, releases %d, cache hits %d, flushes %d",
                    bytes(allocated), bytes(requested), bytes(cached), bytes(reserved), bytes(peakAllocated),
                    bytes(peakReserved), driverAllocations, driverReleases, cacheHits, cacheFlushes);
        }
    }

    private final RawMemory<P> raw;
    private final Map<Long, ArrayDeque<Block<P>>> free = new HashMap<>();
    private final List<Pending<P>> pending = new ArrayList<>();
    private long allocated, requested, cached, peakAllocated, peakReserved;
    private long driverAllocations, driverReleases, cacheHits, cacheFlushes;

    private record Pending<P>(Block<P> block, Fence fence) {}

    /**
     * The memory of one captured graph (a CUDA graph's private pool). While it is {@linkplain
     * #beginPool active}, every allocation is served from it (its own free blocks, else the driver)
     * and every block freed, whoever allocated it, joins it: work captured into the graph may use
     * that memory again at each replay, so no allocation outside the graph may ever receive it. Its
     * free blocks are handed out again only while it is active (a later capture into the same
     * pool), and go back to the driver with {@link #releasePool}.
     */
    public static final class Pool<P> {
        private final Map<Long, ArrayDeque<Block<P>>> free = new HashMap<>();
        private final List<Block<P>> owned = new ArrayList<>();
        private boolean released;

        /** Blocks the pool owns (in use or free). */
        public int blocks() {
            return owned.size();
        }
    }

    private Pool<P> active;

    /**
     * Makes a new private pool active (at the start of a capture).
     *
     * @throws IllegalStateException when a pool is active already
     */
    public Pool<P> beginPool() {
        if (active != null) throw new IllegalStateException("CachingAllocator: a private pool is active already");
        active = new Pool<>();
        return active;
    }

    /** Deactivates the active pool (at the end of a capture); it keeps its blocks. */
    public void endPool() {
        active = null;
    }

    /**
     * Gives a pool's free blocks back to the driver; its blocks still in use go to the general
     * cache when freed. Call only once no work that uses the pool can run any more (the graph
     * destroyed and the device synchronised).
     */
    public void releasePool(Pool<P> pool) {
        if (pool == null || pool.released) return;
        if (pool == active) active = null;
        pool.released = true;
        for (Block<P> b : pool.owned) {
            b.pool = null;
            if (!b.inUse) {
                raw.release(b.ptr);
                driverReleases++;
                cached -= b.classBytes;
            }
        }
        pool.owned.clear();
        pool.free.clear();
    }

    /** @param raw the driver allocations below the cache */
    public CachingAllocator(RawMemory<P> raw) {
        if (raw == null) throw new IllegalArgumentException("CachingAllocator: raw memory must not be null");
        this.raw = raw;
    }

    /**
     * The size class of a request: at least {@link #MIN_CLASS}, then four classes per power of two
     * (the request rounded up to a quarter of its leading power of two), so at most 25% and on
     * average about 10% of a block is slack while few distinct classes exist.
     *
     * @param bytes the request, &gt; 0
     * @return the class, &ge; {@code bytes}
     * @throws IllegalArgumentException when {@code bytes <= 0}
     */
    public static long sizeClass(long bytes) {
        if (bytes <= 0) throw new IllegalArgumentException("CachingAllocator: bytes : " + bytes + " (expected: > 0)");
        if (bytes <= MIN_CLASS) return MIN_CLASS;
        int log2 = 63 - Long.numberOfLeadingZeros(bytes);
        long step = Math.max(MIN_CLASS, 1L << (log2 - 2));
        return (bytes + step - 1) / step * step;
    }

    /**
     * A block of at least {@code bytes}, from the cache when one of its class is free.
     *
     * @param bytes bytes needed, &gt; 0
     * @throws IllegalArgumentException when {@code bytes <= 0}
     * @throws DeviceOutOfMemoryException when the device cannot provide it even after the cache is released
     */
    public Block<P> allocate(long bytes) {
        long cls = sizeClass(bytes);
        reclaimPending();
        ArrayDeque<Block<P>> list = (active != null ? active.free : free).get(cls);
        Block<P> b = list == null ? null : list.pollFirst();
        if (b != null) {
            cached -= cls;
            cacheHits++;
        } else {
            P ptr = raw.allocate(cls);
            if (ptr == null && (cached > 0 || !pending.isEmpty())) {
                cacheFlushes++;
                releaseCached(true);
                ptr = raw.allocate(cls);
            }
            if (ptr == null) throw outOfMemory(bytes, cls);
            driverAllocations++;
            b = new Block<>(ptr, cls);
            if (active != null) {
                b.pool = active;
                active.owned.add(b);
            }
        }
        b.inUse = true;
        b.requestedBytes = bytes;
        allocated += cls;
        requested += bytes;
        peakAllocated = Math.max(peakAllocated, allocated);
        peakReserved = Math.max(peakReserved, allocated + cached);
        return b;
    }

    /**
     * Returns {@code block} to the cache; it may be reused by work enqueued after this call on the
     * context's stream.
     *
     * @throws IllegalStateException when the block is not in use (freed twice)
     */
    public void free(Block<P> block) {
        release(block);
        if (!toPool(block)) free.computeIfAbsent(block.classBytes, k -> new ArrayDeque<>()).addFirst(block);
    }

    /** Puts a freed block into its pool, or into the active pool (a block freed during a capture); false otherwise. */
    private boolean toPool(Block<P> block) {
        if (block.pool == null && active != null) {
            block.pool = active; // captured work may have used it before this free: the graph keeps it
            active.owned.add(block);
        }
        if (block.pool == null) return false;
        block.pool.free.computeIfAbsent(block.classBytes, k -> new ArrayDeque<>()).addFirst(block);
        return true;
    }

    /**
     * Returns {@code block} to the cache once {@code fence} has completed (for blocks last used on
     * another stream).
     *
     * @throws IllegalStateException when the block is not in use (freed twice)
     */
    public void freeAfter(Block<P> block, Fence fence) {
        if (fence == null) throw new IllegalArgumentException("CachingAllocator: fence must not be null");
        release(block);
        if (block.pool != null || active != null) { // a pool's memory is only reused inside its graph, in stream order
            fence.close();
            toPool(block);
            return;
        }
        pending.add(new Pending<>(block, fence));
    }

    private void release(Block<P> block) {
        if (block == null) throw new IllegalArgumentException("CachingAllocator: block must not be null");
        if (!block.inUse) throw new IllegalStateException("CachingAllocator: block of " + bytes(block.classBytes) + " freed twice");
        block.inUse = false;
        allocated -= block.classBytes;
        requested -= block.requestedBytes;
        cached += block.classBytes;
    }

    private void reclaimPending() {
        for (Iterator<Pending<P>> it = pending.iterator(); it.hasNext(); ) {
            Pending<P> p = it.next();
            if (p.fence().isComplete()) {
                it.remove();
                p.fence().close();
                free.computeIfAbsent(p.block().classBytes, k -> new ArrayDeque<>()).addFirst(p.block());
            }
        }
    }

    /**
     * Gives every cached block back to the driver. Pending blocks are released only when {@code
     * includePending} is true, which the caller may pass only after synchronising the device.
     */
    public void releaseCached(boolean includePending) {
        if (includePending) {
            for (Pending<P> p : pending) {
                p.fence().close();
                free.computeIfAbsent(p.block().classBytes, k -> new ArrayDeque<>()).addFirst(p.block());
            }
            pending.clear();
        } else {
            reclaimPending();
        }
        for (ArrayDeque<Block<P>> list : free.values()) {
            for (Block<P> b : list) {
                raw.release(b.ptr);
                driverReleases++;
                cached -= b.classBytes;
            }
        }
        free.clear();
    }

    /** The current counters. */
    public Stats stats() {
        return new Stats(allocated, requested, cached, allocated + cached, peakAllocated, peakReserved,
                driverAllocations, driverReleases, cacheHits, cacheFlushes);
    }

    /** Resets the peaks to the current values (e.g. at the start of each training step). */
    public void resetPeaks() {
        peakAllocated = allocated;
        peakReserved = allocated + cached;
    }

    private DeviceOutOfMemoryException outOfMemory(long bytes, long cls) {
        long freeBytes = raw.freeBytes();
        String msg = String.format(Locale.ROOT,
                "out of memory on %s: asked %s (size class %s) but the device has %s free of %s; this process holds"
                        + " %s in use and %s cached (the cache was released and the request retried; peak in use %s)."
                        + " Reduce the batch size or the maximum frames per batch (longest utterances), use mixed"
                        + " precision, or free tensors held across steps",
                raw.deviceName(), bytes(bytes), bytes(cls), bytes(freeBytes), bytes(raw.totalBytes()),
                bytes(allocated), bytes(cached), bytes(peakAllocated));
        return new DeviceOutOfMemoryException(msg, bytes, freeBytes, allocated, cached);
    }

    /** {@code 1536 -> "1.50 KiB"}. */
    public static String bytes(long b) {
        if (b < 1024) return b + " B";
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = b;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.2f %s", v, units[u]);
    }
}
