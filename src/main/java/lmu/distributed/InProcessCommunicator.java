package lmu.distributed;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * Ranks that are threads of one JVM (CPU data parallel, tests). The last rank to arrive at an
 * operation combines every contribution in rank order while the others wait, so results are
 * bit-identical on all ranks and from run to run. Operations check that all ranks called the same
 * thing (kind, type, length, root) and fail, naming the ranks, when they did not.
 *
 * <pre>{@code
 * List<Communicator> ranks = InProcessCommunicator.group(4, Duration.ofMinutes(5));
 * // hand ranks.get(r) to thread r
 * }</pre>
 */
public final class InProcessCommunicator implements Communicator {
    private final Group group;
    private final int rank;
    private long ops;

    private InProcessCommunicator(Group group, int rank) {
        this.group = group;
        this.rank = rank;
    }

    /**
     * A new group of {@code size} connected ranks; element r is rank r.
     *
     * @throws IllegalArgumentException when size < 1 or the timeout is not positive
     */
    public static List<Communicator> group(int size, Duration timeout) {
        if (size < 1) throw new IllegalArgumentException("InProcessCommunicator: size must be >= 1, got " + size);
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("InProcessCommunicator: timeout must be > 0, got " + timeout);
        }
        Group g = new Group(size, timeout);
        List<Communicator> out = new ArrayList<>();
        for (int r = 0; r < size; r++) out.add(new InProcessCommunicator(g, r));
        return out;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return group.size;
    }

    @Override
    public Duration timeout() {
        return group.timeout;
    }

    @Override
    public void allReduce(float[] buf, int off, int len, Op op) {
        Communicator.checkRange("allReduce", buf.length, off, len);
        float[] mine = Arrays.copyOfRange(buf, off, off + len);
        float[] r = (float[]) exchange("allReduce(float32, " + len + ", " + op + ")", mine,
                parts -> Collectives.reduce(cast(parts, float[].class), len, op));
        System.arraycopy(r, 0, buf, off, len);
    }

    @Override
    public void allReduce(double[] buf, int off, int len, Op op) {
        Communicator.checkRange("allReduce", buf.length, off, len);
        double[] mine = Arrays.copyOfRange(buf, off, off + len);
        double[] r = (double[]) exchange("allReduce(float64, " + len + ", " + op + ")", mine,
                parts -> Collectives.reduce(cast(parts, double[].class), len, op));
        System.arraycopy(r, 0, buf, off, len);
    }

    @Override
    public void broadcast(float[] buf, int off, int len, int root) {
        Communicator.checkRange("broadcast", buf.length, off, len);
        Communicator.checkRoot("broadcast", root, size());
        float[] mine = rank == root ? Arrays.copyOfRange(buf, off, off + len) : null;
        float[] r = (float[]) exchange("broadcast(float32, " + len + ", root " + root + ")", mine, parts -> parts[root]);
        if (rank != root) System.arraycopy(r, 0, buf, off, len);
    }

    @Override
    public void broadcast(double[] buf, int off, int len, int root) {
        Communicator.checkRange("broadcast", buf.length, off, len);
        Communicator.checkRoot("broadcast", root, size());
        double[] mine = rank == root ? Arrays.copyOfRange(buf, off, off + len) : null;
        double[] r = (double[]) exchange("broadcast(float64, " + len + ", root " + root + ")", mine, parts -> parts[root]);
        if (rank != root) System.arraycopy(r, 0, buf, off, len);
    }

    @Override
    public void allGather(float[] send, float[] recv) {
        checkGather(send.length, recv.length);
        float[] mine = send.clone();
        float[] all = (float[]) exchange("allGather(float32, " + send.length + ")", mine, parts -> {
            float[] a = new float[parts.length * send.length];
            for (int r = 0; r < parts.length; r++) System.arraycopy((float[]) parts[r], 0, a, r * send.length, send.length);
            return a;
        });
        System.arraycopy(all, 0, recv, 0, recv.length);
    }

    @Override
    public void allGather(double[] send, double[] recv) {
        checkGather(send.length, recv.length);
        double[] mine = send.clone();
        double[] all = (double[]) exchange("allGather(float64, " + send.length + ")", mine, parts -> {
            double[] a = new double[parts.length * send.length];
            for (int r = 0; r < parts.length; r++) System.arraycopy((double[]) parts[r], 0, a, r * send.length, send.length);
            return a;
        });
        System.arraycopy(all, 0, recv, 0, recv.length);
    }

    private void checkGather(int send, int recv) {
        if ((long) send * size() != recv) {
            throw new IllegalArgumentException("allGather: recv must hold size * send.length = " + size() + " * " + send
                    + " values, got " + recv);
        }
    }

    @Override
    public void barrier() {
        exchange("barrier", null, parts -> null);
    }

    @Override
    public void abort(Throwable cause) {
        group.fail("rank " + rank + " failed: " + cause, rank, cause);
    }

    @Override
    public void close() {
        group.leave(rank);
    }

    @SuppressWarnings("unchecked")
    private static <T> T[] cast(Object[] parts, Class<T> type) {
        T[] out = (T[]) java.lang.reflect.Array.newInstance(type, parts.length);
        for (int i = 0; i < parts.length; i++) out[i] = type.cast(parts[i]);
        return out;
    }

    private Object exchange(String what, Object payload, Function<Object[], Object> combine) {
        long n = ++ops;
        return group.exchange(rank, "op #" + n + " " + what, payload, combine);
    }

    /** The shared state of one group: contributions of the current operation, the result, failure. */
    private static final class Group {
        final int size;
        final Duration timeout;
        final ReentrantLock lock = new ReentrantLock();
        final Condition changed = lock.newCondition();
        final Object[] payloads;
        final String[] calls;
        final boolean[] left;
        int arrived;
        long generation;
        Object result;
        String failure;
        int failedRank = -1;
        Throwable failureCause;

        Group(int size, Duration timeout) {
            this.size = size;
            this.timeout = timeout;
            payloads = new Object[size];
            calls = new String[size];
            left = new boolean[size];
        }

        Object exchange(int rank, String call, Object payload, Function<Object[], Object> combine) {
            lock.lock();
            try {
                throwIfFailed(rank);
                for (int r = 0; r < size; r++) {
                    if (left[r] && r != rank) failLocked("rank " + r + " left the group (closed) before " + call, r, null);
                }
                throwIfFailed(rank);
                if (left[rank]) throw new IllegalStateException("InProcessCommunicator: rank " + rank + " is closed");
                payloads[rank] = payload;
                calls[rank] = call;
                arrived++;
                long gen = generation;
                if (arrived == size) {
                    for (int r = 1; r < size; r++) {
                        if (!calls[r].equals(calls[0])) {
                            StringBuilder sb = new StringBuilder("ranks called different operations:");
                            for (int k = 0; k < size; k++) sb.append(k == 0 ? " " : "; ").append("rank ").append(k).append(' ').append(calls[k]);
                            failLocked(sb.toString(), r, null);
                            throwIfFailed(rank);
                        }
                    }
                    result = combine.apply(payloads.clone());
                    Arrays.fill(payloads, null);
                    arrived = 0;
                    generation++;
                    changed.signalAll();
                    return result;
                }
                long deadline = System.nanoTime() + timeout.toNanos();
                while (generation == gen && failure == null) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        List<Integer> missing = new ArrayList<>();
                        for (int r = 0; r < size; r++) if (calls[r] == null || !call.equals(calls[r])) missing.add(r);
                        missing.remove(Integer.valueOf(rank));
                        failLocked(String.format(Locale.ROOT, "timed out after %s in %s on rank %d: rank(s) %s never arrived",
                                human(timeout), call, rank, missing), missing.isEmpty() ? -1 : missing.get(0), null);
                        break;
                    }
                    try {
                        changed.awaitNanos(left);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        failLocked("rank " + rank + " was interrupted in " + call, rank, e);
                    }
                }
                throwIfFailed(rank);
                return result;
            } finally {
                lock.unlock();
            }
        }

        void fail(String message, int rank, Throwable cause) {
            lock.lock();
            try {
                failLocked(message, rank, cause);
            } finally {
                lock.unlock();
            }
        }

        void leave(int rank) {
            lock.lock();
            try {
                left[rank] = true;
                if (arrived > 0 && failure == null) failLocked("rank " + rank + " left the group (closed) while others waited", rank, null);
            } finally {
                lock.unlock();
            }
        }

        private void failLocked(String message, int rank, Throwable cause) {
            if (failure == null) {
                failure = message;
                failedRank = rank;
                failureCause = cause;
            }
            changed.signalAll();
        }

        private void throwIfFailed(int rank) {
            if (failure != null) {
                throw new CommunicatorException("InProcessCommunicator (rank " + rank + " of " + size + "): " + failure, failedRank, failureCause);
            }
        }
    }

    static String human(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? (ms / 1000) + " s" : String.format(Locale.ROOT, "%.3f s", ms / 1000.0);
    }
}
