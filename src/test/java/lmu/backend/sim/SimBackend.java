package lmu.backend.sim;

import java.lang.reflect.Array;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.backend.BinaryOp;
import lmu.backend.UnaryOp;
import lmu.backend.cpu.CpuBackend;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.F32Storage;
import lmu.tensor.Shape;
import lmu.tensor.Tensor;

/**
 * A test-only stand-in for a GPU: a {@link Backend} for {@code Device.cuda(N)} whose tensors hold
 * their elements in {@link SimStorage}, with the CUDA backend's dtype contract: every op computes on
 * F32 tensors; F16 and BF16 tensors (mixed-precision operands and their gradients, stored rounded
 * to 16 bits) are taken by {@link #cast}, {@link #matmul} (both operands of one format, result F32
 * or that format), {@link #fill}, {@link #addInPlace}, {@link #addNew} and {@link #sumAxes}, and
 * refused elsewhere. Every op is handed to
 * {@link CpuBackend#INSTANCE} on zero-copy CPU aliases of the arrays, so results equal the CPU's bit
 * for bit, while code that treats a device tensor as a host array ({@code Tensor.f32()}) fails as it
 * would on a GPU, and passing a CPU tensor to a device op is refused as the CUDA backend refuses it.
 * Fused kernel families ({@link #kernels}) are proxies over the CPU backend's implementations that
 * map simulated tensors to aliases and the CPU tensors they return back to simulated ones (also
 * inside arrays, lists and records).
 *
 * <pre>{@code
 * try (SimBackend sim = SimBackend.install(0)) {   // registered as the CUDA backend
 *     Tensor x = sim.toDevice(Tensor.of(new float[] {1, 2}, 2));
 * }                                                 // unregistered
 * }</pre>
 */
public final class SimBackend implements Backend, AutoCloseable {
    private final Device device;
    private final java.util.concurrent.atomic.AtomicLongArray allocated =
            new java.util.concurrent.atomic.AtomicLongArray(DType.values().length);
    private final java.util.concurrent.atomic.AtomicLong hostCopies = new java.util.concurrent.atomic.AtomicLong();

    public SimBackend(Device device) {
        if (device.kind() != Device.Kind.CUDA) {
            throw new IllegalArgumentException("SimBackend: device must be cuda:N, got " + device);
        }
        this.device = device;
    }

    /**
     * A simulated {@code cuda:index}, registered with {@link Backends} for that index until {@link
     * #close()}; several indices may be installed at once (one per rank of a multi-device test).
     */
    public static SimBackend install(int index) {
        SimBackend b = new SimBackend(Device.cuda(index));
        Backends.registerCuda(b);
        return b;
    }

    /** Unregisters this backend if it is the CUDA backend registered for its index. */
    @Override
    public void close() {
        Backends.unregisterCuda(this);
    }

    @Override
    public Device device() {
        return device;
    }

    /** Elements of this device's tensors copied to the host ({@link SimStorage#toHost()}) so far. */
    public long hostCopies() {
        return hostCopies.get();
    }

    void countHostCopy(int elements) {
        hostCopies.addAndGet(elements);
    }

    /** Elements of {@code dtype} allocated by {@link #empty} so far (what a precision policy stores). */
    public long allocated(DType dtype) {
        return allocated.get(dtype.ordinal());
    }

    // ------------------------------------------------------------------ host <-> device

    /** A simulated-device tensor holding a float32 copy of a host tensor. */
    @Override
    public Tensor toDevice(Tensor host) {
        if (host.storage() instanceof SimStorage) {
            throw new IllegalArgumentException("SimBackend.toDevice: the tensor is already on " + host.device());
        }
        return wrap(host.toFloatArray(), host.shape());
    }

    /** A host float32 copy of a simulated-device tensor (16-bit values widened exactly). */
    @Override
    public Tensor toHost(Tensor t) {
        return Tensor.of(storageAny(t, "toHost", "t").toHost(), t.shape());
    }

    /** A simulated-device tensor over {@code data} (not copied). */
    Tensor wrap(float[] data, int... shape) {
        return new Tensor(new SimStorage(this, data), shape, device);
    }

    // ------------------------------------------------------------------ aliases

    private SimStorage storage(Tensor t, String op, String arg) {
        SimStorage s = storageAny(t, op, arg);
        if (s.dtype() != DType.F32) {
            throw new IllegalArgumentException("SimBackend." + op + ": " + arg + " must be an f32 tensor on " + device + ", got "
                    + s.dtype().name().toLowerCase(java.util.Locale.ROOT) + " (16-bit tensors are taken by cast, matmul, fill,"
                    + " addInPlace, addNew and sumAxes only)");
        }
        return s;
    }

