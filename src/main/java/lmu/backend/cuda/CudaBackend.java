package lmu.backend.cuda;

import java.util.Arrays;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.backend.BinaryOp;
import lmu.backend.UnaryOp;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.Shape;
import lmu.tensor.Storage;
import lmu.tensor.Tensor;

/**
 * {@link Backend} on one GPU for tensors held in {@link CudaStorage}: every op is a launch
 * of a kernel in {@code kernels/*.cu} (or cuBLAS for matrix products) on the context's one stream,
 * so ops need no synchronisation among themselves; results reach the host through {@link #toHost}
 * or the element accessors. Temporary buffers come from the context's caching allocator and are
 * returned in stream order. Every launch is checked ({@link Launch}: a failure names the kernel,
 * grid, block and the driver's message). The CPU backend ({@code lmu.backend.cpu.CpuBackend}) is the
 * reference: {@link CudaSelfTest} holds every op here to it.
 *
 * <p>Every op computes on float32 tensors. Tensors of the 16-bit mixed-precision formats (F16,
 * BF16; from {@link #empty}, {@link #toDevice(Tensor, DType)} or {@link #cast}) are taken by
 * {@link #cast} (any pair of F32, F16, BF16; {@code kernels/cast.cu}), {@link #matmul} (both
 * operands in the same 16-bit format, result F32 or that format: cuBLAS with fp32 accumulation),
 * {@link #fill}, {@link #addInPlace}, {@link #addNew} and {@link #sumAxes} (these three through an
 * fp32 scratch copy: they only meet the gradients of matrix-product operands); every other op
 * rejects them with an IllegalArgumentException naming the op and the dtype.
 *
 * <p>One thread drives a backend (the context is made current on it).
 *
 * <pre>{@code
 * CudaBackend gpu = CudaBackend.open(Device.cuda(0));     // also registered with Backends
 * Tensor x = gpu.toDevice(Tensor.randn(rng, DType.F32, 1, 8, 512));
 * Tensor y = gpu.empty(DType.F32, 8, 512);
 * gpu.unary(UnaryOp.GELU, y, x, 0);
 * float[] host = gpu.toHost(y).f32();
 * }</pre>
 */
public final class CudaBackend implements Backend, AutoCloseable {
    private static final int BLOCK = 256;

    private final CudaContext ctx;
    private final boolean ownsContext;
    private final Device device;
    private final PinnedStaging staging;
    private final CudaMatmul matmul;
    private final Queue<DeviceBuffer> pendingFrees = new ConcurrentLinkedQueue<>();
    private final Queue<Runnable> pendingReleases = new ConcurrentLinkedQueue<>();
    private boolean closed;

    private CudaBackend(CudaContext ctx, boolean ownsContext, CudaMatmul matmul) {
        this.ctx = ctx;
        this.ownsContext = ownsContext;
        this.device = Device.cuda(ctx.index());
        this.staging = new PinnedStaging(ctx, PinnedStaging.DEFAULT_CHUNK_BYTES);
        this.matmul = matmul;
    }

    /**
     * Opens {@code device}, creates its backend and registers it with {@link Backends}, so that ops on
     * tensors of that device run here.
     *
     * @throws IllegalStateException when CUDA is not available (with the reason)
     * @throws IllegalArgumentException when {@code device} is not a visible CUDA device
     */
    public static CudaBackend open(Device device) {
        if (device.kind() != Device.Kind.CUDA) {
            throw new IllegalArgumentException("CudaBackend: device must be cuda:N, got " + device);
        }
        CudaContext ctx = CudaContext.open(device.index());
        CudaBackend b = new CudaBackend(ctx, true, CudaMatmul.fromProperties(ctx));
        Backends.registerCuda(b);
        return b;
    }

    /** A backend on an open context (not registered, the context not owned), matrix products per the system properties. */
    public static CudaBackend on(CudaContext ctx) {
        return new CudaBackend(ctx, false, CudaMatmul.fromProperties(ctx));
    }

    /** As {@link #on(CudaContext)} with matrix products forced to cuBLAS (when it loads) or to {@code kernels/gemm.cu}. */
    static CudaBackend on(CudaContext ctx, boolean cublas) {
        return on(ctx, cublas, !"false".equalsIgnoreCase(System.getProperty(CudaMatmul.TF32_PROPERTY)));
    }

    /** As {@link #on(CudaContext, boolean)} with TF32 tensor cores on or off. */
    static CudaBackend on(CudaContext ctx, boolean cublas, boolean tf32) {
        return new CudaBackend(ctx, false, new CudaMatmul(ctx, cublas, tf32));
    }

    public Device device() {
        return device;
    }

    public CudaContext context() {
        return ctx;
    }

    /** The native handle ({@code cudaStream_t}) of the stream every op of this backend runs on, for libraries bound through JavaCPP (NCCL). */
    public long streamHandle() {
        return DevicePointers.handle(ctx.stream());
    }

    /** What computes matrix products (cuBLAS or the fallback kernel, and why). */
    public String matmulImplementation() {
        return matmul.implementation();
    }

    /** The tolerance that matrix products are held to (TF32 when cuBLAS uses tensor cores). */
    public Tolerance matmulTolerance() {
        return matmul.tolerance();
    }

    boolean matmulUsesCublas() {
        return matmul.usesCublas();
    }

