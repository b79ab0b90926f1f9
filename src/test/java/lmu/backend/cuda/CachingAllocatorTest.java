package lmu.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class CachingAllocatorTest {
    /** A device of {@code capacity} bytes; pointers are distinct objects holding their size. */
    static final class FakeMemory implements CachingAllocator.RawMemory<long[]> {
        final long capacity;
        long used;
        final Set<long[]> live = new HashSet<>();

        FakeMemory(long capacity) {
            this.capacity = capacity;
        }

        @Override
        public long[] allocate(long bytes) {
            if (used + bytes > capacity) return null;
            used += bytes;
            long[] p = {bytes};
            live.add(p);
            return p;
        }

        @Override
        public void release(long[] ptr) {
            assertTrue(live.remove(ptr), "released a pointer that was not live");
            used -= ptr[0];
        }

        @Override
        public long freeBytes() {
            return capacity - used;
        }

        @Override
        public long totalBytes() {
            return capacity;
        }

        @Override
        public String deviceName() {
            return "fake:0";
        }
    }

    static final class FlagFence implements CachingAllocator.Fence {
        boolean done;
        int closed;

        @Override
        public boolean isComplete() {
            return done;
        }

        @Override
        public void close() {
            closed++;
        }
    }

    @Test
    void sizeClassesOfKnownSizes() {
        assertEquals(512, CachingAllocator.sizeClass(1));
        assertEquals(512, CachingAllocator.sizeClass(512));
        assertEquals(1024, CachingAllocator.sizeClass(513));
        assertEquals(1536, CachingAllocator.sizeClass(1025));
        assertEquals(2048, CachingAllocator.sizeClass(2048));
        assertEquals(2560, CachingAllocator.sizeClass(2049));
        assertEquals(6L << 20, CachingAllocator.sizeClass((5L << 20) + 1));
        assertEquals(5L << 30, CachingAllocator.sizeClass(5L << 30));
        assertThrows(IllegalArgumentException.class, () -> CachingAllocator.sizeClass(0));
    }

    @Test
    void sizeClassesBoundTheSlackAndCountFourPerOctave() {
        Random r = new Random(7);
        for (int i = 0; i < 20000; i++) {
            long n = 1 + (long) Math.floor(Math.exp(r.nextDouble() * Math.log(1L << 36)));
            long c = CachingAllocator.sizeClass(n);
            assertTrue(c >= n && c % 512 == 0, n + " -> " + c);
            assertTrue(c <= Math.max(512, n * 1.25 + 512), n + " -> " + c);
            assertEquals(c, CachingAllocator.sizeClass(c), "a class is its own class");
        }
        // brute force over one octave above 2 MiB: exactly four classes
        TreeSet<Long> classes = new TreeSet<>();
        for (long n = (2L << 20) + 1; n <= 4L << 20; n += 4099) classes.add(CachingAllocator.sizeClass(n));
        classes.add(CachingAllocator.sizeClass(4L << 20));
        assertEquals(Set.of(2621440L, 3145728L, 3670016L, 4194304L), classes);
    }

    @Test
    void freedBlocksAreReusedWithinTheirClass() {
        FakeMemory mem = new FakeMemory(1 << 20);
        CachingAllocator<long[]> a = new CachingAllocator<>(mem);
        CachingAllocator.Block<long[]> b1 = a.allocate(1000);
        assertEquals(1024, b1.capacity());
        a.free(b1);
        CachingAllocator.Block<long[]> b2 = a.allocate(900);
        assertSame(b1.ptr(), b2.ptr());
        assertEquals(900, b2.requested());
        CachingAllocator.Block<long[]> b3 = a.allocate(3000);
        assertNotSame(b2.ptr(), b3.ptr());
        CachingAllocator.Stats s = a.stats();
        assertEquals(2, s.driverAllocations());
        assertEquals(1, s.cacheHits());
        assertEquals(1024 + 3072, s.allocated());
        assertEquals(900 + 3000, s.requested());
        assertEquals(0, s.cached());
        assertEquals(mem.used, s.reserved());
    }

    @Test
    void statisticsFollowAllocationsFreesAndPeaks() {
        FakeMemory mem = new FakeMemory(1 << 20);
        CachingAllocator<long[]> a = new CachingAllocator<>(mem);
        var x = a.allocate(4096);
        var y = a.allocate(8192);
        a.free(x);
        CachingAllocator.Stats s = a.stats();
        assertEquals(8192, s.allocated());
        assertEquals(4096, s.cached());
        assertEquals(12288, s.reserved());
        assertEquals(12288, s.peakAllocated());
        a.resetPeaks();
        assertEquals(8192, a.stats().peakAllocated());
        a.free(y);
        a.releaseCached(false);
        s = a.stats();
        assertEquals(0, s.allocated());
        assertEquals(0, s.cached());
        assertEquals(0, mem.used);
        assertEquals(2, s.driverReleases());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.free(y));
        assertTrue(e.getMessage().contains("freed twice"), e.getMessage());
    }

    @Test
    void blocksFreedBehindAFenceWaitForIt() {
        FakeMemory mem = new FakeMemory(1 << 20);
        CachingAllocator<long[]> a = new CachingAllocator<>(mem);
        var b = a.allocate(2048);
        FlagFence fence = new FlagFence();
        a.freeAfter(b, fence);
        assertEquals(2048, a.stats().cached());
        var c = a.allocate(2048);
        assertNotSame(b.ptr(), c.ptr(), "not reused before the fence completes");
        fence.done = true;
        var d = a.allocate(2048);
        assertSame(b.ptr(), d.ptr(), "reused once it completed");
        assertEquals(1, fence.closed);
        assertEquals(2, a.stats().driverAllocations());
    }

    @Test
    void outOfMemoryReleasesTheCacheAndRetries() {
        FakeMemory mem = new FakeMemory(10240);
        CachingAllocator<long[]> a = new CachingAllocator<>(mem);
        var x = a.allocate(4096);
        a.allocate(4096);
        a.free(x);
        var big = a.allocate(6000);
        assertEquals(6144, big.capacity());
        CachingAllocator.Stats s = a.stats();
        assertEquals(1, s.cacheFlushes());
        assertEquals(1, s.driverReleases());
        assertEquals(0, s.cached());
        assertEquals(4096 + 6144, s.allocated());
    }

    @Test
    void outOfMemoryMessageSaysWhatWasAskedFreeAndCached() {
        FakeMemory mem = new FakeMemory(10240);
        CachingAllocator<long[]> a = new CachingAllocator<>(mem);
        a.allocate(8192);
        DeviceOutOfMemoryException e = assertThrows(DeviceOutOfMemoryException.class, () -> a.allocate(20000));
        String m = e.getMessage();
        assertTrue(m.startsWith("out of memory on fake:0: asked 19.53 KiB (size class 20.00 KiB)"), m);
        assertTrue(m.contains("2.00 KiB free of 10.00 KiB"), m);
        assertTrue(m.contains("8.00 KiB in use and 0 B cached"), m);
        assertTrue(m.contains("Reduce the batch size"), m);
        assertEquals(20000, e.requestedBytes());
        assertEquals(2048, e.freeBytes());
        assertEquals(8192, e.allocatedBytes());
    }

    @Test
    void bytesAreFormattedInBinaryUnits() {
        assertEquals("100 B", CachingAllocator.bytes(100));
        assertEquals("1.50 KiB", CachingAllocator.bytes(1536));
        assertEquals("3.00 GiB", CachingAllocator.bytes(3L << 30));
    }

    @Test
    void aPrivatePoolKeepsWhatItsCaptureAllocatedOrFreedAwayFromEveryoneElseUntilReleased() {
        FakeMemory mem = new FakeMemory(1 << 20);
        CachingAllocator<long[]> a = new CachingAllocator<>(mem);
        CachingAllocator.Block<long[]> before = a.allocate(1000); // allocated before the capture, freed during it
        CachingAllocator.Block<long[]> cachedOutside = a.allocate(4096);
        a.free(cachedOutside);

        CachingAllocator.Pool<long[]> pool = a.beginPool();
        CachingAllocator.Block<long[]> act = a.allocate(4096);
        assertNotSame(cachedOutside.ptr(), act.ptr(), "a capture never takes memory from the general cache");
        a.free(act);
        CachingAllocator.Block<long[]> again = a.allocate(4096);
        assertSame(act.ptr(), again.ptr(), "inside the capture the pool's own free memory is reused in stream order");
        a.free(before); // captured work may have used it: the graph keeps it
        CachingAllocator.Block<long[]> grad = a.allocate(2000); // still in use when the capture ends
        a.endPool();
        assertEquals(3, pool.blocks());

        a.free(again);
        CachingAllocator.Block<long[]> outside = a.allocate(4096);
        assertSame(cachedOutside.ptr(), outside.ptr(), "outside the capture the general cache serves");
        CachingAllocator.Block<long[]> small = a.allocate(1000);
        assertNotSame(before.ptr(), small.ptr(), "memory freed during the capture stays the graph's");
        a.free(grad); // freed after the capture: back to its pool, not to the general cache
        CachingAllocator.Block<long[]> g2 = a.allocate(2000);
        assertNotSame(grad.ptr(), g2.ptr());

        long liveBefore = mem.live.size();
        a.releasePool(pool);
        assertEquals(liveBefore - 3, mem.live.size(), "the pool's free blocks (act, before, grad) go back to the driver");
        assertEquals(0, pool.blocks());
        assertThrows(IllegalStateException.class, () -> {
            a.beginPool();
            a.beginPool();
        });
    }
}
