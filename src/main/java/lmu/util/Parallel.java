package lmu.util;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.function.IntConsumer;

/**
 * The engine's shared thread pool: parallel loops over an index range on one dedicated
 * {@link ForkJoinPool} of daemon threads.
 *
 * <p>Policy:
 *
 * <ul>
 *   <li>{@link #threads()} workers: the number of available processors, or the system property
 *       {@code lmu.threads} when it is set (a positive integer).
 *   <li>The calling thread takes part in the loop; up to {@code threads() - 1} pool workers help.
 *       Helpers that have not started when the caller runs out of work are skipped, so a busy pool
 *       delays nothing and can never deadlock.
 *   <li>A loop started from inside another loop's body (on a worker or on the caller) runs
 *       sequentially on the current thread: there is no nested fan-out and no oversubscription.
 * </ul>
 *
 * <p>Example:
 *
 * <pre>{@code
 * Parallel.forRange(rows, 16, (from, to) -> {
 *     for (int r = from; r < to; r++) normaliseRow(x, r);
 * });
 * }</pre>
 */
public final class Parallel {
    private Parallel() {}

    /** A body over a half-open index range {@code [from, to)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    private static final class Holder {
        static final int THREADS = readThreads();
        static final ForkJoinPool POOL = new ForkJoinPool(
                THREADS,
                pool -> {
                    ForkJoinWorkerThread t = new Worker(pool);
                    t.setDaemon(true);
                    t.setName("lmu-parallel-" + t.getPoolIndex());
                    return t;
                },
                null,
                false);
    }

    private static final class Worker extends ForkJoinWorkerThread {
        Worker(ForkJoinPool pool) {
            super(pool);
        }
    }

    /** Depth of parallel loops the current thread is running a share of. */
    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    static int readThreads() {
        String value = System.getProperty("lmu.threads");
        if (value == null || value.isBlank()) {
            return Runtime.getRuntime().availableProcessors();
        }
        try {
            int n = Integer.parseInt(value.trim());
            if (n > 0) return n;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(
                "Parallel: system property lmu.threads must be a positive integer, got '" + value + "'");
    }

    /**
     * Number of threads parallel loops use (caller included).
     *
     * @return {@code lmu.threads} if set, otherwise the number of available processors
     * @throws IllegalArgumentException if {@code lmu.threads} is set but is not a positive integer
     */
    public static int threads() {
        return Holder.THREADS;
    }

    /**
     * Whether the current thread is already running a share of a parallel loop; loops started
     * there run sequentially.
     */
    public static boolean inParallelRegion() {
        return Thread.currentThread() instanceof Worker || DEPTH.get()[0] > 0;
    }

    /**
     * Runs {@code body.accept(i)} for every {@code i} in {@code [0, n)}, in parallel, in chunks of
     * consecutive indices. Returns when every index is done.
     *
     * @param n number of indices, {@code >= 0}
     * @param body the work for one index; must be safe to run concurrently for different indices
     * @throws IllegalArgumentException if {@code n < 0}
     * @throws RuntimeException the first exception thrown by {@code body} (others are suppressed)
     */
    public static void forRange(int n, IntConsumer body) {
        Checks.nonNegative("Parallel.forRange: n", n);
        int grain = Math.max(1, n / (threads() * 4));
        forRange(n, grain, (from, to) -> {
            for (int i = from; i < to; i++) body.accept(i);
        });
    }

    /**
     * Runs {@code body} over chunks {@code [from, to)} that tile {@code [0, n)}, each at least
     * {@code grain} indices long (the last one may be shorter), in parallel. Chunks are handed out
     * dynamically, so uneven work balances. With one thread, inside another parallel loop, or when
     * {@code n <= grain}, the whole range runs on the calling thread as one chunk.
     *
     * @param n number of indices, {@code >= 0}
     * @param grain smallest chunk worth running as a task, {@code > 0}
     * @param body the work for one chunk; must be safe to run concurrently for disjoint chunks
     * @throws IllegalArgumentException if {@code n < 0} or {@code grain <= 0}
     * @throws RuntimeException the first exception thrown by {@code body} (others are suppressed)
     */
    public static void forRange(int n, int grain, RangeBody body) {
        Checks.nonNegative("Parallel.forRange: n", n);
        Checks.positive("Parallel.forRange: grain", grain);
        if (n == 0) return;
        int threads = threads();
        if (threads == 1 || n <= grain || inParallelRegion()) {
            runShare(body, 0, n);
            return;
        }
        // about 4 chunks per thread for balance, never smaller than grain
        int chunk = Math.max(grain, (int) (((long) n + 4L * threads - 1) / (4L * threads)));
        int chunks = (int) (((long) n + chunk - 1) / chunk);
        Job job = new Job(n, chunk, chunks, body);
        int helpers = Math.min(threads - 1, chunks - 1);
        for (int h = 0; h < helpers; h++) {
            Holder.POOL.execute(job::help);
        }
        job.runAsCaller();
    }

    private static void runShare(RangeBody body, int from, int to) {
        int[] depth = DEPTH.get();
        depth[0]++;
        try {
            body.run(from, to);
        } finally {
            depth[0]--;
        }
    }

    /** One parallel loop: a chunk counter shared by the caller and its helpers. */
    private static final class Job {
        private final int n;
        private final int chunk;
        private final int chunks;
        private final RangeBody body;
        private final java.util.concurrent.atomic.AtomicInteger next =
                new java.util.concurrent.atomic.AtomicInteger();
        private boolean closed; // guarded by this
        private int running; // guarded by this
        private Throwable error; // guarded by this

        Job(int n, int chunk, int chunks, RangeBody body) {
            this.n = n;
            this.chunk = chunk;
            this.chunks = chunks;
            this.body = body;
        }

        void help() {
            synchronized (this) {
                if (closed) return;
                running++;
            }
            try {
                work();
            } finally {
                synchronized (this) {
                    if (--running == 0) notifyAll();
                }
            }
        }

        void runAsCaller() {
            work();
            boolean interrupted = false;
            Throwable failure;
            synchronized (this) {
                closed = true;
                while (running > 0) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                failure = error;
            }
            if (interrupted) Thread.currentThread().interrupt();
            if (failure instanceof RuntimeException) throw (RuntimeException) failure;
            if (failure instanceof Error) throw (Error) failure;
            if (failure != null) throw new RuntimeException(failure);
        }

        private void work() {
            int[] depth = DEPTH.get();
            depth[0]++;
            try {
                int c;
                while ((c = next.getAndIncrement()) < chunks) {
                    int from = c * chunk;
                    int to = (int) Math.min((long) from + chunk, n);
                    try {
                        body.run(from, to);
                    } catch (Throwable t) {
                        synchronized (this) {
                            if (error == null) error = t;
                            else if (error != t) error.addSuppressed(t);
                        }
                        next.set(chunks); // stop handing out work
                    }
                }
            } finally {
                depth[0]--;
            }
        }
    }
}
