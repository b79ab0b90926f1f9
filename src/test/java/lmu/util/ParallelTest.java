package lmu.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ParallelTest {

    @Test
    void threadsDefaultsToProcessorsOrProperty() {
        String prop = System.getProperty("lmu.threads");
        int expected = prop == null ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(prop.trim());
        assertEquals(expected, Parallel.threads());
    }

    @Test
    void badThreadPropertyIsNamed() {
        String old = System.getProperty("lmu.threads");
        try {
            System.setProperty("lmu.threads", "zero");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, Parallel::readThreads);
            assertEquals("Parallel: system property lmu.threads must be a positive integer, got 'zero'", e.getMessage());
            System.setProperty("lmu.threads", "0");
            assertThrows(IllegalArgumentException.class, Parallel::readThreads);
            System.setProperty("lmu.threads", " 3 ");
            assertEquals(3, Parallel.readThreads());
        } finally {
            if (old == null) System.clearProperty("lmu.threads");
            else System.setProperty("lmu.threads", old);
        }
    }

    @Test
    void everyIndexRunsExactlyOnce() {
        for (int n : new int[] {0, 1, 2, 13, 207, 4098}) {
            AtomicIntegerArray hits = new AtomicIntegerArray(n);
            Parallel.forRange(n, hits::incrementAndGet);
            for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "n=" + n + " index " + i);
        }
    }

    @Test
    void chunksTileTheRangeAndRespectTheGrain() {
        int n = 1000, grain = 64;
        AtomicIntegerArray hits = new AtomicIntegerArray(n);
        AtomicInteger shortChunks = new AtomicInteger();
        Parallel.forRange(n, grain, (from, to) -> {
            if (to - from < grain && to != n) shortChunks.incrementAndGet();
            for (int i = from; i < to; i++) hits.incrementAndGet(i);
        });
        for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "index " + i);
        assertEquals(0, shortChunks.get());
    }

    @Test
    void usesSeveralThreadsWhenAvailable() {
        Set<Thread> seen = ConcurrentHashMap.newKeySet();
        Parallel.forRange(64, 1, (from, to) -> {
            seen.add(Thread.currentThread());
            long end = System.nanoTime() + 2_000_000; // 2 ms of work per chunk so helpers join in
            while (System.nanoTime() < end) Thread.onSpinWait();
        });
        assertTrue(seen.size() >= 1 && seen.size() <= Parallel.threads(), "threads used: " + seen.size());
        if (Parallel.threads() > 1) assertTrue(seen.size() > 1, "expected helpers, saw only " + seen);
    }

    @Test
    void nestedLoopsRunOnTheCurrentThread() {
        assertFalse(Parallel.inParallelRegion());
        AtomicInteger total = new AtomicInteger();
        AtomicInteger foreign = new AtomicInteger();
        Parallel.forRange(8, 1, (from, to) -> {
            assertTrue(Parallel.inParallelRegion());
            Thread outer = Thread.currentThread();
            Parallel.forRange(100, 1, (f, t) -> {
                if (Thread.currentThread() != outer) foreign.incrementAndGet();
                total.addAndGet(t - f);
            });
        });
        assertEquals(800, total.get());
        assertEquals(0, foreign.get());
        assertFalse(Parallel.inParallelRegion());
    }

    @Test
    void firstExceptionReachesTheCaller() {
        IllegalStateException boom = new IllegalStateException("boom");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Parallel.forRange(100, 1, (from, to) -> {
            if (from <= 50 && 50 < to) throw boom;
        }));
        assertSame(boom, e);
        // the pool still works afterwards
        AtomicInteger count = new AtomicInteger();
        Parallel.forRange(10, i -> count.incrementAndGet());
        assertEquals(10, count.get());
    }

    @Test
    void badArgumentsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Parallel.forRange(-1, i -> {}));
        assertEquals("Parallel.forRange: n : -1 (expected: >= 0)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Parallel.forRange(5, 0, (f, t) -> {}));
        assertEquals("Parallel.forRange: grain : 0 (expected: > 0)", e.getMessage());
    }
}