    /** A tensor of this backend of any of its dtypes (F32, F16, BF16). */
    private SimStorage storageAny(Tensor t, String op, String arg) {
        if (t == null) throw new IllegalArgumentException("SimBackend." + op + ": " + arg + " must not be null");
        if (!(t.storage() instanceof SimStorage s) || s.backend() != this) {
            throw new IllegalArgumentException("SimBackend." + op + ": " + arg + " must be an f32 tensor on " + device
                    + " of this backend, got " + t.dtype().name().toLowerCase(java.util.Locale.ROOT) + " on " + t.device()
                    + " (" + t.storage().getClass().getSimpleName() + ")");
        }
        return s;
    }

    /** A CPU tensor sharing the elements of a simulated F32 tensor. */
    private Tensor cpu(Tensor t, String op, String arg) {
        return new Tensor(new F32Storage(storage(t, op, arg).data()), t.shape());
    }

    /** A CPU F32 tensor sharing the (decoded) elements of a simulated tensor of any dtype. */
    private Tensor cpuAny(Tensor t, String op, String arg) {
        return new Tensor(new F32Storage(storageAny(t, op, arg).data()), t.shape());
    }

    /** Rounds what a CPU op wrote into a 16-bit tensor's array to its format. */
    private static void rounded(Tensor t) {
        ((SimStorage) t.storage()).roundAll();
    }

    private Tensor cpuOrNull(Tensor t, String op, String arg) {
        return t == null ? null : cpu(t, op, arg);
    }

    /** A simulated tensor sharing the elements of a CPU float32 tensor (other CPU tensors are copied as float32). */
    private Tensor fromCpu(Tensor t) {
        float[] a = t.storage() instanceof F32Storage f ? f.data() : t.toFloatArray();
        return wrap(a, t.shape());
    }

    // ------------------------------------------------------------------ Backend

    private static final CpuBackend CPU = CpuBackend.INSTANCE;

    @Override
    public Tensor empty(DType dtype, int... shape) {
        if (dtype != DType.F32 && dtype != DType.F16 && dtype != DType.BF16) {
            throw new IllegalArgumentException("SimBackend.empty: f32, f16 and bf16 tensors live on " + device + ", got " + dtype);
        }
        int n = Shape.numel(shape);
        allocated.addAndGet(dtype.ordinal(), n);
        return new Tensor(new SimStorage(this, dtype, new float[n]), shape, device);
    }

    @Override
    public void fill(Tensor t, double value) {
        storageAny(t, "fill", "t").fill(value);
    }

    @Override
    public void addInPlace(Tensor acc, Tensor g) {
        CPU.addInPlace(cpuAny(acc, "addInPlace", "acc"), cpuAny(g, "addInPlace", "g"));
        rounded(acc);
    }

    @Override
    public Tensor addNew(Tensor a, Tensor b) {
        Tensor sum = CPU.addNew(cpuAny(a, "addNew", "a"), cpuAny(b, "addNew", "b"));
        Tensor out = new Tensor(new SimStorage(this, a.dtype(), sum.f32()), a.shape(), device);
        rounded(out);
        return out;
    }

    @Override
    public void binary(BinaryOp op, Tensor out, Tensor a, Tensor b) {
        CPU.binary(op, cpu(out, "binary", "out"), cpu(a, "binary", "a"), cpu(b, "binary", "b"));
    }

    @Override
    public void binaryBackward(BinaryOp op, int wrt, Tensor out, Tensor a, Tensor b, Tensor dOut) {
        String n = "binaryBackward";
        CPU.binaryBackward(op, wrt, cpu(out, n, "out"), cpu(a, n, "a"), cpu(b, n, "b"), cpu(dOut, n, "dOut"));
    }

    @Override
    public void unary(UnaryOp op, Tensor out, Tensor x, double param) {
        CPU.unary(op, cpu(out, "unary", "out"), cpu(x, "unary", "x"), param);
    }

    @Override
    public void unaryBackward(UnaryOp op, Tensor dx, Tensor x, Tensor y, Tensor dy, double param) {
        String n = "unaryBackward";
        CPU.unaryBackward(op, cpu(dx, n, "dx"), cpuOrNull(x, n, "x"), cpuOrNull(y, n, "y"), cpu(dy, n, "dy"), param);
    }

    @Override
    public void sumAxes(Tensor out, Tensor x, boolean[] reduce) {
        CPU.sumAxes(cpuAny(out, "sumAxes", "out"), cpuAny(x, "sumAxes", "x"), reduce);
        rounded(out);
    }

