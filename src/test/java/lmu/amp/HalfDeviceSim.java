package lmu.amp;

import lmu.backend.Backend;
import lmu.backend.BinaryOp;
import lmu.backend.UnaryOp;
import lmu.backend.cpu.CpuBackend;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.DeviceStorage;
import lmu.tensor.HalfFloats;
import lmu.tensor.Shape;
import lmu.tensor.Storage;
import lmu.tensor.Tensor;

/**
 * A test-only device with real 16-bit storage (values kept as the float32 they decode to) and the
 * dtype contract of {@code CudaBackend}: f32, f16 and bf16 tensors; cast between any two; products
 * of two operands of one dtype into f32 or that dtype; addNew, addInPlace and sumAxes on any of
 * them; every other op on f32 only. Each op computes on the CPU backend and rounds what it stores.
 * Lets the device side of {@link Autocast} be tested without a GPU.
 */
final class HalfDeviceSim implements Backend {
    static final Device DEVICE = Device.cuda(5);

    @Override
    public Device device() {
        return DEVICE;
    }

    private static final CpuBackend CPU = CpuBackend.INSTANCE;
    /** Elements allocated so far, per dtype: what the policy stores. */
    final long[] allocated = new long[DType.values().length];

    /** Storage of one dtype whose values are always representable in it. */
    static final class SimStorage extends DeviceStorage {
        final DType dtype;
        final float[] v;

        SimStorage(DType dtype, int n) {
            this.dtype = dtype;
            this.v = new float[n];
        }

        private float r(double x) {
            return dtype == DType.F32 ? (float) x : HalfFloats.decode(dtype, HalfFloats.encode(dtype, (float) x));
        }

        @Override public Device device() { return DEVICE; }
        @Override public float[] toHost() { return v.clone(); }
        @Override public void fromHost(float[] src) { for (int i = 0; i < v.length; i++) v[i] = r(src[i]); }
        @Override public DType dtype() { return dtype; }
        @Override public int size() { return v.length; }
        @Override public double get(int i) { return v[i]; }
        @Override public void set(int i, double x) { v[i] = r(x); }
        @Override public void add(int i, double x) { v[i] = r(v[i] + x); }
        @Override public Storage like(int size) { return new SimStorage(dtype, size); }
        @Override public Storage copy() { SimStorage s = new SimStorage(dtype, v.length); System.arraycopy(v, 0, s.v, 0, v.length); return s; }
        @Override public void fill(double x) { java.util.Arrays.fill(v, r(x)); }
    }

    private static SimStorage sim(Tensor t, String op, boolean anyDtype) {
        if (!(t.storage() instanceof SimStorage s)) throw new IllegalArgumentException("sim." + op + ": not a sim tensor");
        if (!anyDtype && s.dtype != DType.F32) throw new IllegalArgumentException("sim." + op + ": f32 only, got " + s.dtype);
        return s;
    }

    /** A CPU f32 view of the values (copied). */
    private static Tensor cpu(Tensor t, String op, boolean anyDtype) {
        return t == null ? null : Tensor.of(sim(t, op, anyDtype).v.clone(), t.shape());
    }

    private static void store(Tensor out, Tensor cpu) {
        SimStorage s = (SimStorage) out.storage();
        s.fromHost(cpu.f32());
    }

    @Override
    public Tensor empty(DType dtype, int... shape) {
        if (dtype == DType.F64) throw new IllegalArgumentException("sim.empty: no f64");
        allocated[dtype.ordinal()] += Shape.numel(shape);
        return new Tensor(new SimStorage(dtype, Shape.numel(shape)), shape, DEVICE);
    }

    @Override public void fill(Tensor t, double value) { sim(t, "fill", true).fill(value); }

    @Override
    public void addInPlace(Tensor acc, Tensor g) {
        Tensor a = cpu(acc, "addInPlace", true);
        CPU.addInPlace(a, cpu(g, "addInPlace", true));
        store(acc, a);
    }

    @Override
    public Tensor addNew(Tensor a, Tensor b) {
        Tensor out = empty(a.dtype(), a.shape());
        store(out, CPU.addNew(cpu(a, "addNew", true), cpu(b, "addNew", true)));
        return out;
    }

    @Override
    public void binary(BinaryOp op, Tensor out, Tensor a, Tensor b) {
        Tensor o = cpu(out, "binary", false);
        CPU.binary(op, o, cpu(a, "binary", false), cpu(b, "binary", false));
        store(out, o);
    }

