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

    private final List<java.lang.ref.WeakReference<SimStorage>> live = new ArrayList<>();
    private boolean captureEnabled;
    private SimRecording recording;
    private long capturedGraphs;
    private long replays;
    private int failCaptureAfter = -1;

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

    // ------------------------------------------------------------------ capture (what a CUDA graph freezes)

    /** Lets {@link #beginCapture} work (off by default, so ordinary device tests run eagerly as before). */
    public void enableCapture(boolean on) {
        this.captureEnabled = on;
    }

    /** Replays of the graphs this backend captured, so far. */
    public long replays() {
        return replays;
    }

    /**
     * Makes the next capture fail, as a capture that meets an operation it cannot record does, once
     * {@code actions} actions have been recorded (a negative value: never).
     */
    public void failNextCaptureAfter(int actions) {
        this.failCaptureAfter = actions;
    }

    /** Graphs captured by {@link #endCapture} so far. */
    public long capturedGraphs() {
        return capturedGraphs;
    }

    @Override
    public boolean canCapture() {
        return captureEnabled;
    }

    @Override
    public void beginCapture() {
        if (!captureEnabled) throw new UnsupportedOperationException("SimBackend: capture is not enabled");
        if (recording != null) throw new IllegalStateException("SimBackend: a capture is already under way");
        live.removeIf(r -> r.get() == null);
        recording = new SimRecording(live);
    }

    @Override
    public lmu.backend.StepGraph endCapture() {
        if (recording == null) throw new IllegalStateException("SimBackend: no capture is under way");
        SimRecording r = recording;
        recording = null;
        capturedGraphs++;
        lmu.backend.StepGraph g = r.end();
        return new lmu.backend.StepGraph() {
            @Override
            public void replay() {
                g.replay();
                replays++;
            }

            @Override
            public void close() {
                g.close();
            }
        };
    }

    @Override
    public void abortCapture() {
        if (recording == null) return;
        recording.restore();
        recording = null;
    }

    /** Whether a capture is under way. */
    boolean capturing() {
        return recording != null;
    }

    /** Runs {@code action} now and, while capturing, records it for replay. */
    void run(Runnable action) {
        action.run();
        if (recording == null) return;
        recording.add(action);
        if (failCaptureAfter >= 0 && recording.size() >= failCaptureAfter) {
            failCaptureAfter = -1;
            throw new IllegalStateException("SimBackend: an operation that cannot be captured (failNextCaptureAfter)");
        }
    }

    /** While capturing: refuses a host read of device memory (a synchronisation inside the captured work). */
    void hostRead(String what) {
        if (recording != null) {
            throw new IllegalStateException("SimBackend: " + what + " read on the host while capturing (a host synchronisation"
                    + " inside the captured step)");
        }
    }

    /** Registers a storage of this backend (for the snapshot a capture takes). */
    void created(SimStorage s) {
        live.add(new java.lang.ref.WeakReference<>(s));
        if (recording != null) {
            float[] d = s.data();
            recording.add(() -> java.util.Arrays.fill(d, 0f)); // a captured allocation hands out zeroed memory
        }
    }

    // ------------------------------------------------------------------ host <-> device

    /** A simulated-device tensor holding a float32 copy of a host tensor. */
    @Override
    public Tensor toDevice(Tensor host) {
        if (host.storage() instanceof SimStorage) {
            throw new IllegalArgumentException("SimBackend.toDevice: the tensor is already on " + host.device());
        }
        float[] values = host.toFloatArray();
        Tensor t = wrap(values.clone(), host.shape());
        float[] d = ((SimStorage) t.storage()).data();
        if (recording != null) recording.add(() -> System.arraycopy(values, 0, d, 0, values.length)); // frozen source
        return t;
    }

    /** A host float32 copy of a simulated-device tensor (16-bit values widened exactly). */
    @Override
    public Tensor toHost(Tensor t) {
        hostRead("toHost of a " + java.util.Arrays.toString(t.shape()) + " tensor");
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
        storageAny(t, "fill", "t").fill(value); // recorded by the storage
    }

    @Override
    public void addInPlace(Tensor acc, Tensor g) {
        Tensor a = cpuAny(acc, "addInPlace", "acc"), b = cpuAny(g, "addInPlace", "g");
        run(() -> {
            CPU.addInPlace(a, b);
            rounded(acc);
        });
    }

    @Override
    public Tensor addNew(Tensor a, Tensor b) {
        Tensor ca = cpuAny(a, "addNew", "a"), cb = cpuAny(b, "addNew", "b");
        Tensor out = empty(a.dtype(), a.shape());
        float[] d = ((SimStorage) out.storage()).data();
        run(() -> {
            System.arraycopy(CPU.addNew(ca, cb).f32(), 0, d, 0, d.length);
            rounded(out);
        });
        return out;
    }

    @Override
    public void binary(BinaryOp op, Tensor out, Tensor a, Tensor b) {
        Tensor o = cpu(out, "binary", "out"), x = cpu(a, "binary", "a"), y = cpu(b, "binary", "b");
        run(() -> CPU.binary(op, o, x, y));
    }

    @Override
    public void binaryBackward(BinaryOp op, int wrt, Tensor out, Tensor a, Tensor b, Tensor dOut) {
        String n = "binaryBackward";
        Tensor o = cpu(out, n, "out"), x = cpu(a, n, "a"), y = cpu(b, n, "b"), d = cpu(dOut, n, "dOut");
        run(() -> CPU.binaryBackward(op, wrt, o, x, y, d));
    }

    @Override
    public void unary(UnaryOp op, Tensor out, Tensor x, double param) {
        Tensor o = cpu(out, "unary", "out"), cx = cpu(x, "unary", "x");
        run(() -> CPU.unary(op, o, cx, param));
    }

    @Override
    public void unaryBackward(UnaryOp op, Tensor dx, Tensor x, Tensor y, Tensor dy, double param) {
        String n = "unaryBackward";
        Tensor a = cpu(dx, n, "dx"), b = cpuOrNull(x, n, "x"), c = cpuOrNull(y, n, "y"), d = cpu(dy, n, "dy");
        run(() -> CPU.unaryBackward(op, a, b, c, d, param));
    }

    @Override
    public void sumAxes(Tensor out, Tensor x, boolean[] reduce) {
        Tensor o = cpuAny(out, "sumAxes", "out"), cx = cpuAny(x, "sumAxes", "x");
        boolean[] r = reduce.clone();
        run(() -> {
            CPU.sumAxes(o, cx, r);
            rounded(out);
        });
    }

    @Override
    public void expand(Tensor out, Tensor x, double scale) {
        Tensor o = cpu(out, "expand", "out"), cx = cpu(x, "expand", "x");
        run(() -> CPU.expand(o, cx, scale));
    }

    @Override
    public void maxAxis(Tensor out, int[] argmax, Tensor x, int axis) {
        Tensor o = cpu(out, "maxAxis", "out"), cx = cpu(x, "maxAxis", "x");
        run(() -> CPU.maxAxis(o, argmax, cx, axis));
    }

    @Override
    public void maxAxisBackward(Tensor dx, int[] argmax, Tensor dOut, int axis) {
        Tensor a = cpu(dx, "maxAxisBackward", "dx"), d = cpu(dOut, "maxAxisBackward", "dOut");
        run(() -> CPU.maxAxisBackward(a, argmax, d, axis));
    }

    @Override
    public void matmul(Tensor out, Tensor a, Tensor b, int batch, int m, int n, int k, boolean transA, boolean transB,
            boolean broadcastA, boolean broadcastB, double beta) {
        if (a.dtype() != b.dtype() || (out.dtype() != DType.F32 && out.dtype() != a.dtype())) {
            throw new IllegalArgumentException("SimBackend.matmul: a and b must share a dtype and out be f32 or that dtype, got "
                    + a.dtype() + ", " + b.dtype() + " -> " + out.dtype());
        }
        // 16-bit operands hold exactly representable values: the product accumulates in fp32 as a tensor core does
        Tensor o = cpuAny(out, "matmul", "out"), ca = cpuAny(a, "matmul", "a"), cb = cpuAny(b, "matmul", "b");
        run(() -> {
            CPU.matmul(o, ca, cb, batch, m, n, k, transA, transB, broadcastA, broadcastB, beta);
            rounded(out);
        });
    }

    @Override
    public void permute(Tensor out, Tensor x, int[] axes) {
        Tensor o = cpu(out, "permute", "out"), cx = cpu(x, "permute", "x");
        int[] ax = axes.clone();
        run(() -> CPU.permute(o, cx, ax));
    }

    @Override
    public void copyAlongAxis(Tensor dst, int dstStart, Tensor src, int srcStart, int len, int axis, boolean accumulate) {
        Tensor d = cpu(dst, "copyAlongAxis", "dst"), sr = cpu(src, "copyAlongAxis", "src");
        run(() -> CPU.copyAlongAxis(d, dstStart, sr, srcStart, len, axis, accumulate));
    }

    @Override
    public void softmax(Tensor out, Tensor x, int axis, boolean log) {
        Tensor o = cpu(out, "softmax", "out"), cx = cpu(x, "softmax", "x");
        run(() -> CPU.softmax(o, cx, axis, log));
    }

    @Override
    public void softmaxBackward(Tensor dx, Tensor y, Tensor dy, int axis, boolean log) {
        String n = "softmaxBackward";
        Tensor a = cpu(dx, n, "dx"), b = cpu(y, n, "y"), c = cpu(dy, n, "dy");
        run(() -> CPU.softmaxBackward(a, b, c, axis, log));
    }

    @Override
    public void layerNorm(Tensor out, Tensor mean, Tensor rstd, Tensor x, Tensor w, Tensor b, double eps) {
        String n = "layerNorm";
        Tensor o = cpu(out, n, "out"), mu = cpu(mean, n, "mean"), rs = cpu(rstd, n, "rstd"), cx = cpu(x, n, "x");
        Tensor cw = cpuOrNull(w, n, "w"), cb = cpuOrNull(b, n, "b");
        run(() -> CPU.layerNorm(o, mu, rs, cx, cw, cb, eps));
    }

    @Override
    public void layerNormBackward(Tensor dx, Tensor dw, Tensor db, Tensor dy, Tensor x, Tensor mean, Tensor rstd, Tensor w) {
        String n = "layerNormBackward";
        Tensor a = cpuOrNull(dx, n, "dx"), b = cpuOrNull(dw, n, "dw"), c = cpuOrNull(db, n, "db"), d = cpu(dy, n, "dy");
        Tensor cx = cpu(x, n, "x"), mu = cpu(mean, n, "mean"), rs = cpu(rstd, n, "rstd"), cw = cpuOrNull(w, n, "w");
        run(() -> CPU.layerNormBackward(a, b, c, d, cx, mu, rs, cw));
    }

    @Override
    public void dropout(Tensor out, Tensor x, double p, long seed) {
        Tensor o = cpu(out, "dropout", "out"), cx = cpu(x, "dropout", "x");
        run(() -> CPU.dropout(o, cx, p, seed));
    }

    /** The seed is read from the table (device memory) when the action runs, so a replay uses the table's current seed. */
    @Override
    public void dropout(Tensor out, Tensor x, double p, Tensor seeds, int slot) {
        Tensor o = cpu(out, "dropout", "out"), cx = cpu(x, "dropout", "x");
        float[] table = storage(seeds, "dropout", "seeds").data();
        lmu.backend.SeedTable.decode(table, slot); // checks the slot
        run(() -> CPU.dropout(o, cx, p, lmu.backend.SeedTable.decode(table, slot)));
    }

    @Override
    public void maskedFill(Tensor out, Tensor x, boolean[] mask, int[] maskShape, double value) {
        Tensor o = cpu(out, "maskedFill", "out"), cx = cpu(x, "maskedFill", "x");
        boolean[] mk = mask.clone();
        int[] ms = maskShape.clone();
        run(() -> CPU.maskedFill(o, cx, mk, ms, value));
    }

    @Override
    public void cast(Tensor out, Tensor x) {
        Tensor o = cpuAny(out, "cast", "out"), cx = cpuAny(x, "cast", "x");
        run(() -> {
            CPU.cast(o, cx);
            rounded(out);
        });
    }

    @Override
    public void conv1d(Tensor out, Tensor x, Tensor weight, Tensor bias, int stride, int padding) {
        String n = "conv1d";
        Tensor o = cpu(out, n, "out"), cx = cpu(x, n, "x"), cw = cpu(weight, n, "weight"), cb = cpuOrNull(bias, n, "bias");
        run(() -> CPU.conv1d(o, cx, cw, cb, stride, padding));
    }

    @Override
    public void conv1dBackward(Tensor dx, Tensor dWeight, Tensor dBias, Tensor dOut, Tensor x, Tensor weight, int stride,
            int padding) {
        String n = "conv1dBackward";
        Tensor a = cpuOrNull(dx, n, "dx"), b = cpuOrNull(dWeight, n, "dWeight"), c = cpuOrNull(dBias, n, "dBias");
        Tensor d = cpu(dOut, n, "dOut"), cx = cpu(x, n, "x"), cw = cpu(weight, n, "weight");
        run(() -> CPU.conv1dBackward(a, b, c, d, cx, cw, stride, padding));
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
                if (recording != null) mapped[i] = frozen(mapped[i]);
            }
            Object result;
            try {
                result = toSim(method.invoke(cpu, mapped));
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            if (recording != null) {
                Object recorded = result;
                recording.add(() -> {
                    try {
                        copyResults(method.invoke(cpu, mapped), recorded);
                    } catch (ReflectiveOperationException e) {
                        throw new IllegalStateException("SimBackend: replaying " + method.getName() + ": " + e, e);
                    }
                });
            }
            return result;
        };
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, h));
    }

    /** A host array argument as a captured launch holds it: copied at capture time. */
    private static Object frozen(Object o) {
        if (o instanceof int[] a) return a.clone();
        if (o instanceof boolean[] a) return a.clone();
        if (o instanceof float[] a) return a.clone();
        if (o instanceof long[] a) return a.clone();
        if (o instanceof double[] a) return a.clone();
        return o;
    }

    /** Copies the tensors of a replayed call's CPU result into the simulated tensors the recorded call returned. */
    private static void copyResults(Object fresh, Object recorded) {
        if (fresh instanceof Tensor f && recorded instanceof Tensor r) {
            float[] src = f.storage() instanceof F32Storage s ? s.data() : f.toFloatArray();
            float[] dst = ((SimStorage) r.storage()).data();
            if (src != dst) System.arraycopy(src, 0, dst, 0, dst.length);
        } else if (fresh instanceof Tensor[] fs && recorded instanceof Tensor[] rs) {
            for (int i = 0; i < fs.length; i++) copyResults(fs[i], rs[i]);
        } else if (fresh instanceof List<?> fl && recorded instanceof List<?> rl) {
            for (int i = 0; i < fl.size(); i++) copyResults(fl.get(i), rl.get(i));
        } else if (fresh instanceof Record fr && recorded instanceof Record rr) {
            try {
                for (RecordComponent c : fr.getClass().getRecordComponents()) {
                    c.getAccessor().setAccessible(true);
                    copyResults(c.getAccessor().invoke(fr), c.getAccessor().invoke(rr));
                }
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("SimBackend: cannot read record " + fr.getClass().getName() + ": " + e, e);
            }
        } // host values in a result stay as they were captured
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
