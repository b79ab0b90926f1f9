package lmu.distributed;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A communicator whose operations run on a thread of their own (one per rank), strictly in the
 * order this rank submitted them. {@link #submit} and {@link #allReduceAsync} return at once, so
 * the caller can go on computing (the backward pass) while gradients travel; the synchronous
 * methods of {@link Communicator} queue behind what is pending and wait. Since every rank submits
 * the same operations in the same order, the wrapped communicator sees the sequence it requires.
 *
 * <p>The thread ends after {@value #IDLE_SECONDS} s without work and starts again with the next
 * operation, so an instance that is simply dropped leaves nothing running. Errors of an
 * asynchronous operation are thrown by {@link Pending#await()}; {@link #abort} goes to the wrapped
 * communicator at once (not queued), so pending operations fail fast.
 *
 * <pre>{@code
 * AsyncCommunicator c = new AsyncCommunicator(comm, "train");
 * AsyncCommunicator.Pending p = c.allReduceAsync(bucket, 0, bucket.length, Communicator.Op.SUM);
 * ... // more work
 * p.await(); // bucket now holds the sum over ranks
 * }</pre>
 */
public final class AsyncCommunicator implements Communicator {
    /** How long the communicator thread waits for work before it ends. */
    static final int IDLE_SECONDS = 10;

    /** An operation submitted to the communicator thread. */
    public interface Pending {
        /**
         * Waits until the operation finished.
         *
         * @throws CommunicatorException (or the operation's own exception) when it failed
         */
        void await();

        /** Whether the operation finished (successfully or not). */
        boolean isDone();
    }

    private final Communicator inner;
    private final ThreadPoolExecutor thread;

    /**
     * @param inner the communicator the operations run on; owned by this instance from now on
     *     (closed by {@link #close()})
     * @param name prefix of the thread's name ({@code name-comm-rank<r>})
     */
    public AsyncCommunicator(Communicator inner, String name) {
        this.inner = inner;
        String threadName = name + "-comm-rank" + inner.rank();
        thread = new ThreadPoolExecutor(1, 1, IDLE_SECONDS, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
        thread.allowCoreThreadTimeOut(true);
    }

    /** The wrapped communicator (its operations must not be called directly while this one is in use). */
    public Communicator inner() {
        return inner;
    }

    /**
     * Runs {@code op} with the wrapped communicator on the communicator thread after everything
     * submitted before it. {@code op} may do more than collectives (e.g. pack a buffer first).
     */
    public Pending submit(Consumer<Communicator> op) {
        Future<?> f = thread.submit(() -> op.accept(inner));
        return new Pending() {
            @Override
            public void await() {
                AsyncCommunicator.await(f, inner);
            }

            @Override
            public boolean isDone() {
                return f.isDone();
            }
        };
    }

    /**
     * Starts {@link #allReduce(float[], int, int, Op)} on the communicator thread. {@code buf}
     * must not be touched until {@link Pending#await()} returned.
     *
     * @throws IllegalArgumentException when off/len are outside buf (checked at once)
     */
    public Pending allReduceAsync(float[] buf, int off, int len, Op op) {
        Communicator.checkRange("allReduce", buf.length, off, len);
        return submit(c -> c.allReduce(buf, off, len, op));
    }

    private static void await(Future<?> f, Communicator inner) {
        try {
            f.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) throw r;
            if (c instanceof Error r) throw r;
            throw new CommunicatorException("rank " + inner.rank() + ": communicator thread failed: " + c, -1, c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            inner.abort(e);
            throw new CommunicatorException("rank " + inner.rank() + ": interrupted while waiting for a collective", inner.rank(), e);
        }
    }

    private void call(Consumer<Communicator> op) {
        submit(op).await();
    }

    @Override
    public int rank() {
        return inner.rank();
    }

    @Override
    public int size() {
        return inner.size();
    }

    @Override
    public Duration timeout() {
        return inner.timeout();
    }

    @Override
    public void allReduce(float[] buf, int off, int len, Op op) {
        Communicator.checkRange("allReduce", buf.length, off, len);
        call(c -> c.allReduce(buf, off, len, op));
    }

    @Override
    public void allReduce(double[] buf, int off, int len, Op op) {
        Communicator.checkRange("allReduce", buf.length, off, len);
        call(c -> c.allReduce(buf, off, len, op));
    }

    /** Queues {@link Communicator#allReduce(List, Op) the tensors' all-reduce} behind what is pending and waits for it. */
    @Override
    public void allReduce(java.util.List<lmu.tensor.Tensor> tensors, Op op) {
        call(c -> c.allReduce(tensors, op));
    }

    @Override
    public void broadcast(float[] buf, int off, int len, int root) {
        call(c -> c.broadcast(buf, off, len, root));
    }

    @Override
    public void broadcast(double[] buf, int off, int len, int root) {
        call(c -> c.broadcast(buf, off, len, root));
    }

    @Override
    public void allGather(float[] send, float[] recv) {
        call(c -> c.allGather(send, recv));
    }

    @Override
    public void allGather(double[] send, double[] recv) {
        call(c -> c.allGather(send, recv));
    }

    @Override
    public void barrier() {
        call(Communicator::barrier);
    }

    /** Aborts the wrapped communicator at once; queued and running operations fail. */
    @Override
    public void abort(Throwable cause) {
        inner.abort(cause);
    }

    /** Lets pending operations finish, stops the thread and closes the wrapped communicator. */
    @Override
    public void close() {
        thread.shutdown();
        try {
            thread.awaitTermination(inner.timeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        thread.shutdownNow();
        inner.close();
    }
}