    /**
     * Device bytes held by reachable tensors and open scratch buffers: collects the JVM's garbage
     * (device memory of unreachable tensors returns only through their cleaners), returns the freed
     * blocks to the allocator, waits for the stream and reads the allocator's {@code allocated}
     * figure. For memory reports, not for hot paths (it runs a full GC).
     */
    public long liveBytes() {
        ensureOpen();
        for (int i = 0; i < 2; i++) {
            System.gc();
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        drainFrees();
        ctx.synchronize();
        return ctx.allocator().stats().allocated();
    }

    /** Waits for all work enqueued so far. */
    public void synchronize() {
        ctx.synchronize();
    }

    // ------------------------------------------------------------------ graph capture

    private CudaGraph.Capture capture;

    @Override
    public boolean canCapture() {
        return true;
    }

    /**
     * Starts capturing the work enqueued on the context's stream into a {@link CudaGraph}
     * (allocations from a private pool, uploads from pinned buffers of their own).
     *
     * @throws IllegalStateException when a capture is under way already
     */
    @Override
    public void beginCapture() {
        ensureOpen();
        if (capture != null) throw new IllegalStateException("CudaBackend: a capture is under way already on " + ctx);
        drainFrees();
        capture = CudaGraph.begin(ctx, staging);
    }

    /** Whether a capture is under way (host reads of device values are not allowed then). */
    public boolean capturing() {
        return capture != null;
    }

    @Override
    public lmu.backend.StepGraph endCapture() {
        if (capture == null) throw new IllegalStateException("CudaBackend: no capture is under way on " + ctx);
        CudaGraph.Capture c = capture;
        capture = null;
        return c.end();
    }

    @Override
    public void abortCapture() {
        if (capture == null) return;
        CudaGraph.Capture c = capture;
        capture = null;
        c.abort();
    }

    // ------------------------------------------------------------------ storage and transfers

    Queue<DeviceBuffer> pendingFrees() {
        return pendingFrees;
    }

    /**
     * Queues {@code release}, which returns device memory of this backend to its allocator (e.g. a
     * cache's buffers), to run on this backend's thread at its next allocation, like the blocks of
     * garbage-collected storages (in stream order: work enqueued before still completes first).
     * Thread-safe: for cleaners.
     */
    public void releaseLater(Runnable release) {
        pendingReleases.add(release);
    }

    /** Runs the queued releases and returns the buffers of garbage-collected storages to the allocator (on this thread). */
    private void drainFrees() {
        Runnable r;
        while ((r = pendingReleases.poll()) != null) r.run();
        DeviceBuffer b;
        while ((b = pendingFrees.poll()) != null) b.close();
    }

    private DeviceBuffer scratch(long floats) {
        return scratchBytes(4L * Math.max(1, floats));
    }

    private DeviceBuffer scratchBytes(long bytes) {
        ensureOpen();
        drainFrees();
        try {
            return ctx.allocator().allocate(bytes);
        } catch (DeviceOutOfMemoryException e) {
            // The JVM's collector does not see device memory: tensors that are already unreachable may
            // still hold blocks. Collect, let the cleaner queue their blocks, free them, and retry once.
            System.gc();
            try {
                Thread.sleep(50);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            drainFrees();
            return ctx.allocator().allocate(bytes);
        }
    }

    CudaStorage allocate(int size, boolean zero) {
        return allocate(DType.F32, size, zero);
    }

    /** Storage of {@code size} elements of dtype (F32, F16 or BF16), zero-filled when asked. */
    CudaStorage allocate(DType dtype, int size, boolean zero) {
        if (!CudaStorage.isDeviceType(dtype)) {
            throw new IllegalArgumentException("CudaBackend: tensors on " + device + " are f32, f16 or bf16, got " + dtype);
        }
        CudaStorage s = new CudaStorage(this, dtype, size, scratchBytes(CudaStorage.bytesFor(dtype, size)));
        if (zero) fillStorage(s, 0);
        return s;
    }

    /** A CUDA tensor holding a copy of a host tensor's values (any compute dtype, stored as f32). */
    public Tensor toDevice(Tensor host) {
        return toDevice(host, DType.F32);
    }

    /**
     * A CUDA tensor of {@code dtype} holding a host tensor's values: F32, or F16/BF16 rounded to
     * nearest even on the host ({@link lmu.tensor.HalfFloats}).
     *
     * @throws IllegalArgumentException if the tensor is already on a device or dtype is not F32, F16 or BF16
     */
    public Tensor toDevice(Tensor host, DType dtype) {
        if (host.storage() instanceof CudaStorage) {
            throw new IllegalArgumentException("CudaBackend.toDevice: the tensor is already on " + host.device());
        }
        float[] values = host.toFloatArray();
        CudaStorage s = allocate(dtype, values.length, false);
        upload(values, s);
        return new Tensor(s, host.shape(), device);
    }

    /** A CUDA tensor of {@code shape} holding {@code values} (copied). */
    public Tensor fromHost(float[] values, int... shape) {
        if (values.length != Shape.numel(shape)) {
            throw new IllegalArgumentException("CudaBackend.fromHost: " + values.length + " values for shape "
                    + Arrays.toString(shape));
        }
        CudaStorage s = allocate(values.length, false);
        upload(values, s);
        return new Tensor(s, shape, device);
    }

    /**
     * A host f32 tensor with the values of a CUDA tensor of this backend (16-bit formats widened
     * exactly; waits for pending work).
     */
    public Tensor toHost(Tensor t) {
        return Tensor.of(download(deviceStorage(t, "toHost", "t")), t.shape());
    }

    /**
     * A scratch device array holding a copy of {@code values} (at least one element), for the int32
     * arguments of fused kernels (lengths, targets); the copy is enqueued on the stream. Close it
     * once the launches that read it are enqueued (freed in stream order).
     */
    public DeviceBuffer uploadInts(int[] values) {
        DeviceBuffer b = scratch(values.length);
        if (values.length > 0) staging.upload(values, 0, values.length, b.ptr());
        return b;
    }

    void upload(float[] values, CudaStorage s) {
        ensureOpen();
        if (values.length == 0) return;
        if (s.dtype() == DType.F32) {
            staging.upload(values, 0, values.length, s.ptr());
        } else {
            short[] bits = new short[values.length];
            lmu.tensor.HalfFloats.encode(s.dtype(), values, 0, bits, 0, values.length);
            staging.upload(bits, 0, bits.length, s.ptr());
        }
    }

    float[] download(CudaStorage s) {
        ensureOpen();
        float[] out = new float[s.size()];
        if (out.length == 0) return out;
        if (s.dtype() == DType.F32) {
            staging.download(s.ptr(), out, 0, out.length);
        } else {
            short[] bits = new short[out.length];
            staging.download(s.ptr(), bits, 0, bits.length);
            lmu.tensor.HalfFloats.decode(s.dtype(), bits, 0, out, 0, out.length);
        }
        return out;
    }

    float readElement(CudaStorage s, int i) {
        ensureOpen();
        CUdeviceptr at = s.ptr().withByteOffset((long) s.dtype().bytes() * i);
        if (s.dtype() != DType.F32) {
            short[] h = new short[1];
            staging.download(at, h, 0, 1);
            return lmu.tensor.HalfFloats.decode(s.dtype(), h[0]);
        }
        float[] v = new float[1];
        staging.download(at, v, 0, 1);
        return v[0];
    }

    void writeElement(CudaStorage s, int i, float v) {
        ensureOpen();
        CUdeviceptr at = s.ptr().withByteOffset((long) s.dtype().bytes() * i);
        if (s.dtype() != DType.F32) {
            staging.upload(new short[] {lmu.tensor.HalfFloats.encode(s.dtype(), v)}, 0, 1, at);
        } else {
            staging.upload(new float[] {v}, 0, 1, at);
        }
    }

    CudaStorage copyOf(CudaStorage src) {
        CudaStorage s = allocate(src.dtype(), src.size(), false);
        copyBytes(s.ptr(), src.ptr(), (long) src.dtype().bytes() * src.size());
        return s;
    }

    private void copy(CUdeviceptr dst, CUdeviceptr src, int floats) {
        copyBytes(dst, src, 4L * floats);
    }

    private void copyBytes(CUdeviceptr dst, CUdeviceptr src, long bytes) {
        if (bytes == 0) return;
        Driver.check("cuMemcpyDtoDAsync", () -> JCudaDriver.cuMemcpyDtoDAsync(dst, src, bytes, ctx.stream()),
                bytes + " bytes on " + ctx);
    }

    void fillStorage(CudaStorage s, double value) {
        ensureOpen();
        if (s.size() == 0) return;
        if (s.dtype() != DType.F32) {
            short h = lmu.tensor.HalfFloats.encode(s.dtype(), (float) value);
            Driver.check("cuMemsetD16Async", () -> JCudaDriver.cuMemsetD16Async(s.ptr(), h, s.size(), ctx.stream()),
                    s.size() + " " + s.dtype() + " elements on " + ctx);
            return;
        }
        int bits = Float.floatToRawIntBits((float) value);
        Driver.check("cuMemsetD32Async", () -> JCudaDriver.cuMemsetD32Async(s.ptr(), bits, s.size(), ctx.stream()),
                s.size() + " floats on " + ctx);
    }

    // ------------------------------------------------------------------ argument checks

    /** An f32 tensor of this backend (what every op but the few of the class comment takes). */
    private CudaStorage storage(Tensor t, String op, String arg) {
        return checked(t, op, arg, true);
    }

    /** A tensor of this backend of any device dtype (f32, f16, bf16). */
    private CudaStorage deviceStorage(Tensor t, String op, String arg) {
        return checked(t, op, arg, false);
    }

    private CudaStorage checked(Tensor t, String op, String arg, boolean f32Only) {
        if (t == null) throw new IllegalArgumentException("CudaBackend." + op + ": " + arg + " must not be null");
        String want = f32Only ? "an f32 tensor" : "an f32, f16 or bf16 tensor";
        if (!(t.storage() instanceof CudaStorage s) || s.backend() != this) {
            throw new IllegalArgumentException("CudaBackend." + op + ": " + arg + " must be " + want + " on " + device
                    + " of this backend, got " + t.dtype().name().toLowerCase(java.util.Locale.ROOT) + " on " + t.device()
                    + " (" + t.storage().getClass().getSimpleName() + ")");
        }
        if (f32Only && s.dtype() != DType.F32) {
            throw new IllegalArgumentException("CudaBackend." + op + ": " + arg + " must be an f32 tensor, got "
                    + s.dtype().name().toLowerCase(java.util.Locale.ROOT) + " (only cast, matmul, fill, addInPlace, addNew and"
                    + " sumAxes take f16/bf16 tensors)");
        }
        return s;
    }

    private CUdeviceptr ptr(Tensor t, String op, String arg) {
        return storage(t, op, arg).ptr();
    }

    private CUdeviceptr ptrOrNull(Tensor t, String op, String arg) {
        return t == null ? null : ptr(t, op, arg);
    }

    private static void sameNumel(String op, String arg, Tensor t, int n) {
        if (t.numel() != n) {
            throw new IllegalArgumentException("CudaBackend." + op + ": " + arg + " must have " + n + " elements, got shape "
                    + Arrays.toString(t.shape()));
        }
    }

    /** {@code in} must broadcast to {@code out} (NumPy rules, no rank above out's). */
    private static void broadcastable(String op, String arg, int[] in, int[] out) {
        boolean ok = in.length <= out.length;
        for (int i = 0; ok && i < in.length; i++) {
            int o = out[out.length - in.length + i];
            ok = in[i] == o || in[i] == 1;
        }
        if (!ok) {
            throw new IllegalArgumentException("CudaBackend." + op + ": " + arg + " of shape " + Arrays.toString(in)
                    + " does not broadcast to " + Arrays.toString(out));
        }
    }

    private static int[] atLeast1d(int[] shape) {
        return shape.length == 0 ? new int[] {1} : shape;
    }

    /** (outer, n, inner) around {@code axis}. */
    private static int[] around(int[] shape, int axis) {
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.length; i++) inner *= shape[i];
        return new int[] {outer, shape[axis], inner};
    }

    private Launch elementwise(String op, String kernel, int n) {
        return Launch.kernel(ctx, op, kernel).grid(LaunchGeometry.gridStrideBlocks(n, BLOCK, ctx.multiprocessors()))
                .block(BLOCK);
    }

    /** Kernel code of a binary op (the OP_* defines of elementwise.cu). */
    static int code(BinaryOp op) {
        return switch (op) {
            case ADD -> 0;
            case SUB -> 1;
            case MUL -> 2;
            case DIV -> 3;
        };
    }

    /** Kernel code of a unary op (the U_* defines of elementwise.cu). */
    static int code(UnaryOp op) {
        return switch (op) {
            case SCALE -> 0;
            case ADD_SCALAR -> 1;
            case RELU -> 2;
            case GELU -> 3;
            case TANH -> 4;
            case SIGMOID -> 5;
            case EXP -> 6;
            case LOG -> 7;
        };
    }

    // ------------------------------------------------------------------ Backend

    /**
     * A zero-filled tensor.
     *
     * @param dtype F32, or F16/BF16 (storage for matrix-product operands and their gradients)
     * @throws IllegalArgumentException for F64
     */
    @Override
    public Tensor empty(DType dtype, int... shape) {
        if (!CudaStorage.isDeviceType(dtype)) {
            throw new IllegalArgumentException("CudaBackend.empty: tensors on " + device + " are f32, f16 or bf16, got " + dtype);
        }
        return new Tensor(allocate(dtype, Shape.numel(shape), true), shape, device);
    }

    @Override
    public void fill(Tensor t, double value) {
        fillStorage(deviceStorage(t, "fill", "t"), value);
    }

    /** {@code acc += g}; f16/bf16 operands are added in fp32 and the sum rounded once to acc's format. */
    @Override
    public void addInPlace(Tensor acc, Tensor g) {
        CudaStorage sa = deviceStorage(acc, "addInPlace", "acc"), sg = deviceStorage(g, "addInPlace", "g");
        sameNumel("addInPlace", "g", g, acc.numel());
        int n = acc.numel();
        if (sa.dtype() == DType.F32 && sg.dtype() == DType.F32) {
            binaryContiguous(BinaryOp.ADD, sa.ptr(), sa.ptr(), sg.ptr(), n);
            return;
        }
        if (n == 0) return;
        try (DeviceBuffer wa = widened(sa); DeviceBuffer wg = widened(sg)) {
            binaryContiguous(BinaryOp.ADD, wa.ptr(), wa.ptr(), wg.ptr(), n);
            castInto(sa.ptr(), sa.dtype(), wa.ptr(), DType.F32, n);
        }
    }

    /** {@code a + b} in a's dtype; f16/bf16 operands are added in fp32 and the sum rounded once. */
    @Override
    public Tensor addNew(Tensor a, Tensor b) {
        CudaStorage sa = deviceStorage(a, "addNew", "a"), sb = deviceStorage(b, "addNew", "b");
        sameNumel("addNew", "b", b, a.numel());
        if (sa.dtype() == DType.F32 && sb.dtype() == DType.F32) { // one pass
            Tensor out = new Tensor(allocate(a.numel(), false), a.shape(), device);
            binaryContiguous(BinaryOp.ADD, ptr(out, "addNew", "out"), sa.ptr(), sb.ptr(), a.numel());
            return out;
        }
        Tensor out = new Tensor(copyOf(sa), a.shape(), device);
        addInPlace(out, b);
        return out;
    }

    /** An f32 scratch copy of s (s itself copied when it is f32); the caller closes it. */
    private DeviceBuffer widened(CudaStorage s) {
        DeviceBuffer w = scratch(s.size());
        castInto(w.ptr(), DType.F32, s.ptr(), s.dtype(), s.size());
        return w;
    }

    /** Kernel code of a 16-bit format (the FMT_* defines of cast.cu). */
    static int formatCode(DType dtype) {
        return switch (dtype) {
            case F16 -> 0;
            case BF16 -> 1;
            default -> throw new IllegalArgumentException("CudaBackend: " + dtype + " is not a 16-bit format (F16, BF16)");
        };
    }

    /** {@code n} elements from x (dtype from) to out (dtype to); the same dtype copies. */
    private void castInto(CUdeviceptr out, DType to, CUdeviceptr x, DType from, int n) {
        if (n == 0) return;
        if (from == to) {
            copyBytes(out, x, (long) to.bytes() * n);
        } else if (from == DType.F32) {
            elementwise("cast", "cast_f32_to_half_kernel", n).ptr(out).ptr(x).i32(n).i32(formatCode(to)).run();
        } else if (to == DType.F32) {
            elementwise("cast", "cast_half_to_f32_kernel", n).ptr(out).ptr(x).i32(n).i32(formatCode(from)).run();
        } else {
            elementwise("cast", "cast_half_to_half_kernel", n).ptr(out).ptr(x).i32(n).i32(formatCode(from))
                    .i32(formatCode(to)).run();
        }
    }

    private void binaryContiguous(BinaryOp op, CUdeviceptr out, CUdeviceptr a, CUdeviceptr b, int n) {
        if (n == 0) return;
        elementwise("elementwise", "binary_contiguous_kernel", n).ptr(out).ptr(a).ptr(b).i32(n).i32(code(op)).run();
    }

    @Override
    public void binary(BinaryOp op, Tensor out, Tensor a, Tensor b) {
        CUdeviceptr po = ptr(out, "binary", "out"), pa = ptr(a, "binary", "a"), pb = ptr(b, "binary", "b");
        int[] shape = out.shape();
        broadcastable("binary", "a", a.shape(), shape);
        broadcastable("binary", "b", b.shape(), shape);
        int n = out.numel();
        if (n == 0) return;
        if (Arrays.equals(a.shape(), shape) && Arrays.equals(b.shape(), shape)) {
            binaryContiguous(op, po, pa, pb, n);
            return;
        }
        int[] s = atLeast1d(shape);
        int[] t = StridedIndex.strided("binary", s, Shape.broadcastStrides(a.shape(), s), Shape.broadcastStrides(b.shape(), s));
        elementwise("elementwise", "binary_kernel", n).ptr(po).ptr(pa).ptr(pb).i32(n).i32(code(op)).struct(t).run();
    }

    @Override
    public void binaryBackward(BinaryOp op, int wrt, Tensor out, Tensor a, Tensor b, Tensor dOut) {
        if (wrt != 0 && wrt != 1) throw new IllegalArgumentException("CudaBackend.binaryBackward: wrt must be 0 or 1, got " + wrt);
        CUdeviceptr po = ptr(out, "binaryBackward", "out"), pa = ptr(a, "binaryBackward", "a");
        CUdeviceptr pb = ptr(b, "binaryBackward", "b"), pg = ptr(dOut, "binaryBackward", "dOut");
        int[] full = atLeast1d(dOut.shape());
        broadcastable("binaryBackward", "a", a.shape(), dOut.shape());
        broadcastable("binaryBackward", "b", b.shape(), dOut.shape());
        int[] target = (wrt == 0 ? a : b).shape();
        sameNumel("binaryBackward", "out", out, Shape.numel(target));
        // the axes along which the operand was broadcast
        int shift = full.length - target.length;
        boolean[] reduce = new boolean[full.length];
        boolean any = false;
        for (int i = 0; i < full.length; i++) {
            int padded = i < shift ? 1 : target[i - shift];
            reduce[i] = padded == 1 && full[i] != 1;
            any |= reduce[i];
        }
        int n = dOut.numel();
        if (n == 0) {
            fill(out, 0);
            return;
        }
        int[] t = StridedIndex.strided("binaryBackward", full, Shape.broadcastStrides(a.shape(), full),
                Shape.broadcastStrides(b.shape(), full));
        if (!any) {
            elementwise("elementwise", "binary_grad_kernel", n).ptr(po).ptr(pa).ptr(pb).ptr(pg).i32(n).i32(code(op))
                    .i32(wrt).struct(t).run();
            return;
        }
        try (DeviceBuffer tmp = scratch(n)) {
            elementwise("elementwise", "binary_grad_kernel", n).ptr(tmp.ptr()).ptr(pa).ptr(pb).ptr(pg).i32(n).i32(code(op))
                    .i32(wrt).struct(t).run();
            sum(po, tmp.ptr(), full, reduce);
        }
    }

    @Override
    public void unary(UnaryOp op, Tensor out, Tensor x, double param) {
        CUdeviceptr po = ptr(out, "unary", "out"), px = ptr(x, "unary", "x");
        sameNumel("unary", "out", out, x.numel());
        int n = x.numel();
        if (n == 0) return;
        elementwise("elementwise", "unary_kernel", n).ptr(po).ptr(px).i32(n).i32(code(op)).f32((float) param).run();
    }

    @Override
    public void unaryBackward(UnaryOp op, Tensor dx, Tensor x, Tensor y, Tensor dy, double param) {
        boolean needsX = op == UnaryOp.RELU || op == UnaryOp.GELU || op == UnaryOp.LOG;
        boolean needsY = op == UnaryOp.TANH || op == UnaryOp.SIGMOID || op == UnaryOp.EXP;
        CUdeviceptr pd = ptr(dx, "unaryBackward", "dx"), pg = ptr(dy, "unaryBackward", "dy");
        CUdeviceptr px = needsX ? ptr(x, "unaryBackward", "x") : ptrOrNull(x, "unaryBackward", "x");
        CUdeviceptr py = needsY ? ptr(y, "unaryBackward", "y") : ptrOrNull(y, "unaryBackward", "y");
        int n = dy.numel();
        sameNumel("unaryBackward", "dx", dx, n);
        if (needsX) sameNumel("unaryBackward", "x", x, n);
        if (needsY) sameNumel("unaryBackward", "y", y, n);
        if (n == 0) return;
        elementwise("elementwise", "unary_backward_kernel", n).ptr(pd).ptrOrNull(px).ptrOrNull(py).ptr(pg).i32(n)
                .i32(code(op)).f32((float) param).run();
    }

    /** Sums in fp32; an f16/bf16 x is widened first and an f16/bf16 out gets the fp32 sums rounded once. */
    @Override
    public void sumAxes(Tensor out, Tensor x, boolean[] reduce) {
        CudaStorage so = deviceStorage(out, "sumAxes", "out"), sx = deviceStorage(x, "sumAxes", "x");
        int[] shape = x.shape();
        if (reduce.length != shape.length) {
            throw new IllegalArgumentException("CudaBackend.sumAxes: " + reduce.length + " reduce flags for x of shape "
                    + Arrays.toString(shape));
        }
        int kept = 1;
        for (int i = 0; i < shape.length; i++) if (!reduce[i]) kept *= shape[i];
        sameNumel("sumAxes", "out", out, kept);
        boolean[] flags = shape.length == 0 ? new boolean[] {false} : reduce;
        if (so.dtype() == DType.F32 && sx.dtype() == DType.F32) {
            sum(so.ptr(), sx.ptr(), atLeast1d(shape), flags);
            return;
        }
        try (DeviceBuffer wx = widened(sx); DeviceBuffer wo = scratch(kept)) {
            sum(wo.ptr(), wx.ptr(), atLeast1d(shape), flags);
            castInto(so.ptr(), so.dtype(), wo.ptr(), DType.F32, kept);
        }
    }

    /** out (the kept axes of x, contiguous) = x summed over the flagged axes. */
    private void sum(CUdeviceptr out, CUdeviceptr x, int[] shape, boolean[] reduce) {
        int nOut = 1, rLen = 1;
        for (int i = 0; i < shape.length; i++) {
            if (reduce[i]) rLen *= shape[i];
            else nOut *= shape[i];
        }
        if (nOut == 0) return;
        if (rLen == 0) {
            long count = nOut;
            Driver.check("cuMemsetD32Async", () -> JCudaDriver.cuMemsetD32Async(out, 0, count, ctx.stream()));
            return;
        }
        if (rLen == 1) {
            copy(out, x, nOut);
            return;
        }
        int lead = 0;
        while (lead < reduce.length && reduce[lead]) lead++;
        boolean prefixOnly = true;
        for (int i = lead; i < reduce.length; i++) prefixOnly &= !reduce[i];
        if (prefixOnly && nOut >= 128) { // the leading axes reduced: one thread per column, coalesced
            elementwise("reduce", "sum_columns_kernel", nOut).ptr(out).ptr(x).i32(rLen).i32(nOut).run();
            return;
        }
        int block = Math.min(BLOCK, (rLen + 31) / 32 * 32);
        Launch.kernel(ctx, "reduce", "sum_axes_kernel").grid(Math.min(nOut, 65535)).block(block).ptr(out).ptr(x).i32(nOut)
                .i32(rLen).struct(StridedIndex.reduction("sumAxes", shape, reduce)).run();
    }

    @Override
    public void expand(Tensor out, Tensor x, double scale) {
        CUdeviceptr po = ptr(out, "expand", "out"), px = ptr(x, "expand", "x");
        int[] shape = atLeast1d(out.shape());
        int[] xs = atLeast1d(x.shape());
        broadcastable("expand", "x", xs, shape);
        int n = out.numel();
        if (n == 0) return;
        int[] t = StridedIndex.strided("expand", shape, Shape.broadcastStrides(xs, shape));
        elementwise("elementwise", "strided_copy_kernel", n).ptr(po).ptr(px).i32(n).f32((float) scale).struct(t).run();
    }

    @Override
    public void maxAxis(Tensor out, int[] argmax, Tensor x, int axis) {
        CUdeviceptr po = ptr(out, "maxAxis", "out"), px = ptr(x, "maxAxis", "x");
        int ax = Shape.axis(axis, x.rank(), "CudaBackend.maxAxis");
        int[] v = around(x.shape(), ax);
        int total = v[0] * v[2];
        sameNumel("maxAxis", "out", out, total);
        if (argmax.length != total) {
            throw new IllegalArgumentException("CudaBackend.maxAxis: argmax must have " + total + " entries, got " + argmax.length);
        }
        if (v[1] == 0) throw new IllegalArgumentException("CudaBackend.maxAxis: axis " + axis + " of " + Arrays.toString(x.shape()) + " is empty");
        if (total == 0) return;
        try (DeviceBuffer idx = scratch(total)) {
            elementwise("reduce", "max_axis_kernel", total).ptr(po).ptr(idx.ptr()).ptr(px).i32(v[0]).i32(v[1]).i32(v[2]).run();
            staging.download(idx.ptr(), argmax, 0, total);
        }
    }

    @Override
    public void maxAxisBackward(Tensor dx, int[] argmax, Tensor dOut, int axis) {
        CUdeviceptr pd = ptr(dx, "maxAxisBackward", "dx"), pg = ptr(dOut, "maxAxisBackward", "dOut");
        int ax = Shape.axis(axis, dx.rank(), "CudaBackend.maxAxisBackward");
        int[] v = around(dx.shape(), ax);
        int total = v[0] * v[2];
        sameNumel("maxAxisBackward", "dOut", dOut, total);
        if (argmax.length != total) {
            throw new IllegalArgumentException("CudaBackend.maxAxisBackward: argmax must have " + total + " entries, got "
                    + argmax.length);
        }
        for (int i = 0; i < total; i++) { // a bad index would write outside dx
            if (argmax[i] < 0 || argmax[i] >= v[1]) {
                throw new IllegalArgumentException("CudaBackend.maxAxisBackward: argmax[" + i + "] = " + argmax[i]
                        + " (expected: 0 to " + (v[1] - 1) + ")");
            }
        }
        if (total == 0) return;
        try (DeviceBuffer idx = scratch(total)) {
            staging.upload(argmax, 0, total, idx.ptr());
            elementwise("reduce", "max_axis_backward_kernel", total).ptr(pd).ptr(idx.ptr()).ptr(pg).i32(v[0]).i32(v[1])
                    .i32(v[2]).run();
        }
    }

    /**
     * As {@link Backend#matmul}, with the operand types of {@link CublasTypes#operandType}: all f32,
     * or a and b both f16 (or both bf16) with out f32 or that format. Half-precision products run
     * on cuBLAS tensor cores with fp32 accumulation and one rounding of the result; without cuBLAS
     * the operands are widened to fp32 scratch copies for {@code kernels/gemm.cu}.
     */
    @Override
    public void matmul(Tensor out, Tensor a, Tensor b, int batch, int m, int n, int k, boolean transA, boolean transB,
            boolean broadcastA, boolean broadcastB, double beta) {
        CudaStorage so = deviceStorage(out, "matmul", "out"), sa = deviceStorage(a, "matmul", "a");
        CudaStorage sb = deviceStorage(b, "matmul", "b");
        DType ab = CublasTypes.operandType(a.dtype(), b.dtype(), out.dtype());
        sameNumel("matmul", "out", out, Math.multiplyExact(batch, Math.multiplyExact(m, n)));
        sameNumel("matmul", "a", a, Math.multiplyExact(broadcastA ? 1 : batch, Math.multiplyExact(m, k)));
        sameNumel("matmul", "b", b, Math.multiplyExact(broadcastB ? 1 : batch, Math.multiplyExact(k, n)));
        if (ab == DType.F32) {
            matmul.run(so.ptr(), sa.ptr(), sb.ptr(), batch, m, n, k, transA, transB, broadcastA, broadcastB, (float) beta);
        } else if (matmul.usesCublas()) {
            matmul.runHalf(ab, out.dtype(), so.ptr(), sa.ptr(), sb.ptr(), batch, m, n, k, transA, transB, broadcastA,
                    broadcastB, (float) beta);
        } else {
            try (DeviceBuffer wa = widened(sa); DeviceBuffer wb = widened(sb)) {
                if (out.dtype() == DType.F32) {
                    matmul.run(so.ptr(), wa.ptr(), wb.ptr(), batch, m, n, k, transA, transB, broadcastA, broadcastB, (float) beta);
                } else {
                    try (DeviceBuffer wo = widened(so)) {
                        matmul.run(wo.ptr(), wa.ptr(), wb.ptr(), batch, m, n, k, transA, transB, broadcastA, broadcastB,
                                (float) beta);
                        castInto(so.ptr(), so.dtype(), wo.ptr(), DType.F32, out.numel());
                    }
                }
            }
        }
    }

    @Override
    public void permute(Tensor out, Tensor x, int[] axes) {
        CUdeviceptr po = ptr(out, "permute", "out"), px = ptr(x, "permute", "x");
        int[] xs = x.shape();
        if (axes.length != xs.length) {
            throw new IllegalArgumentException("CudaBackend.permute: axes " + Arrays.toString(axes) + " for rank " + xs.length);
        }
        int[] xStrides = Shape.strides(xs);
        int[] shape = new int[axes.length];
        int[] st = new int[axes.length];
        boolean[] seen = new boolean[axes.length];
        for (int i = 0; i < axes.length; i++) {
            if (axes[i] < 0 || axes[i] >= xs.length || seen[axes[i]]) {
                throw new IllegalArgumentException("CudaBackend.permute: axes " + Arrays.toString(axes) + " is not a permutation");
            }
            seen[axes[i]] = true;
            shape[i] = xs[axes[i]];
            st[i] = xStrides[axes[i]];
        }
        if (!Arrays.equals(shape, out.shape())) {
            throw new IllegalArgumentException("CudaBackend.permute: out must have shape " + Arrays.toString(shape) + ", got "
                    + Arrays.toString(out.shape()));
        }
        int n = x.numel();
        if (n == 0) return;
        int[] t = StridedIndex.strided("permute", atLeast1d(shape), axes.length == 0 ? new int[] {1} : st);
        elementwise("elementwise", "strided_copy_kernel", n).ptr(po).ptr(px).i32(n).f32(1f).struct(t).run();
    }

    @Override
    public void copyAlongAxis(Tensor dst, int dstStart, Tensor src, int srcStart, int len, int axis, boolean accumulate) {
        CUdeviceptr pd = ptr(dst, "copyAlongAxis", "dst"), ps = ptr(src, "copyAlongAxis", "src");
        int ax = Shape.axis(axis, dst.rank(), "CudaBackend.copyAlongAxis");
        if (src.rank() != dst.rank()) {
            throw new IllegalArgumentException("CudaBackend.copyAlongAxis: src rank " + src.rank() + " != dst rank " + dst.rank());
        }
        int[] vd = around(dst.shape(), ax), vs = around(src.shape(), ax);
        if (vd[0] != vs[0] || vd[2] != vs[2]) {
            throw new IllegalArgumentException("CudaBackend.copyAlongAxis: dst " + Arrays.toString(dst.shape()) + " and src "
                    + Arrays.toString(src.shape()) + " must agree off axis " + ax);
        }
        if (len < 0 || dstStart < 0 || srcStart < 0 || dstStart + len > vd[1] || srcStart + len > vs[1]) {
            throw new IllegalArgumentException("CudaBackend.copyAlongAxis: [" + srcStart + ", " + (srcStart + len) + ") of "
                    + vs[1] + " to [" + dstStart + ", " + (dstStart + len) + ") of " + vd[1] + " is out of range");
        }
        int n = vd[0] * len * vd[2];
        if (n == 0) return;
        elementwise("elementwise", "copy_along_axis_kernel", n).ptr(pd).ptr(ps).i32(n).i32(len).i32(vd[2]).i32(vd[1])
                .i32(vs[1]).i32(dstStart).i32(srcStart).i32(accumulate ? 1 : 0).run();
    }

    @Override
    public void softmax(Tensor out, Tensor x, int axis, boolean log) {
        CUdeviceptr po = ptr(out, "softmax", "out"), px = ptr(x, "softmax", "x");
        sameNumel("softmax", "out", out, x.numel());
        int[] v = around(x.shape(), Shape.axis(axis, x.rank(), "CudaBackend.softmax"));
        if (x.numel() == 0) return;
        CudaKernels.softmaxForward(ctx, po, px, v[0] * v[2], v[1], v[2], log);
    }

    @Override
    public void softmaxBackward(Tensor dx, Tensor y, Tensor dy, int axis, boolean log) {
        CUdeviceptr pd = ptr(dx, "softmaxBackward", "dx"), py = ptr(y, "softmaxBackward", "y");
        CUdeviceptr pg = ptr(dy, "softmaxBackward", "dy");
        sameNumel("softmaxBackward", "dx", dx, y.numel());
        sameNumel("softmaxBackward", "dy", dy, y.numel());
        int[] v = around(y.shape(), Shape.axis(axis, y.rank(), "CudaBackend.softmaxBackward"));
        if (y.numel() == 0) return;
        CudaKernels.softmaxBackward(ctx, pd, py, pg, v[0] * v[2], v[1], v[2], log);
    }

    @Override
    public void layerNorm(Tensor out, Tensor mean, Tensor rstd, Tensor x, Tensor w, Tensor b, double eps) {
        int c = x.dim(-1);
        int rows = c == 0 ? 0 : x.numel() / c;
        CUdeviceptr po = ptr(out, "layerNorm", "out"), pm = ptr(mean, "layerNorm", "mean");
        CUdeviceptr pr = ptr(rstd, "layerNorm", "rstd"), px = ptr(x, "layerNorm", "x");
        CUdeviceptr pw = ptrOrNull(w, "layerNorm", "w"), pb = ptrOrNull(b, "layerNorm", "b");
        sameNumel("layerNorm", "out", out, x.numel());
        sameNumel("layerNorm", "mean", mean, rows);
        sameNumel("layerNorm", "rstd", rstd, rows);
        if (w != null) sameNumel("layerNorm", "w", w, c);
        if (b != null) sameNumel("layerNorm", "b", b, c);
        if (rows == 0) return;
        CudaKernels.layerNormForward(ctx, po, pm, pr, px, pw, pb, rows, c, (float) eps);
    }

    @Override
    public void layerNormBackward(Tensor dx, Tensor dw, Tensor db, Tensor dy, Tensor x, Tensor mean, Tensor rstd, Tensor w) {
        int c = x.dim(-1);
        int rows = c == 0 ? 0 : x.numel() / c;
        CUdeviceptr pdx = ptrOrNull(dx, "layerNormBackward", "dx"), pdw = ptrOrNull(dw, "layerNormBackward", "dw");
        CUdeviceptr pdb = ptrOrNull(db, "layerNormBackward", "db"), pg = ptr(dy, "layerNormBackward", "dy");
        CUdeviceptr px = ptr(x, "layerNormBackward", "x"), pm = ptr(mean, "layerNormBackward", "mean");
        CUdeviceptr pr = ptr(rstd, "layerNormBackward", "rstd"), pw = ptrOrNull(w, "layerNormBackward", "w");
        sameNumel("layerNormBackward", "dy", dy, x.numel());
        if (dx != null) sameNumel("layerNormBackward", "dx", dx, x.numel());
        if (dw != null) sameNumel("layerNormBackward", "dw", dw, c);
        if (db != null) sameNumel("layerNormBackward", "db", db, c);
        if (w != null) sameNumel("layerNormBackward", "w", w, c);
        sameNumel("layerNormBackward", "mean", mean, rows);
        sameNumel("layerNormBackward", "rstd", rstd, rows);
        if (rows == 0) return;
        CudaKernels.layerNormBackward(ctx, pdx, pdw, pdb, pg, px, pw, pm, pr, rows, c);
    }

    @Override
    public void dropout(Tensor out, Tensor x, double p, long seed) {
        CUdeviceptr po = ptr(out, "dropout", "out"), px = ptr(x, "dropout", "x");
        sameNumel("dropout", "out", out, x.numel());
        if (!(p >= 0 && p < 1)) throw new IllegalArgumentException("CudaBackend.dropout: p : " + p + " (expected: 0 <= p < 1)");
        int n = x.numel();
        if (n == 0) return;
        // the CPU reference's rule: keep element i when (Rng.bits(seed, i) >>> 11) >= ceil(p * 2^53)
        long threshold = (long) Math.ceil(p * 0x1.0p53);
        float scale = (float) (1 / (1 - p));
        elementwise("elementwise", "dropout_kernel", n).ptr(po).ptr(px).i32(n).i64(seed).i64(threshold).f32(scale).run();
    }

    /** {@link #dropout(Tensor, Tensor, double, long)} with the seed read on the device from a {@link lmu.backend.SeedTable} slot. */
    @Override
    public void dropout(Tensor out, Tensor x, double p, Tensor seeds, int slot) {
        CUdeviceptr po = ptr(out, "dropout", "out"), px = ptr(x, "dropout", "x"), ps = ptr(seeds, "dropout", "seeds");
        sameNumel("dropout", "out", out, x.numel());
        if (!(p >= 0 && p < 1)) throw new IllegalArgumentException("CudaBackend.dropout: p : " + p + " (expected: 0 <= p < 1)");
        if (slot < 0 || lmu.backend.SeedTable.FLOATS_PER_SEED * (slot + 1) > seeds.numel()) {
            throw new IllegalArgumentException("CudaBackend.dropout: slot must be in [0, "
                    + seeds.numel() / lmu.backend.SeedTable.FLOATS_PER_SEED + "), got " + slot);
        }
        int n = x.numel();
        if (n == 0) return;
        long threshold = (long) Math.ceil(p * 0x1.0p53);
        float scale = (float) (1 / (1 - p));
        elementwise("elementwise", "dropout_table_kernel", n).ptr(po).ptr(px).i32(n).ptr(ps).i32(slot).i64(threshold)
                .f32(scale).run();
    }

    @Override
    public void maskedFill(Tensor out, Tensor x, boolean[] mask, int[] maskShape, double value) {
        CUdeviceptr po = ptr(out, "maskedFill", "out"), px = ptr(x, "maskedFill", "x");
        sameNumel("maskedFill", "out", out, x.numel());
        int[] shape = atLeast1d(x.shape());
        int[] ms = atLeast1d(maskShape);
        if (mask.length != Shape.numel(ms)) {
            throw new IllegalArgumentException("CudaBackend.maskedFill: mask has " + mask.length + " entries, shape "
                    + Arrays.toString(maskShape) + " needs " + Shape.numel(ms));
        }
        broadcastable("maskedFill", "mask", ms, shape);
        int n = x.numel();
        if (n == 0) return;
        int[] m = new int[mask.length];
        for (int i = 0; i < m.length; i++) m[i] = mask[i] ? 1 : 0;
        int[] t = StridedIndex.strided("maskedFill", shape, Shape.broadcastStrides(ms, shape));
        try (DeviceBuffer dm = scratch(m.length)) {
            staging.upload(m, 0, m.length, dm.ptr());
            elementwise("elementwise", "masked_fill_kernel", n).ptr(po).ptr(px).ptr(dm.ptr()).i32(n).f32((float) value)
                    .struct(t).run();
        }
    }

    /**
     * Element-wise conversion between any two of F32, F16, BF16 ({@code kernels/cast.cu}): to a
     * 16-bit format rounds to nearest even exactly as {@link lmu.tensor.HalfFloats} (fp16 overflow
     * to infinity, subnormals kept, NaN stays NaN), widening is exact, the same dtype copies.
     */
    @Override
    public void cast(Tensor out, Tensor x) {
        CudaStorage so = deviceStorage(out, "cast", "out"), sx = deviceStorage(x, "cast", "x");
        sameNumel("cast", "out", out, x.numel());
        castInto(so.ptr(), so.dtype(), sx.ptr(), sx.dtype(), x.numel());
    }

    @Override
    public void conv1d(Tensor out, Tensor x, Tensor weight, Tensor bias, int stride, int padding) {
        CUdeviceptr po = ptr(out, "conv1d", "out"), px = ptr(x, "conv1d", "x"), pw = ptr(weight, "conv1d", "weight");
        CUdeviceptr pb = ptrOrNull(bias, "conv1d", "bias");
        int[] g = convGeometry("conv1d", x, weight, out, stride, padding);
        int bsz = g[0], t = g[1], cin = g[2], cout = g[3], k = g[4], tOut = g[5];
        if (bias != null) sameNumel("conv1d", "bias", bias, cout);
        int rows = bsz * tOut;
        if (rows == 0 || cout == 0) return;
        try (DeviceBuffer cols = scratch((long) rows * cin * k)) {
            im2col(cols.ptr(), px, bsz, t, cin, k, stride, padding, tOut);
            matmul.run(po, cols.ptr(), pw, 1, rows, cout, cin * k, false, true, false, false, 0f);
        }
        if (pb != null) binary(BinaryOp.ADD, out, out, bias);
    }

    @Override
    public void conv1dBackward(Tensor dx, Tensor dWeight, Tensor dBias, Tensor dOut, Tensor x, Tensor weight, int stride,
            int padding) {
        CUdeviceptr pdx = ptrOrNull(dx, "conv1dBackward", "dx"), pdw = ptrOrNull(dWeight, "conv1dBackward", "dWeight");
        CUdeviceptr pdb = ptrOrNull(dBias, "conv1dBackward", "dBias"), pg = ptr(dOut, "conv1dBackward", "dOut");
        CUdeviceptr px = ptr(x, "conv1dBackward", "x"), pw = ptr(weight, "conv1dBackward", "weight");
        int[] g = convGeometry("conv1dBackward", x, weight, dOut, stride, padding);
        int bsz = g[0], t = g[1], cin = g[2], cout = g[3], k = g[4], tOut = g[5];
        int rows = bsz * tOut;
        if (dx != null) sameNumel("conv1dBackward", "dx", dx, x.numel());
        if (dWeight != null) sameNumel("conv1dBackward", "dWeight", dWeight, weight.numel());
        if (dBias != null) sameNumel("conv1dBackward", "dBias", dBias, cout);
        if (pdw != null && rows > 0) {
            try (DeviceBuffer cols = scratch((long) rows * cin * k)) {
                im2col(cols.ptr(), px, bsz, t, cin, k, stride, padding, tOut);
                matmul.run(pdw, pg, cols.ptr(), 1, cout, cin * k, rows, true, false, false, false, 1f);
            }
        }
        if (pdb != null && rows > 0) {
            try (DeviceBuffer sum = scratch(cout)) {
                sum(sum.ptr(), pg, new int[] {rows, cout}, new boolean[] {true, false});
                binaryContiguous(BinaryOp.ADD, pdb, pdb, sum.ptr(), cout);
            }
        }
        if (pdx != null) {
            if (rows == 0) {
                fill(dx, 0);
                return;
            }
            try (DeviceBuffer dcols = scratch((long) rows * cin * k)) {
                matmul.run(dcols.ptr(), pg, pw, 1, rows, cin * k, cout, false, false, false, false, 0f);
                int n = x.numel();
                if (n > 0) {
                    elementwise("conv1d", "col2im_kernel", n).ptr(pdx).ptr(dcols.ptr()).i32(bsz).i32(t).i32(cin).i32(k)
                            .i32(stride).i32(padding).i32(tOut).run();
                }
            }
        }
    }

    /** {B, T, Cin, Cout, K, Tout} after checking the shapes of a conv1d call. */
    private static int[] convGeometry(String op, Tensor x, Tensor weight, Tensor out, int stride, int padding) {
        if (x.rank() != 3 || weight.rank() != 3 || out.rank() != 3) {
            throw new IllegalArgumentException("CudaBackend." + op + ": x (B, T, Cin), weight (Cout, Cin, K) and out (B, Tout, Cout)"
                    + " must have rank 3, got " + Arrays.toString(x.shape()) + ", " + Arrays.toString(weight.shape()) + ", "
                    + Arrays.toString(out.shape()));
        }
        if (stride <= 0 || padding < 0) {
            throw new IllegalArgumentException("CudaBackend." + op + ": stride " + stride + " (expected > 0), padding " + padding
                    + " (expected >= 0)");
        }
        int bsz = x.dim(0), t = x.dim(1), cin = x.dim(2), cout = weight.dim(0), k = weight.dim(2);
        int tOut = (t + 2 * padding - k) / stride + 1;
        int[] want = {bsz, tOut, cout};
        if (weight.dim(1) != cin || !Arrays.equals(out.shape(), want)) {
            throw new IllegalArgumentException("CudaBackend." + op + ": with x " + Arrays.toString(x.shape()) + " and weight "
                    + Arrays.toString(weight.shape()) + " (stride " + stride + ", padding " + padding + ") out must be "
                    + Arrays.toString(want) + ", got " + Arrays.toString(out.shape()));
        }
        return new int[] {bsz, t, cin, cout, k, tOut};
    }

    private void im2col(CUdeviceptr cols, CUdeviceptr x, int bsz, int t, int cin, int k, int stride, int padding, int tOut) {
        long n = (long) bsz * tOut * cin * k;
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("CudaBackend.conv1d: the im2col matrix has " + n + " entries (expected: < 2^31)");
        }
        if (n == 0) return;
        elementwise("conv1d", "im2col_kernel", (int) n).ptr(cols).ptr(x).i32(bsz).i32(t).i32(cin).i32(k).i32(stride)
                .i32(padding).i32(tOut).run();
    }

