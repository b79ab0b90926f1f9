package lmu.tensor;

import java.util.Arrays;
import lmu.autograd.Backward;
import lmu.autograd.Node;
import lmu.ops.*;
import lmu.util.Rng;

/**
 * An n-dimensional array with reverse-mode autograd. Storage is always contiguous row-major;
 * {@link #reshape} shares it, every other op returns a new tensor. Ops record a graph node when
 * grad mode is on and an input requires grad; {@link #backward()} walks that graph.
 *
 * <pre>
 * jshell> var w = Tensor.of(new float[] {1, 2, 3}, 3).requiresGrad(true);
 * jshell> w.mul(w).sum().backward();  w.grad()
 * $3 ==> Tensor[3] f32 {2.0, 4.0, 6.0}
 * </pre>
 */
public final class Tensor {
    private final int[] shape;
    private Storage storage;
    private Device device;
    private boolean requiresGrad;
    private Tensor grad;
    private Node node;
    private String name;

    public Tensor(Storage storage, int[] shape) {
        this(storage, shape, Device.CPU);
    }

    public Tensor(Storage storage, int[] shape, Device device) {
        int n = Shape.numel(shape);
        if (n != storage.size()) {
            throw new IllegalArgumentException("Tensor: shape " + Arrays.toString(shape) + " needs " + n
                    + " elements, storage has " + storage.size());
        }
        this.storage = storage;
        this.shape = shape.clone();
        this.device = device;
    }

    // ---------------------------------------------------------------- factories

    public static Tensor zeros(DType dtype, int... shape) {
        return new Tensor(Storage.allocate(dtype, Shape.numel(shape)), shape);
    }

    public static Tensor zeros(int... shape) {
        return zeros(DType.F32, shape);
    }

    public static Tensor full(DType dtype, double value, int... shape) {
        Tensor t = zeros(dtype, shape);
        t.storage.fill(value);
        return t;
    }

    public static Tensor ones(int... shape) {
        return full(DType.F32, 1, shape);
    }

    public static Tensor scalar(double v) {
        return full(DType.F32, v);
    }

    /** Wraps {@code data} (not copied) as a float32 tensor. */
    public static Tensor of(float[] data, int... shape) {
        return new Tensor(new F32Storage(data), shape);
    }

    /** Wraps {@code data} (not copied) as a float64 tensor. */
    public static Tensor of(double[] data, int... shape) {
        return new Tensor(new F64Storage(data), shape);
    }

    /** Standard normal entries scaled by {@code std}. */
    public static Tensor randn(Rng rng, DType dtype, double std, int... shape) {
        Tensor t = zeros(dtype, shape);
        for (int i = 0; i < t.numel(); i++) t.storage.set(i, std * rng.nextGaussian());
        return t;
    }

    /** Uniform entries in [lo, hi). */
    public static Tensor uniform(Rng rng, DType dtype, double lo, double hi, int... shape) {
        Tensor t = zeros(dtype, shape);
        for (int i = 0; i < t.numel(); i++) t.storage.set(i, lo + (hi - lo) * rng.nextDouble());
        return t;
    }

    // ---------------------------------------------------------------- properties

    public int[] shape() {
        return shape.clone();
    }

    public int dim(int axis) {
        return shape[Shape.axis(axis, shape.length, "Tensor.dim")];
    }

    public int rank() {
        return shape.length;
    }

    public int numel() {
        return storage.size();
    }

    public DType dtype() {
        return storage.dtype();
    }

    public Device device() {
        return device;
    }

    public Storage storage() {
        return storage;
    }

    /** The backing float array of an F32 tensor (shared, not a copy). */
    public float[] f32() {
        if (!(storage instanceof F32Storage s)) throw new IllegalStateException("Tensor: f32() on a " + dtype() + " tensor" + where());
        return s.data();
    }