    @Override
    public void binaryBackward(BinaryOp op, int wrt, Tensor out, Tensor a, Tensor b, Tensor dOut) {
        Tensor o = cpu(out, "binaryBackward", false);
        CPU.binaryBackward(op, wrt, o, cpu(a, "binaryBackward", false), cpu(b, "binaryBackward", false), cpu(dOut, "binaryBackward", false));
        store(out, o);
    }

    @Override
    public void unary(UnaryOp op, Tensor out, Tensor x, double param) {
        Tensor o = cpu(out, "unary", false);
        CPU.unary(op, o, cpu(x, "unary", false), param);
        store(out, o);
    }

    @Override
    public void unaryBackward(UnaryOp op, Tensor dx, Tensor x, Tensor y, Tensor dy, double param) {
        Tensor o = cpu(dx, "unaryBackward", false);
        CPU.unaryBackward(op, o, cpu(x, "unaryBackward", false), cpu(y, "unaryBackward", false), cpu(dy, "unaryBackward", false), param);
        store(dx, o);
    }

    @Override
    public void sumAxes(Tensor out, Tensor x, boolean[] reduce) {
        Tensor o = cpu(out, "sumAxes", true);
        CPU.sumAxes(o, cpu(x, "sumAxes", true), reduce);
        store(out, o);
    }

    @Override
    public void expand(Tensor out, Tensor x, double scale) {
        Tensor o = cpu(out, "expand", false);
        CPU.expand(o, cpu(x, "expand", false), scale);
        store(out, o);
    }

    @Override
    public void matmul(Tensor out, Tensor a, Tensor b, int batch, int m, int n, int k, boolean transA, boolean transB,
            boolean broadcastA, boolean broadcastB, double beta) {
        if (a.dtype() != b.dtype() || (out.dtype() != DType.F32 && out.dtype() != a.dtype())) {
            throw new IllegalArgumentException("sim.matmul: " + a.dtype() + "·" + b.dtype() + " -> " + out.dtype());
        }
        Tensor o = cpu(out, "matmul", true);
        CPU.matmul(o, cpu(a, "matmul", true), cpu(b, "matmul", true), batch, m, n, k, transA, transB, broadcastA, broadcastB, beta);
        store(out, o);
    }

    @Override
    public void permute(Tensor out, Tensor x, int[] axes) {
        Tensor o = cpu(out, "permute", false);
        CPU.permute(o, cpu(x, "permute", false), axes);
        store(out, o);
    }

    @Override
    public void cast(Tensor out, Tensor x) {
        store(out, cpu(x, "cast", true)); // rounding to out's dtype happens on store
    }

    @Override public void maxAxis(Tensor out, int[] argmax, Tensor x, int axis) { throw new UnsupportedOperationException(); }
    @Override public void maxAxisBackward(Tensor dx, int[] argmax, Tensor dOut, int axis) { throw new UnsupportedOperationException(); }
    @Override public void copyAlongAxis(Tensor d, int ds, Tensor s, int ss, int len, int axis, boolean acc) { throw new UnsupportedOperationException(); }
    @Override public void softmax(Tensor out, Tensor x, int axis, boolean log) { throw new UnsupportedOperationException(); }
    @Override public void softmaxBackward(Tensor dx, Tensor y, Tensor dy, int axis, boolean log) { throw new UnsupportedOperationException(); }
    @Override public void layerNorm(Tensor o, Tensor m, Tensor r, Tensor x, Tensor w, Tensor b, double eps) { throw new UnsupportedOperationException(); }
    @Override public void layerNormBackward(Tensor dx, Tensor dw, Tensor db, Tensor dy, Tensor x, Tensor m, Tensor r, Tensor w) { throw new UnsupportedOperationException(); }
    @Override public void dropout(Tensor out, Tensor x, double p, long seed) { throw new UnsupportedOperationException(); }
    @Override public void maskedFill(Tensor out, Tensor x, boolean[] mask, int[] maskShape, double value) { throw new UnsupportedOperationException(); }
    @Override public void conv1d(Tensor out, Tensor x, Tensor w, Tensor b, int stride, int padding) { throw new UnsupportedOperationException(); }
    @Override public void conv1dBackward(Tensor dx, Tensor dw, Tensor db, Tensor dOut, Tensor x, Tensor w, int stride, int padding) { throw new UnsupportedOperationException(); }
}