    // ------------------------------------------------------------------ fused kernel families

    private lmu.backend.cuda.kernels.CudaOptimizerKernels optimizerKernels;
    private lmu.backend.cuda.kernels.CudaFeatureKernels featureKernels;

    @Override
    public <T> T kernels(Class<T> type) {
        if (type == lmu.backend.LmuKernels.class) return type.cast(new lmu.backend.cuda.kernels.CudaLmuKernels(this));
        if (type == lmu.backend.OptimizerKernels.class) {
            if (optimizerKernels == null) optimizerKernels = new lmu.backend.cuda.kernels.CudaOptimizerKernels(this);
            return type.cast(optimizerKernels);
        }
        if (type == lmu.backend.AttentionKernels.class) return type.cast(new lmu.backend.cuda.kernels.CudaAttentionKernels(this));
        if (type == lmu.backend.CtcKernels.class) return type.cast(new lmu.backend.cuda.kernels.CudaCtcKernels(this));
        if (type == lmu.backend.FeatureKernels.class) {
            if (featureKernels == null) featureKernels = new lmu.backend.cuda.kernels.CudaFeatureKernels(this);
            return type.cast(featureKernels);
        }
        if (type == lmu.backend.FusedKernels.class) return type.cast(new lmu.backend.cuda.kernels.CudaFusedKernels(this));
        return Backend.super.kernels(type);
    }

    // ------------------------------------------------------------------ lifecycle

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("CudaBackend: " + device + " is closed");
    }

    /** Frees the staging buffers, the cuBLAS handle and cached memory; closes the context if this backend opened it. */
    @Override
    public void close() {
        if (closed) return;
        try {
            ctx.synchronize();
            if (featureKernels != null) featureKernels.close();
            drainFrees();
            matmul.close();
            staging.close();
        } finally {
            closed = true;
            if (ownsContext) {
                Backends.unregisterCuda(this); // registered by open
                ctx.close();
            }
        }
    }

    @Override
    public String toString() {
        return "CudaBackend[" + ctx + ", matmul: " + matmul.implementation() + "]";
    }
}