    /** For the array accessors' errors: a device tensor has no host array. */
    private String where() {
        return device.kind() == Device.Kind.CPU ? ""
                : " on " + device + " (device memory has no host array: use its backend's kernels, or copy with Backends.to(t, Device.CPU))";
    }

    /** The backing double array of an F64 tensor (shared, not a copy). */
    public double[] f64() {
        if (!(storage instanceof F64Storage s)) throw new IllegalStateException("Tensor: f64() on a " + dtype() + " tensor" + where());
        return s.data();
    }

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Marks a leaf as a parameter (or input) whose gradient {@link #backward()} fills. */
    public Tensor requiresGrad(boolean value) {
        if (node != null && !value) {
            throw new IllegalStateException("Tensor: cannot clear requiresGrad on a non-leaf; use detach()");
        }
        this.requiresGrad = value;
        return this;
    }

    /** Accumulated gradient of a leaf, or null before the first backward pass. */
    public Tensor grad() {
        return grad;
    }

    public void setGrad(Tensor g) {
        if (g != null && !Arrays.equals(g.shape, shape)) {
            throw new IllegalArgumentException("Tensor: gradient shape " + Arrays.toString(g.shape)
                    + " does not match tensor shape " + Arrays.toString(shape));
        }
        this.grad = g;
    }

    public void zeroGrad() {
        this.grad = null;
    }

    public Node node() {
        return node;
    }

    /** Set by {@link lmu.autograd.Function#apply}; not for general use. */
    public void attach(Node n) {
        this.node = n;
        this.requiresGrad = true;
    }

    public String name() {
        return name;
    }

    public Tensor named(String n) {
        this.name = n;
        return this;
    }

    /**
     * Moves this leaf (a parameter) to {@code target} in place: its storage is replaced by a
     * float32 copy there (nothing happens when it is there already) and its gradient is dropped.
     * The tensor object stays the same, so layers and optimizers holding it see the move; an
     * optimizer's state made before the move stays where it was.
     *
     * @throws IllegalStateException for a tensor computed by an op (not a leaf), or when no
     *     backend is registered for {@code target}
     */
    public void moveTo(Device target) {
        if (node != null) throw new IllegalStateException("Tensor: moveTo on a computed tensor; only leaves (parameters) move");
        if (device.equals(target)) return;
        Tensor moved = lmu.backend.Backends.to(this, target);
        this.storage = moved.storage;
        this.device = moved.device;
        this.grad = null;
    }

    /** The same data cut from the graph. */
    public Tensor detach() {
        return new Tensor(storage, shape, device);
    }

    /** A deep copy, cut from the graph. */
    public Tensor copy() {
        return new Tensor(storage.copy(), shape, device);
    }

    /** Value of a one-element tensor. */
    public double item() {
        if (numel() != 1) throw new IllegalStateException("Tensor: item() needs one element, shape is " + Arrays.toString(shape));
        return storage.get(0);
    }

    /** Element at a full index. */
    public double get(int... idx) {
        return storage.get(offset(idx));
    }

    public void set(double v, int... idx) {
        storage.set(offset(idx), v);
    }

    private int offset(int[] idx) {
        if (idx.length != shape.length) {
            throw new IllegalArgumentException("Tensor: index " + Arrays.toString(idx) + " has rank " + idx.length + ", tensor rank " + shape.length);
        }
        int off = 0;
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= shape[i]) {
                throw new IndexOutOfBoundsException("Tensor: index " + Arrays.toString(idx) + " out of bounds for shape " + Arrays.toString(shape));
            }
            off = off * shape[i] + idx[i];
        }
        return off;
    }

    /** A float32 copy of the elements. */
    public float[] toFloatArray() {
        float[] out = new float[numel()];
        for (int i = 0; i < out.length; i++) out[i] = (float) storage.get(i);
        return out;
    }

    /** A float64 copy of the elements. */
    public double[] toDoubleArray() {
        double[] out = new double[numel()];
        for (int i = 0; i < out.length; i++) out[i] = storage.get(i);
        return out;
    }

    /** This tensor converted to {@code dtype} (a new tensor; differentiable). */
    public Tensor to(DType dtype) {
        return dtype == dtype() ? this : Cast.apply(this, dtype);
    }

    // ---------------------------------------------------------------- autograd

    /** Backpropagates from a scalar (one-element) tensor. */
    public void backward() {
        backward((Backward.LeafListener) null);
    }

    /**
     * As {@link #backward()}, telling {@code listener} as each leaf's gradient becomes final (e.g.
     * to start a data-parallel all-reduce while backward goes on).
     *
     * @param listener told of each leaf that got a gradient; null for none
     */
    public void backward(Backward.LeafListener listener) {
        if (numel() != 1) {
            throw new IllegalStateException("Tensor: backward() without a gradient needs a one-element tensor, shape is "
                    + Arrays.toString(shape));
        }
        Tensor seed;
        if (device.kind() == Device.Kind.CPU) {
            seed = full(dtype(), 1.0, shape);
        } else { // the seed lives where the graph does
            seed = lmu.backend.Backends.of(device).empty(dtype(), shape);
            lmu.backend.Backends.of(device).fill(seed, 1.0);
        }
        Backward.run(this, seed, false, listener);
    }

    /** Backpropagates {@code seed} (same shape as this). */
    public void backward(Tensor seed) {
        Backward.run(this, seed, false);
    }

    // ---------------------------------------------------------------- ops (see lmu.ops for the math)

    public Tensor add(Tensor o) { return Add.apply(this, o); }
    public Tensor sub(Tensor o) { return Sub.apply(this, o); }
    public Tensor mul(Tensor o) { return Mul.apply(this, o); }
    public Tensor div(Tensor o) { return Div.apply(this, o); }
    public Tensor add(double c) { return AddScalar.apply(this, c); }
    public Tensor mul(double c) { return Scale.apply(this, c); }
    public Tensor neg() { return Scale.apply(this, -1); }
    public Tensor matmul(Tensor o) { return MatMul.apply(this, o, false, false); }
    public Tensor relu() { return Relu.apply(this); }
    public Tensor gelu() { return Gelu.apply(this); }
    public Tensor tanh() { return Tanh.apply(this); }
    public Tensor sigmoid() { return Sigmoid.apply(this); }
    public Tensor exp() { return Exp.apply(this); }
    public Tensor log() { return Log.apply(this); }
    public Tensor sum() { return Sum.apply(this, null, false); }
    public Tensor sum(int axis, boolean keepDim) { return Sum.apply(this, new int[] {axis}, keepDim); }
    public Tensor mean() { return Mean.apply(this, null, false); }
    public Tensor mean(int axis, boolean keepDim) { return Mean.apply(this, new int[] {axis}, keepDim); }
    public Tensor max(int axis, boolean keepDim) { return Max.apply(this, axis, keepDim); }
    public Tensor reshape(int... newShape) { return Reshape.apply(this, newShape); }
    public Tensor transpose(int a, int b) { return Permute.transpose(this, a, b); }
    public Tensor permute(int... axes) { return Permute.apply(this, axes); }
    public Tensor slice(int axis, int start, int end) { return Slice.apply(this, axis, start, end); }
    public Tensor pad(int axis, int before, int after, double value) { return Pad.apply(this, axis, before, after, value); }
    public Tensor softmax(int axis) { return Softmax.apply(this, axis); }
    public Tensor logSoftmax(int axis) { return LogSoftmax.apply(this, axis); }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Tensor").append(Arrays.toString(shape)).append(' ')
                .append(dtype().name().toLowerCase(java.util.Locale.ROOT));
        if (device.kind() != Device.Kind.CPU) sb.append(' ').append(device);
        sb.append(" {");
        int n = Math.min(numel(), 8);
        for (int i = 0; i < n; i++) sb.append(i == 0 ? "" : ", ").append(storage.get(i));
        if (numel() > n) sb.append(", …");
        return sb.append('}').toString();
    }
}
