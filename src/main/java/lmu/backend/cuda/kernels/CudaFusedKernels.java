package lmu.backend.cuda.kernels;

import jcuda.driver.CUdeviceptr;
import lmu.backend.FusedKernelArguments;
import lmu.backend.FusedKernels;
import lmu.backend.cuda.CudaBackend;
import lmu.backend.cuda.CudaContext;
import lmu.backend.cuda.CudaStorage;
import lmu.backend.cuda.DeviceAllocator;
import lmu.backend.cuda.DeviceBuffer;
import lmu.backend.cuda.Dim3;
import lmu.backend.cuda.Launch;
import lmu.backend.cuda.LaunchGeometry;
import lmu.tensor.DType;
import lmu.tensor.Tensor;

/**
 * {@link FusedKernels} on one {@link CudaBackend}: {@code kernels/bias_activation.cu} and {@code
 * kernels/residual_layernorm.cu}, fp32, asynchronous on the backend's stream. Column sums (the bias,
 * weight and shift gradients) are deterministic: per-block partial sums in scratch from the
 * context's allocator, added in block order by a second kernel, the scratch freed in stream order.
 */
public final class CudaFusedKernels implements FusedKernels {
    private static final int BLOCK = 256;
    private final CudaBackend backend;
    private final CudaContext ctx;

    /**
     * @param backend the device these kernels run on
     * @throws IllegalArgumentException if backend is null
     */
    public CudaFusedKernels(CudaBackend backend) {
        if (backend == null) throw new IllegalArgumentException("CudaFusedKernels: backend must not be null");
        this.backend = backend;
        this.ctx = backend.context();
    }

    /** The device pointer of an f32 tensor of this backend (null for null). */
    private CUdeviceptr ptr(String op, String arg, Tensor t) {
        if (t == null) return null;
        if (!(t.storage() instanceof CudaStorage s) || s.backend() != backend || t.dtype() != DType.F32) {
            throw new IllegalArgumentException("FusedKernels." + op + ": " + arg + " must be an f32 tensor on "
                    + backend.device() + ", got " + t.dtype() + " on " + t.device());
        }
        return s.ptr();
    }

    /** The kernel's code for an activation (bias_activation.cu ACT_*). */
    static int code(Activation act) {
        return switch (act) {
            case IDENTITY -> 0;
            case RELU -> 1;
            case GELU -> 2;
            case TANH -> 3;
        };
    }

    @Override
    public Tensor biasActivation(Activation act, Tensor x, Tensor bias) {
        String op = "biasActivation";
        FusedKernelArguments.input(op, "x", x);
        FusedKernelArguments.vector(op, "bias", bias, x);
        CUdeviceptr px = ptr(op, "x", x), pb = ptr(op, "bias", bias);
        Tensor y = backend.empty(DType.F32, x.shape());
        int c = x.dim(-1), n = x.numel();
        if (n == 0) return y;
        Launch.kernel(ctx, "bias_activation", "bias_activation_forward_kernel")
                .grid(LaunchGeometry.gridStrideBlocks(n, BLOCK, ctx.multiprocessors())).block(BLOCK)
                .ptr(ptr(op, "y", y)).ptr(px).ptrOrNull(pb).i32(n / c).i32(c).i32(code(act)).run();
        return y;
    }

    @Override
    public Tensor[] biasActivationBackward(Activation act, Tensor dy, Tensor x, Tensor bias, Tensor y, boolean needDx,
            boolean needDbias) {
        String op = "biasActivationBackward";
        FusedKernelArguments.input(op, "dy", dy);
        if (act.backwardUsesInput()) FusedKernelArguments.like(op, "x", x, dy);
        if (act == Activation.RELU || act == Activation.TANH) FusedKernelArguments.like(op, "y", y, dy);
        FusedKernelArguments.vector(op, "bias", bias, dy);
        CUdeviceptr pdy = ptr(op, "dy", dy), pb = ptr(op, "bias", bias);
        CUdeviceptr px = act.backwardUsesInput() ? ptr(op, "x", x) : null;
        CUdeviceptr py = act == Activation.RELU || act == Activation.TANH ? ptr(op, "y", y) : null;
        boolean dbWanted = needDbias && bias != null;
        int c = dy.dim(-1), n = dy.numel();
        Tensor dx = needDx && act != Activation.IDENTITY ? backend.empty(DType.F32, dy.shape()) : null;
        Tensor db = dbWanted ? backend.empty(DType.F32, c) : null;
        boolean writeDx = dx != null;
        if (n == 0 || (!dbWanted && !writeDx)) return new Tensor[] {dx, db};
        int rows = n / c;
        int threads = Math.min(BLOCK, 32 * ((c + 31) / 32));
        int rowsPerBlock = dbWanted ? LaunchGeometry.rowsPerBlock(rows, ctx.multiprocessors()) : 1;
        int partials = LaunchGeometry.blocksFor(rows, rowsPerBlock);
        DeviceBuffer scratch = dbWanted ? ctx.allocator().allocate(4L * partials * c) : null;
        try {
            Launch.kernel(ctx, "bias_activation", "bias_activation_backward_kernel")
                    .grid(Dim3.of(partials, LaunchGeometry.blocksFor(c, threads))).block(threads)
                    .ptrOrNull(writeDx ? ptr(op, "dx", dx) : null).ptrOrNull(scratch == null ? null : scratch.ptr())
                    .ptr(pdy).ptrOrNull(px).ptrOrNull(pb).ptrOrNull(py).i32(rows).i32(c).i32(code(act)).i32(rowsPerBlock)
                    .run();
            if (dbWanted) {
                Launch.kernel(ctx, "bias_activation", "bias_activation_dbias_kernel").grid(LaunchGeometry.blocksFor(c, BLOCK))
                        .block(BLOCK).ptr(ptr(op, "db", db)).ptr(scratch.ptr()).i32(partials).i32(c).run();
            }
        } finally { // freed in stream order: reused only by work enqueued after these kernels
            if (scratch != null) scratch.close();
        }
        return new Tensor[] {dx, db};
    }