    @Override
    public void expand(Tensor out, Tensor x, double scale) {
        CPU.expand(cpu(out, "expand", "out"), cpu(x, "expand", "x"), scale);
    }

    @Override
    public void maxAxis(Tensor out, int[] argmax, Tensor x, int axis) {
        CPU.maxAxis(cpu(out, "maxAxis", "out"), argmax, cpu(x, "maxAxis", "x"), axis);
    }

    @Override
    public void maxAxisBackward(Tensor dx, int[] argmax, Tensor dOut, int axis) {
        CPU.maxAxisBackward(cpu(dx, "maxAxisBackward", "dx"), argmax, cpu(dOut, "maxAxisBackward", "dOut"), axis);
    }

    @Override
    public void matmul(Tensor out, Tensor a, Tensor b, int batch, int m, int n, int k, boolean transA, boolean transB,
            boolean broadcastA, boolean broadcastB, double beta) {
        if (a.dtype() != b.dtype() || (out.dtype() != DType.F32 && out.dtype() != a.dtype())) {
            throw new IllegalArgumentException("SimBackend.matmul: a and b must share a dtype and out be f32 or that dtype, got "
                    + a.dtype() + ", " + b.dtype() + " -> " + out.dtype());
        }
        // 16-bit operands hold exactly representable values: the product accumulates in fp32 as a tensor core does
        CPU.matmul(cpuAny(out, "matmul", "out"), cpuAny(a, "matmul", "a"), cpuAny(b, "matmul", "b"), batch, m, n, k, transA,
                transB, broadcastA, broadcastB, beta);
        rounded(out);
    }

    @Override
    public void permute(Tensor out, Tensor x, int[] axes) {
        CPU.permute(cpu(out, "permute", "out"), cpu(x, "permute", "x"), axes);
    }

    @Override
    public void copyAlongAxis(Tensor dst, int dstStart, Tensor src, int srcStart, int len, int axis, boolean accumulate) {
        CPU.copyAlongAxis(cpu(dst, "copyAlongAxis", "dst"), dstStart, cpu(src, "copyAlongAxis", "src"), srcStart, len, axis,
                accumulate);
    }

    @Override
    public void softmax(Tensor out, Tensor x, int axis, boolean log) {
        CPU.softmax(cpu(out, "softmax", "out"), cpu(x, "softmax", "x"), axis, log);
    }

    @Override
    public void softmaxBackward(Tensor dx, Tensor y, Tensor dy, int axis, boolean log) {
        String n = "softmaxBackward";
        CPU.softmaxBackward(cpu(dx, n, "dx"), cpu(y, n, "y"), cpu(dy, n, "dy"), axis, log);
    }

    @Override
    public void layerNorm(Tensor out, Tensor mean, Tensor rstd, Tensor x, Tensor w, Tensor b, double eps) {
        String n = "layerNorm";
        CPU.layerNorm(cpu(out, n, "out"), cpu(mean, n, "mean"), cpu(rstd, n, "rstd"), cpu(x, n, "x"), cpuOrNull(w, n, "w"),
                cpuOrNull(b, n, "b"), eps);
    }

    @Override
    public void layerNormBackward(Tensor dx, Tensor dw, Tensor db, Tensor dy, Tensor x, Tensor mean, Tensor rstd, Tensor w) {
        String n = "layerNormBackward";
        CPU.layerNormBackward(cpuOrNull(dx, n, "dx"), cpuOrNull(dw, n, "dw"), cpuOrNull(db, n, "db"), cpu(dy, n, "dy"),
                cpu(x, n, "x"), cpu(mean, n, "mean"), cpu(rstd, n, "rstd"), cpuOrNull(w, n, "w"));
    }

    @Override
    public void dropout(Tensor out, Tensor x, double p, long seed) {
        CPU.dropout(cpu(out, "dropout", "out"), cpu(x, "dropout", "x"), p, seed);
    }

    @Override
    public void maskedFill(Tensor out, Tensor x, boolean[] mask, int[] maskShape, double value) {
        CPU.maskedFill(cpu(out, "maskedFill", "out"), cpu(x, "maskedFill", "x"), mask, maskShape, value);
    }

    @Override
    public void cast(Tensor out, Tensor x) {
        CPU.cast(cpuAny(out, "cast", "out"), cpuAny(x, "cast", "x"));
        rounded(out);
    }

