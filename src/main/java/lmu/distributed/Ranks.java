package lmu.distributed;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Runs one body per rank on its own thread with an {@link InProcessCommunicator} group. A rank that
 * throws aborts the group, so the other ranks' next collective fails at once instead of waiting;
 * the failure re-thrown to the caller is the first rank's own error (not the other ranks'
 * "rank k failed" consequences), with the rank named.
 */
public final class Ranks {
    /** One rank's work. */
    @FunctionalInterface
    public interface Body<T> {
        T run(Communicator comm) throws Exception;
    }

    private Ranks() {}

    /**
     * Runs {@code body} on {@code n} threads, rank r with communicator r; returns the results by rank.
     *
     * @throws RankFailedException when any rank threw (the root cause, naming its rank)
     */
    public static <T> List<T> run(int n, Duration timeout, String threadName, Body<T> body) {
        return run(InProcessCommunicator.group(n, timeout), threadName, body);
    }

    /**
     * Runs {@code body} once per communicator, each on its own thread (e.g. one per GPU with
     * {@link NcclCommunicator#forLocalDevices}); a rank that throws aborts its communicator, which
     * stops the others' collectives; every communicator is closed at the end.
     *
     * @param comms one connected communicator per rank, element r being rank r
     * @throws RankFailedException when any rank threw (the root cause, naming its rank)
     */
    public static <T> List<T> run(List<? extends Communicator> comms, String threadName, Body<T> body) {
        int n = comms.size();
        AtomicReferenceArray<Object> results = new AtomicReferenceArray<>(n);
        AtomicReferenceArray<Throwable> errors = new AtomicReferenceArray<>(n);
        List<Thread> threads = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            Communicator c = comms.get(r);
            int rank = r;
            Thread t = new Thread(() -> {
                try {
                    results.set(rank, body.run(c));
                } catch (Throwable e) {
                    errors.set(rank, e);
                    c.abort(e);
                } finally {
                    c.close();
                }
            }, threadName + "-rank" + r);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                for (Communicator c : comms) c.abort(e);
                throw new IllegalStateException("Ranks: interrupted while waiting for the ranks", e);
            }
        }
        int first = -1;
        for (int r = 0; r < n; r++) {
            Throwable e = errors.get(r);
            if (e == null) continue;
            if (!(e instanceof CommunicatorException)) {
                first = r;
                break;
            }
            if (first < 0) first = r;
        }
        if (first >= 0) throw new RankFailedException(first, errors.get(first));
        List<T> out = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            @SuppressWarnings("unchecked")
            T v = (T) results.get(r);
            out.add(v);
        }
        return out;
    }

    /** A rank's error, re-thrown to the thread that started the ranks. */
    public static final class RankFailedException extends RuntimeException {
        private final int rank;

        RankFailedException(int rank, Throwable cause) {
            super("rank " + rank + " failed: " + cause, cause);
            this.rank = rank;
        }

        public int rank() {
            return rank;
        }
    }
}
