package lmu.backend;

import lmu.tensor.DType;
import lmu.tensor.Tensor;

/**
 * The kernels every device implements. Ops in {@code lmu.ops} check their arguments, allocate
 * outputs through {@link #empty} and call these; the CPU implementation is the reference that every
 * other implementation is held to. Unless stated otherwise, {@code out} is written, not accumulated.
 */
public interface Backend {
    /** A zero-filled tensor on this backend's device. */
    Tensor empty(DType dtype, int... shape);

    void fill(Tensor t, double value);

    /** {@code acc += g} (same shape). */
    void addInPlace(Tensor acc, Tensor g);

    /** {@code a + b} as a new tensor (same shape). */
    Tensor addNew(Tensor a, Tensor b);

    /** {@code out = op(a, b)} with NumPy broadcasting of a and b to out's shape. */
    void binary(BinaryOp op, Tensor out, Tensor a, Tensor b);

    /**
     * Gradient of a broadcast binary op for one operand: {@code out = reduce_to_shape(dOut * d op/d operand)}.
     *
     * @param wrt 0 for a, 1 for b
     */
    void binaryBackward(BinaryOp op, int wrt, Tensor out, Tensor a, Tensor b, Tensor dOut);

    /** {@code out = op(x)}. */
    void unary(UnaryOp op, Tensor out, Tensor x, double param);

    /** {@code dx = op'(x) * dy}; {@code y} is the forward output (used where cheaper). */
    void unaryBackward(UnaryOp op, Tensor dx, Tensor x, Tensor y, Tensor dy, double param);

    /** {@code out} = sum of x over the flagged axes (out has x's rank with 1 on reduced axes). */
    void sumAxes(Tensor out, Tensor x, boolean[] reduce);

    /** {@code out} = x broadcast to out's shape (x has out's rank, 1 on broadcast axes), times scale. */
    void expand(Tensor out, Tensor x, double scale);

    /** Max over one axis: out has 1 on that axis; argmax gets the winning index per output element. */
    void maxAxis(Tensor out, int[] argmax, Tensor x, int axis);

    /** Gradient of {@link #maxAxis}: dx[argmax] = dOut, 0 elsewhere. */
    void maxAxisBackward(Tensor dx, int[] argmax, Tensor dOut, int axis);

    /**
     * {@code out = op(a) · op(b) + beta·out} for 2-D operands or batches of them: a (Ba, M, K)
     * (or (Ba, K, M) when transA), b (Bb, K, N) (or (Bb, N, K)), out (B, M, N) with Ba, Bb in {1, B}.
     */
    void matmul(Tensor out, Tensor a, Tensor b, int batch, int m, int n, int k, boolean transA, boolean transB,
            boolean broadcastA, boolean broadcastB, double beta);

    /** {@code out} = x with axes permuted: out.shape[i] = x.shape[axes[i]]. */
    void permute(Tensor out, Tensor x, int[] axes);

    /**
     * Copies {@code len} positions along {@code axis} from src (from srcStart) to dst (from
     * dstStart); all other dimensions equal. With {@code accumulate} it adds instead of writing.
     */
    void copyAlongAxis(Tensor dst, int dstStart, Tensor src, int srcStart, int len, int axis, boolean accumulate);

    /** Softmax (or log-softmax) over {@code axis}. */
    void softmax(Tensor out, Tensor x, int axis, boolean log);

    /** Gradient of softmax / log-softmax given the forward output y. */
    void softmaxBackward(Tensor dx, Tensor y, Tensor dy, int axis, boolean log);

    /**
     * Layer norm over the last axis of x (rows × C): out = (x − mean)·rstd·w + b; saves mean and
     * rstd (one per row). w and b may be null.
     */
    void layerNorm(Tensor out, Tensor mean, Tensor rstd, Tensor x, Tensor w, Tensor b, double eps);

    /** Gradients of layer norm; dw and db are accumulated (+=), dx written. Any of them may be null. */
    void layerNormBackward(Tensor dx, Tensor dw, Tensor db, Tensor dy, Tensor x, Tensor mean, Tensor rstd, Tensor w);

    /**
     * Inverted dropout with a counter-based mask: element i is kept when
     * {@code Rng.uniform(seed, i) >= p} and then scaled by 1/(1−p). Backward applies the same mask.
     */
    void dropout(Tensor out, Tensor x, double p, long seed);