    @Override
    public void conv1d(Tensor out, Tensor x, Tensor weight, Tensor bias, int stride, int padding) {
        String n = "conv1d";
        CPU.conv1d(cpu(out, n, "out"), cpu(x, n, "x"), cpu(weight, n, "weight"), cpuOrNull(bias, n, "bias"), stride, padding);
    }

    @Override
    public void conv1dBackward(Tensor dx, Tensor dWeight, Tensor dBias, Tensor dOut, Tensor x, Tensor weight, int stride,
            int padding) {
        String n = "conv1dBackward";
        CPU.conv1dBackward(cpuOrNull(dx, n, "dx"), cpuOrNull(dWeight, n, "dWeight"), cpuOrNull(dBias, n, "dBias"),
                cpu(dOut, n, "dOut"), cpu(x, n, "x"), cpu(weight, n, "weight"), stride, padding);
    }

    // ------------------------------------------------------------------ fused kernel families

    /**
     * A proxy over the CPU backend's {@code type} kernels: simulated tensors among the arguments
     * (also inside arrays, lists and records) become CPU aliases, CPU tensors in the result become
     * simulated tensors over the same arrays. A CPU tensor passed in is refused, as on a GPU.
     *
     * @throws UnsupportedOperationException when the CPU backend has no {@code type} kernels
     */
    @Override
    public <T> T kernels(Class<T> type) {
        T cpu = CPU.kernels(type);
        InvocationHandler h = (proxy, method, args) -> {
            if (method.getDeclaringClass() == Object.class) {
                return switch (method.getName()) {
                    case "toString" -> "SimBackend " + type.getSimpleName() + " on " + device;
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> throw new UnsupportedOperationException(method.getName());
                };
            }
            Object[] mapped = args == null ? null : new Object[args.length];
            for (int i = 0; mapped != null && i < args.length; i++) {
                mapped[i] = toCpu(args[i], type.getSimpleName() + "." + method.getName(), "argument " + i);
            }
            try {
                return toSim(method.invoke(cpu, mapped));
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, h));
    }

    private Object toCpu(Object o, String op, String arg) {
        if (o instanceof Tensor t) return cpu(t, op, arg);
        if (o instanceof Tensor[] ts) {
            Tensor[] r = new Tensor[ts.length];
            for (int i = 0; i < ts.length; i++) r[i] = ts[i] == null ? null : cpu(ts[i], op, arg + "[" + i + "]");
            return r;
        }
        if (o instanceof List<?> l) {
            List<Object> r = new ArrayList<>(l.size());
            for (int i = 0; i < l.size(); i++) r.add(toCpu(l.get(i), op, arg + "[" + i + "]"));
            return r;
        }
        if (o instanceof Record r) return mapRecord(r, (v, name) -> toCpu(v, op, arg + "." + name));
        return o;
    }

    private Object toSim(Object o) {
        if (o instanceof Tensor t) {
            if (t.device().kind() != Device.Kind.CPU) {
                throw new IllegalStateException("SimBackend: the CPU kernels returned a tensor on " + t.device());
            }
            return fromCpu(t);
        }
        if (o instanceof Tensor[] ts) {
            Tensor[] r = (Tensor[]) Array.newInstance(Tensor.class, ts.length);
            for (int i = 0; i < ts.length; i++) r[i] = ts[i] == null ? null : fromCpu(ts[i]);
            return r;
        }
        if (o instanceof List<?> l) {
            List<Object> r = new ArrayList<>(l.size());
            for (Object e : l) r.add(toSim(e));
            return r;
        }
        if (o instanceof Record r) return mapRecord(r, (v, name) -> toSim(v));
        return o;
    }

    private interface ComponentMap {
        Object apply(Object value, String name);
    }

    /** The record rebuilt with every component mapped (the record itself when nothing changed). */
    private static Object mapRecord(Record r, ComponentMap f) {
        RecordComponent[] cs = r.getClass().getRecordComponents();
        Object[] values = new Object[cs.length];
        Class<?>[] types = new Class<?>[cs.length];
        boolean changed = false;
        try {
            for (int i = 0; i < cs.length; i++) {
                cs[i].getAccessor().setAccessible(true);
                Object v = cs[i].getAccessor().invoke(r);
                values[i] = f.apply(v, cs[i].getName());
                types[i] = cs[i].getType();
                changed |= values[i] != v;
            }
            if (!changed) return r;
            var ctor = r.getClass().getDeclaredConstructor(types);
            ctor.setAccessible(true);
            return ctor.newInstance(values);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("SimBackend: cannot map record " + r.getClass().getName() + ": " + e, e);
        }
    }

    @Override
    public String toString() {
        return "SimBackend[" + device + "]";
    }
}