    @Override
    public Tensor[] residualLayerNorm(Tensor x, Tensor r, Tensor w, Tensor b, double eps) {
        String op = "residualLayerNorm";
        FusedKernelArguments.input(op, "x", x);
        FusedKernelArguments.like(op, "r", r, x);
        FusedKernelArguments.vector(op, "w", w, x);
        FusedKernelArguments.vector(op, "b", b, x);
        if (!(eps > 0)) throw new IllegalArgumentException("FusedKernels.residualLayerNorm: eps must be > 0, got " + eps);
        CUdeviceptr px = ptr(op, "x", x), pr = ptr(op, "r", r), pw = ptr(op, "w", w), pb = ptr(op, "b", b);
        int c = x.dim(-1), rows = c == 0 ? 0 : x.numel() / c;
        Tensor s = backend.empty(DType.F32, x.shape()), y = backend.empty(DType.F32, x.shape());
        Tensor mean = backend.empty(DType.F32, rows), rstd = backend.empty(DType.F32, rows);
        if (rows > 0) {
            Launch.kernel(ctx, "residual_layernorm", "residual_layernorm_forward_kernel").grid(rows)
                    .block(LaunchGeometry.rowBlockThreads(c)).ptr(ptr(op, "s", s)).ptr(ptr(op, "y", y))
                    .ptr(ptr(op, "mean", mean)).ptr(ptr(op, "rstd", rstd)).ptr(px).ptr(pr).ptrOrNull(pw).ptrOrNull(pb)
                    .i32(rows).i32(c).f32((float) eps).run();
        }
        return new Tensor[] {s, y, mean, rstd};
    }

    @Override
    public Tensor[] residualLayerNormBackward(Tensor dy, Tensor ds, Tensor s, Tensor mean, Tensor rstd, Tensor w,
            boolean needDx, boolean needParams) {
        String op = "residualLayerNormBackward";
        FusedKernelArguments.input(op, "s", s);
        if (dy != null) FusedKernelArguments.like(op, "dy", dy, s);
        if (ds != null) FusedKernelArguments.like(op, "ds", ds, s);
        FusedKernelArguments.vector(op, "w", w, s);
        FusedKernelArguments.rowStatistics(op, mean, rstd, s);
        CUdeviceptr ps = ptr(op, "s", s), pds = ptr(op, "ds", ds), pw = ptr(op, "w", w);
        CUdeviceptr pm = ptr(op, "mean", mean), pr = ptr(op, "rstd", rstd);
        FusedKernelArguments.check(dy != null, op, "dy", "a tensor (with no gradient at y, dx is ds)", dy);
        CUdeviceptr pdy = ptr(op, "dy", dy);
        int c = s.dim(-1), rows = c == 0 ? 0 : s.numel() / c;
        Tensor dx = needDx ? backend.empty(DType.F32, s.shape()) : null;
        Tensor dw = needParams ? backend.empty(DType.F32, c) : null, db = needParams ? backend.empty(DType.F32, c) : null;
        if (rows == 0 || (!needDx && !needParams)) return new Tensor[] {dx, dw, db};
        int shared = 2 * 4 * c;
        if (shared > ctx.limits().maxSharedPerBlockOptin()) {
            throw new IllegalArgumentException("FusedKernels.residualLayerNormBackward: C : " + c + " (expected: <= "
                    + ctx.limits().maxSharedPerBlockOptin() / 8 + " on " + ctx + ")");
        }
        // without parameter gradients there is nothing to reduce across rows: one row per block
        int rowsPerBlock = needParams ? LaunchGeometry.rowsPerBlock(rows, ctx.multiprocessors()) : 1;
        int partials = LaunchGeometry.blocksFor(rows, rowsPerBlock);
        DeviceAllocator alloc = ctx.allocator();
        DeviceBuffer partW = needParams ? alloc.allocate(4L * partials * c) : null;
        DeviceBuffer partB = needParams ? alloc.allocate(4L * partials * c) : null;
        try {
            Launch.kernel(ctx, "residual_layernorm", "residual_layernorm_backward_kernel").grid(partials)
                    .block(LaunchGeometry.rowBlockThreads(c)).sharedBytes(shared).ptrOrNull(ptr(op, "dx", dx))
                    .ptrOrNull(partW == null ? null : partW.ptr()).ptrOrNull(partB == null ? null : partB.ptr()).ptr(pdy)
                    .ptrOrNull(pds).ptr(ps).ptrOrNull(pw).ptr(pm).ptr(pr).i32(rows).i32(c).i32(rowsPerBlock).run();
            if (needParams) {
                Launch.kernel(ctx, "residual_layernorm", "residual_layernorm_dparams_kernel")
                        .grid(LaunchGeometry.blocksFor(c, BLOCK)).block(BLOCK).ptr(ptr(op, "dw", dw)).ptr(ptr(op, "db", db))
                        .ptr(partW.ptr()).ptr(partB.ptr()).i32(partials).i32(c).run();
            }
        } finally { // scratch freed in stream order: reused only by work enqueued after these kernels
            if (partW != null) partW.close();
            if (partB != null) partB.close();
        }
        return new Tensor[] {dx, dw, db};
    }
}