    /**
     * {@link #dropout(Tensor, Tensor, double, long)} with the seed read from slot {@code slot} of a
     * device-side {@link SeedTable} when the kernel runs, so a captured launch draws the mask of
     * whatever seed the table holds at replay. The default reads the seed to the host first.
     *
     * @param seeds the seed table, float32, on this backend's device
     * @throws IllegalArgumentException when the slot is outside the table
     */
    default void dropout(Tensor out, Tensor x, double p, Tensor seeds, int slot) {
        dropout(out, x, p, SeedTable.read(seeds, slot));
    }

    /**
     * out = where(mask, value, x); mask has {@code maskShape} (numel entries), broadcast to x's
     * shape. Its gradient is the same op with value 0.
     */
    void maskedFill(Tensor out, Tensor x, boolean[] mask, int[] maskShape, double value);

    /** Element-wise cast between compute types. */
    void cast(Tensor out, Tensor x);

    /**
     * 1-D convolution over channels-last input: x (B, T, Cin), weight (Cout, Cin, K), bias (Cout) or
     * null, out (B, Tout, Cout) with Tout = (T + 2·padding − K) / stride + 1.
     */
    void conv1d(Tensor out, Tensor x, Tensor weight, Tensor bias, int stride, int padding);

    /** Gradients of {@link #conv1d}: dx written, dWeight and dBias accumulated; any may be null. */
    void conv1dBackward(Tensor dx, Tensor dWeight, Tensor dBias, Tensor dOut, Tensor x, Tensor weight, int stride, int padding);

    /**
     * The device this backend computes on ({@link Backends} registers an accelerator backend under
     * its device's index); the CPU backend's is {@link lmu.tensor.Device#CPU}.
     */
    default lmu.tensor.Device device() {
        return lmu.tensor.Device.CPU;
    }

    /** Waits until all work enqueued on this backend's device has finished (nothing to wait for on the CPU). */
    default void synchronize() {}

    /**
     * A tensor on this backend's device holding a float32 copy of a host tensor (the CPU backend
     * returns a CPU tensor as it is). Accelerator backends copy through their own staging.
     *
     * @param host a CPU tensor, any shape
     * @throws IllegalArgumentException when {@code host} is not a CPU tensor (accelerator backends)
     */
    default Tensor toDevice(Tensor host) {
        if (!(host.storage() instanceof lmu.tensor.F32Storage || host.storage() instanceof lmu.tensor.F64Storage)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ".toDevice: expected a CPU tensor, got one on "
                    + host.device());
        }
        Tensor t = empty(DType.F32, host.shape());
        ((lmu.tensor.DeviceStorage) t.storage()).fromHost(host.toFloatArray());
        return t;
    }

    /**
     * A host float32 copy of a tensor of this backend's device (waits for pending work); a CPU
     * tensor is returned as it is.
     *
     * @param t a tensor of this backend's device, any shape
     */
    default Tensor toHost(Tensor t) {
        if (t.storage() instanceof lmu.tensor.DeviceStorage d) return Tensor.of(d.toHost(), t.shape());
        return t;
    }

    /**
     * This backend's implementation of a family of fused model kernels ({@code type} is an interface
     * in {@code lmu.backend} whose methods take and return {@link Tensor}s of this backend's device,
     * plus host scalars and int[] lengths). Ops that have a fused form call it through {@link
     * Backends#kernels}; the CPU backend's implementation is the reference.
     *
     * @throws UnsupportedOperationException when this backend has no implementation of {@code type}
     */
    default <T> T kernels(Class<T> type) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + ": no " + type.getSimpleName() + " kernels");
    }

    /** Whether {@link #beginCapture} can work on this backend (a GPU; the CPU runs everything at once). */
    default boolean canCapture() {
        return false;
    }

    /**
     * Starts capturing the work this thread enqueues on this backend's device: from now until
     * {@link #endCapture} or {@link #abortCapture}, launches are recorded, not run, and memory
     * allocated by the captured work is reserved for the graph. Waiting for the device or copying
     * its values to the host is an error while capturing.
     *
     * @throws UnsupportedOperationException when the backend cannot capture ({@link #canCapture} is false)
     * @throws IllegalStateException when a capture is already under way
     */
    default void beginCapture() {
        throw new UnsupportedOperationException(getClass().getSimpleName() + ": no graph capture on this device");
    }

    /**
     * Ends the capture and returns the captured work, not yet run: {@link StepGraph#replay} runs it.
     *
     * @throws IllegalStateException when no capture is under way or the captured work cannot be replayed
     *     (the message says why); the capture is over either way
     */
    default StepGraph endCapture() {
        throw new UnsupportedOperationException(getClass().getSimpleName() + ": no graph capture on this device");
    }

    /** Ends a capture that failed, dropping what was captured; does nothing when none is under way. */
    default void abortCapture() {}
}
