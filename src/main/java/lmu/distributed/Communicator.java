package lmu.distributed;

import java.time.Duration;
import java.util.List;
import lmu.tensor.DType;
import lmu.tensor.F32Storage;
import lmu.tensor.Tensor;

/**
 * Collective operations among {@link #size()} ranks. Every rank must call the same operations in
 * the same order with the same lengths; a rank that calls something else, fails, or does not arrive
 * within {@link #timeout()} makes every rank's call throw {@link CommunicatorException} naming
 * that rank, instead of hanging.
 *
 * <p>Arrays are used in place: {@code buf[off .. off + len)}. Implementations reduce in rank order
 * (0, 1, ..., size - 1), so every rank gets bit-identical results and runs are reproducible.
 *
 * <pre>{@code
 * float[] g = ...;                          // this rank's gradient
 * comm.allReduce(g, 0, g.length, Communicator.Op.SUM);
 * if (comm.anyTrue(!finite)) skipStep();    // every rank takes the same branch
 * }</pre>
 */
public interface Communicator extends AutoCloseable {
    /** Reduction of an all-reduce. */
    enum Op { SUM, MAX }

    /** This rank, in [0, size). */
    int rank();

    /** Number of ranks. */
    int size();

    /** How long one operation may wait for the other ranks. */
    Duration timeout();

    /**
     * Replaces {@code buf[off, off + len)} on every rank by the element-wise reduction over ranks.
     *
     * @param buf values, length ≥ off + len; the same len on every rank
     * @throws CommunicatorException when a peer failed, timed out or called another operation
     * @throws IllegalArgumentException when off/len are outside buf
     */
    void allReduce(float[] buf, int off, int len, Op op);

    /** As {@link #allReduce(float[], int, int, Op)}, in float64. */
    void allReduce(double[] buf, int off, int len, Op op);

    /**
     * Replaces each float32 tensor of {@code tensors} by its element-wise reduction over ranks, in
     * place, in the memory where it lives, with no copy through the host: a GPU tensor on the GPU
     * ({@link NcclCommunicator}: NCCL on the device pointer, ordered after the kernels enqueued so
     * far on the stream of the tensor's backend, finished when this returns);
     * a host tensor, or one of a simulated device ({@link HostAddressable}), through its array.
     * Every rank passes the same shapes in the same order.
     *
     * <pre>{@code
     * comm.allReduce(List.of(w1.grad(), w2.grad()), Communicator.Op.SUM); // gradients stay on their GPU
     * }</pre>
     *
     * @param tensors float32 tensors (any shapes), all on this rank's device
     * @throws IllegalArgumentException when a tensor is not float32
     * @throws UnsupportedOperationException when this communicator cannot reach a tensor's memory
     *     (a GPU tensor given to a communicator of host arrays)
     * @throws CommunicatorException as for {@link #allReduce(float[], int, int, Op)}
     */
    default void allReduce(List<Tensor> tensors, Op op) {
        for (Tensor t : tensors) {
            float[] a = hostArray(getClass().getSimpleName(), t);
            allReduce(a, 0, a.length, op);
        }
    }

    /**
     * Copies rank {@code root}'s {@code buf[off, off + len)} into every other rank's.
     *
     * @throws CommunicatorException as for allReduce
     * @throws IllegalArgumentException when root is not a rank or off/len are outside buf
     */
    void broadcast(float[] buf, int off, int len, int root);

    /** As {@link #broadcast(float[], int, int, int)}, in float64. */
    void broadcast(double[] buf, int off, int len, int root);

    /**
     * Gathers every rank's {@code send} into {@code recv}: rank r's values at {@code r * send.length}.
     *
     * @param send this rank's values, the same length on every rank
     * @param recv receives size * send.length values
     * @throws IllegalArgumentException when recv has the wrong length
     */
    void allGather(float[] send, float[] recv);

    /** As {@link #allGather(float[], float[])}, in float64. */
    void allGather(double[] send, double[] recv);

    /** Returns when every rank has called it. */
    void barrier();

    /**
     * Tells the other ranks that this one failed, so their pending and later operations throw
     * (with {@code cause} in the message) instead of waiting for the timeout. Safe to call twice.
     */
    void abort(Throwable cause);

    /** Leaves the group; further operations throw. */
    @Override
    void close();

    default void allReduce(float[] buf, Op op) {
        allReduce(buf, 0, buf.length, op);
    }

    default void allReduce(double[] buf, Op op) {
        allReduce(buf, 0, buf.length, op);
    }

    /** True on every rank when {@code value} is true on at least one (a loss scaler's "found inf", a stop request). */
    default boolean anyTrue(boolean value) {
        double[] v = {value ? 1 : 0};
        allReduce(v, Op.MAX);
        return v[0] > 0;
    }

    /** True on every rank when {@code value} is true on all of them. */
    default boolean allTrue(boolean value) {
        return !anyTrue(!value);
    }

    /**
     * The array holding a float32 tensor's elements: a host tensor's own array, or a simulated
     * device's ({@link HostAddressable}); used by implementations that work on host arrays.
     *
     * @param who the communicator, for messages
     * @throws IllegalArgumentException when the tensor is not float32
     * @throws UnsupportedOperationException when its memory is not on the host (a GPU's)
     */
    static float[] hostArray(String who, Tensor t) {
        if (t.dtype() != DType.F32) {
            throw new IllegalArgumentException(who + ".allReduce: tensors must be float32, got " + t.dtype() + " on " + t.device());
        }
        if (t.storage() instanceof F32Storage f) return f.data();
        if (t.storage() instanceof HostAddressable h) return h.hostArray();
        throw new UnsupportedOperationException(who + ".allReduce: cannot reach the memory of a tensor on " + t.device() + " ("
                + t.storage().getClass().getSimpleName() + "); GPU tensors need NcclCommunicator");
    }

    /** Checks a buffer range, naming the op; used by implementations. */
    static void checkRange(String op, int arrayLength, int off, int len) {
        if (off < 0 || len < 0 || (long) off + len > arrayLength) {
            throw new IllegalArgumentException(op + ": range [off, off + len) must lie in the array of length " + arrayLength
                    + ", got off " + off + ", len " + len);
        }
    }

    /** Checks a root rank; used by implementations. */
    static void checkRoot(String op, int root, int size) {
        if (root < 0 || root >= size) throw new IllegalArgumentException(op + ": root must be in [0, " + size + "), got " + root);
    }
}
