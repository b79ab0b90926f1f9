package lmu.backend.cuda;

import jcuda.driver.CUdeviceptr;
import lmu.util.Checks;

/**
 * Java launchers for the kernels in {@code kernels/*.cu}: each method checks its sizes, picks the
 * geometry the {@code .cu} file's "launch geometry" note prescribes and enqueues the kernel on the
 * context's stream. They mirror the CPU reference {@code lmu.backend.cpu.CpuKernels} method by
 * method (same argument order, device pointers instead of arrays; today the CPU side is {@code
 * lmu.backend.cpu.CpuBackend}'s softmax and layer norm); parity tests hold each pair to the same
 * results. All tensors are fp32, row-major, with the shapes given per method.
 *
 * <p>Asynchronous: results are ready after {@link CudaContext#synchronize()} or any later copy to
 * the host on the same stream.
 */
public final class CudaKernels {
    private CudaKernels() {}

    private static final int ELEMENTWISE_BLOCK = 256;

    // ---------------------------------------------------------------- gelu.cu

    /**
     * {@code out[i] = gelu(inp[i])} (tanh approximation).
     *
     * @param out output, n floats
     * @param inp input, n floats
     * @param n element count, &gt; 0
     */
    public static void geluForward(CudaContext ctx, CUdeviceptr out, CUdeviceptr inp, int n) {
        Checks.positive("n", n);
        Launch.kernel(ctx, "gelu", "gelu_forward_kernel").grid(LaunchGeometry.blocksFor(n, ELEMENTWISE_BLOCK))
                .block(ELEMENTWISE_BLOCK).ptr(out).ptr(inp).i32(n).run();
    }

    /**
     * {@code dinp[i] = gelu'(inp[i]) * dout[i]} (written, not accumulated).
     *
     * @param dinp input gradient, n floats
     * @param inp forward input, n floats
     * @param dout output gradient, n floats
     * @param n element count, &gt; 0
     */
    public static void geluBackward(CudaContext ctx, CUdeviceptr dinp, CUdeviceptr inp, CUdeviceptr dout, int n) {
        Checks.positive("n", n);
        Launch.kernel(ctx, "gelu", "gelu_backward_kernel").grid(LaunchGeometry.blocksFor(n, ELEMENTWISE_BLOCK))
                .block(ELEMENTWISE_BLOCK).ptr(dinp).ptr(inp).ptr(dout).i32(n).run();
    }

    // ---------------------------------------------------------------- softmax.cu

    /**
     * Softmax or log-softmax over one axis of a tensor viewed as (outer, V, inner).
     *
     * @param out output, shape (outer, V, inner)
     * @param inp logits, shape (outer, V, inner)
     * @param rows R = outer * inner, &gt; 0
     * @param cols V, the length of the softmax axis, &gt; 0
     * @param inner the stride of the softmax axis (1 for the last axis), &gt; 0
     * @param log log-softmax instead of softmax
     */
    public static void softmaxForward(CudaContext ctx, CUdeviceptr out, CUdeviceptr inp, int rows, int cols, int inner,
            boolean log) {
        Checks.positive("inner", inner);
        rowKernel(ctx, "softmax", log ? "log_softmax_forward_kernel" : "softmax_forward_kernel", rows, cols).ptr(out)
                .ptr(inp).i32(rows).i32(cols).i32(inner).run();
    }

    /**
     * Gradient of softmax ({@code dinp = out * (dout - sum(dout * out))}) or log-softmax ({@code
     * dinp = dout - exp(out) * sum(dout)}) given the forward's output; written, not accumulated.
     *
     * @param dinp input gradient, shape (outer, V, inner)
     * @param out the forward's output, shape (outer, V, inner)
     * @param dout output gradient, shape (outer, V, inner)
     */
    public static void softmaxBackward(CudaContext ctx, CUdeviceptr dinp, CUdeviceptr out, CUdeviceptr dout, int rows,
            int cols, int inner, boolean log) {
        Checks.positive("inner", inner);
        rowKernel(ctx, "softmax", log ? "log_softmax_backward_kernel" : "softmax_backward_kernel", rows, cols).ptr(dinp)
                .ptr(out).ptr(dout).i32(rows).i32(cols).i32(inner).run();
    }

    private static Launch rowKernel(CudaContext ctx, String op, String kernel, int rows, int cols) {
        Checks.positive("rows", rows);
        Checks.positive("cols", cols);
        return Launch.kernel(ctx, op, kernel).grid(rows).block(LaunchGeometry.rowBlockThreads(cols));
    }

    // ---------------------------------------------------------------- layernorm.cu

    /**
     * Layer norm over the last axis, saving mean and reciprocal standard deviation for the backward.
     *
     * @param out output, shape (R, C)
     * @param mean per-row mean, shape (R)
     * @param rstd per-row 1 / sqrt(var + eps), shape (R)
     * @param inp input, shape (R, C)
     * @param weight scale, shape (C), or null for 1
     * @param bias shift, shape (C), or null for 0
     * @param eps added to the variance, &gt; 0
     */
    public static void layerNormForward(CudaContext ctx, CUdeviceptr out, CUdeviceptr mean, CUdeviceptr rstd,
            CUdeviceptr inp, CUdeviceptr weight, CUdeviceptr bias, int rows, int cols, float eps) {
        Checks.positive("eps", eps);
        rowKernel(ctx, "layernorm", "layernorm_forward_kernel", rows, cols).ptr(out).ptr(mean).ptr(rstd).ptr(inp)
                .ptrOrNull(weight).ptrOrNull(bias).i32(rows).i32(cols).f32(eps).run();
    }

    /**
     * Layer norm backward: {@code dinp} written, {@code dweight} and {@code dbias} accumulated
     * ({@code +=}) deterministically through per-block partial sums in scratch memory from the
     * context's allocator. Any of the three may be null (not computed).
     *
     * @param dinp input gradient, shape (R, C), or null
     * @param dweight weight gradient, shape (C), accumulated, or null
     * @param dbias bias gradient, shape (C), accumulated, or null
     * @param dout output gradient, shape (R, C)
     * @param inp forward input, shape (R, C)
     * @param weight scale, shape (C), or null for 1
     * @param mean the forward's saved row means, shape (R)
     * @param rstd the forward's saved reciprocal standard deviations, shape (R)
     * @throws IllegalArgumentException when C exceeds what the kernel's shared memory holds
     */
    public static void layerNormBackward(CudaContext ctx, CUdeviceptr dinp, CUdeviceptr dweight, CUdeviceptr dbias,
            CUdeviceptr dout, CUdeviceptr inp, CUdeviceptr weight, CUdeviceptr mean, CUdeviceptr rstd, int rows,
            int cols) {
        Checks.positive("rows", rows);
        Checks.positive("cols", cols);
        if (dinp == null && dweight == null && dbias == null) return;
        int shared = 2 * 4 * cols;
        if (shared > ctx.limits().maxSharedPerBlockOptin()) {
            throw new IllegalArgumentException("layerNormBackward: C : " + cols + " (expected: <= "
                    + ctx.limits().maxSharedPerBlockOptin() / 8 + " on " + ctx + ")");
        }
        boolean params = dweight != null || dbias != null;
        // without parameter gradients there is nothing to reduce across rows: one row per block
        int rowsPerBlock = params ? LaunchGeometry.rowsPerBlock(rows, ctx.multiprocessors()) : 1;
        int partials = LaunchGeometry.blocksFor(rows, rowsPerBlock);
        DeviceAllocator alloc = ctx.allocator();
        DeviceBuffer pw = dweight == null ? null : alloc.allocate(4L * partials * cols);
        DeviceBuffer pb = dbias == null ? null : alloc.allocate(4L * partials * cols);
        try {
            Launch.kernel(ctx, "layernorm", "layernorm_backward_kernel").grid(partials)
                    .block(LaunchGeometry.rowBlockThreads(cols)).sharedBytes(shared).ptrOrNull(dinp)
                    .ptrOrNull(pw == null ? null : pw.ptr()).ptrOrNull(pb == null ? null : pb.ptr()).ptr(dout).ptr(inp)
                    .ptrOrNull(weight).ptr(mean).ptr(rstd).i32(rows).i32(cols).i32(rowsPerBlock).run();
            if (params) {
                Launch.kernel(ctx, "layernorm", "layernorm_backward_dparams_kernel")
                        .grid(LaunchGeometry.blocksFor(cols, ELEMENTWISE_BLOCK)).block(ELEMENTWISE_BLOCK)
                        .ptrOrNull(dweight).ptrOrNull(dbias).ptrOrNull(pw == null ? null : pw.ptr())
                        .ptrOrNull(pb == null ? null : pb.ptr()).i32(partials).i32(cols).run();
            }
        } finally { // scratch freed in stream order: reused only by work enqueued after these kernels
            if (pw != null) pw.close();
            if (pb != null) pb.close();
        }
    }

    // ---------------------------------------------------------------- adamw.cu

    /**
     * One fused Adam step on fp32 master weights, with weight decay decoupled (AdamW) or added to
     * the gradient (Adam's L2 form), as {@code lmu.optim.Adam} does.
     *
     * @param param weights, n floats, updated
     * @param grad gradients, n floats
     * @param m first moment, n floats, updated
     * @param v second moment, n floats, updated
     * @param step the step number t, &ge; 1 (bias corrections 1 - beta^t are computed in double)
     * @param gradScale multiplies every gradient first (1 for none; a clipping coefficient)
     * @param decoupled AdamW's decoupled weight decay; false adds {@code weightDecay * p} to the gradient
     */
    public static void adamwUpdate(CudaContext ctx, CUdeviceptr param, CUdeviceptr grad, CUdeviceptr m, CUdeviceptr v,
            int n, float lr, float beta1, float beta2, float eps, float weightDecay, int step, float gradScale,
            boolean decoupled) {
        Checks.positive("n", n);
        Checks.positive("step", step);
        Checks.inRange("beta1", beta1, 0, 1);
        Checks.inRange("beta2", beta2, 0, 1);
        float bc1 = (float) (1 - Math.pow(beta1, step));
        float bc2 = (float) (1 - Math.pow(beta2, step));
        Launch.kernel(ctx, "adamw", "adamw_update_kernel")
                .grid(LaunchGeometry.gridStrideBlocks(n, ELEMENTWISE_BLOCK, ctx.multiprocessors())).block(ELEMENTWISE_BLOCK)
                .ptr(param).ptr(grad).ptr(m).ptr(v).i32(n).f32(lr).f32(beta1).f32(beta2).f32(bc1).f32(bc2).f32(eps)
                .f32(weightDecay).f32(gradScale).i32(decoupled ? 1 : 0).run();
    }

    /**
     * {@link #adamwUpdate} with the learning rate and bias corrections read from the device-side
     * step state ({@code lmu.backend.OptimizerKernels} slots), skipped on the device when its
     * found-inf slot is set or its sum of squares is not finite. The launch's arguments do not change
     * from step to step (a captured launch replays correctly).
     *
     * @param state the step state, {@code OptimizerKernels.STEP_STATE_SIZE} floats
     */
    public static void adamwUpdateFromState(CudaContext ctx, CUdeviceptr param, CUdeviceptr grad, CUdeviceptr m,
            CUdeviceptr v, int n, CUdeviceptr state, float beta1, float beta2, float eps, float weightDecay,
            boolean decoupled) {
        Checks.positive("n", n);
        Checks.inRange("beta1", beta1, 0, 1);
        Checks.inRange("beta2", beta2, 0, 1);
        Launch.kernel(ctx, "adamw", "adamw_update_state_kernel")
                .grid(LaunchGeometry.gridStrideBlocks(n, ELEMENTWISE_BLOCK, ctx.multiprocessors())).block(ELEMENTWISE_BLOCK)
                .ptr(param).ptr(grad).ptr(m).ptr(v).i32(n).ptr(state).f32(beta1).f32(beta2).f32(eps).f32(weightDecay)
                .i32(decoupled ? 1 : 0).run();
    }

    // ---------------------------------------------------------------- clip_unscale.cu

    /**
     * {@code sumsq[0] = sum over the tensors of sum_i g[i]^2}, in a fixed order (deterministic).
     *
     * @param sumsq one float on the device, overwritten
     * @param grads the gradient tensors
     * @param sizes their element counts, each &gt; 0
     */
    public static void clipSumSquares(CudaContext ctx, CUdeviceptr sumsq, CUdeviceptr[] grads, int[] sizes) {
        if (grads.length != sizes.length || grads.length == 0) {
            throw new IllegalArgumentException("clipSumSquares: grads and sizes must have the same non-zero length, got "
                    + grads.length + " and " + sizes.length);
        }
        int maxPartials = 1024;
        try (DeviceBuffer partial = ctx.allocator().allocate(4L * maxPartials)) {
            for (int t = 0; t < grads.length; t++) {
                Checks.positive("sizes[" + t + "]", sizes[t]);
                int p = Math.min(LaunchGeometry.blocksFor(sizes[t], ELEMENTWISE_BLOCK), maxPartials);
                Launch.kernel(ctx, "clip_unscale", "clip_sum_squares_kernel").grid(p).block(ELEMENTWISE_BLOCK)
                        .ptr(partial).ptr(grads[t]).i32(sizes[t]).run();
                Launch.kernel(ctx, "clip_unscale", "clip_sum_squares_final_kernel").grid(1).block(1024).ptr(sumsq)
                        .ptr(partial).i32(p).i32(t == 0 ? 0 : 1).run();
            }
        }
    }

    /**
     * {@code g[i] *= maxNorm / (norm + 1e-6)} when {@code norm = sqrt(sumsq[0])} is finite and above
     * {@code maxNorm} (else nothing), decided on the device, as {@code lmu.optim.GradClip.clipGlobalNorm}.
     *
     * @param g gradients, n floats, scaled in place
     * @param sumsq the result of {@link #clipSumSquares}
     * @param maxNorm the largest global norm allowed, &gt; 0
     */
    public static void clipScale(CudaContext ctx, CUdeviceptr g, int n, CUdeviceptr sumsq, float maxNorm) {
        Checks.positive("n", n);
        Checks.positive("maxNorm", maxNorm);
        Launch.kernel(ctx, "clip_unscale", "clip_scale_kernel")
                .grid(LaunchGeometry.gridStrideBlocks(n, ELEMENTWISE_BLOCK, ctx.multiprocessors())).block(ELEMENTWISE_BLOCK)
                .ptr(g).i32(n).ptr(sumsq).f32(maxNorm).run();
    }

    /**
     * The loss scaler's unscale: {@code g[i] *= invScale}; sets {@code foundInf[0] = 1} when any
     * result is inf or NaN (the caller clears it once per step).
     *
     * @param g gradients, n floats, scaled in place
     * @param foundInf one int on the device
     */
    public static void unscaleCheck(CudaContext ctx, CUdeviceptr g, int n, float invScale, CUdeviceptr foundInf) {
        Checks.positive("n", n);
        Launch.kernel(ctx, "clip_unscale", "unscale_check_kernel")
                .grid(LaunchGeometry.gridStrideBlocks(n, ELEMENTWISE_BLOCK, ctx.multiprocessors())).block(ELEMENTWISE_BLOCK)
                .ptr(g).i32(n).f32(invScale).ptr(foundInf).run();
    }
    /**
     * {@link #unscaleCheck} with the inverse scale read from and the found-inf flag written to the
     * device-side step state ({@code state[3]}, {@code state[4] = 1.0f}; the caller clears it once per step).
     *
     * @param g gradients, n floats, scaled in place
     * @param state the step state, {@code OptimizerKernels.STEP_STATE_SIZE} floats
     */
    public static void unscaleFromState(CudaContext ctx, CUdeviceptr g, int n, CUdeviceptr state) {
        Checks.positive("n", n);
        Launch.kernel(ctx, "clip_unscale", "unscale_state_kernel")
                .grid(LaunchGeometry.gridStrideBlocks(n, ELEMENTWISE_BLOCK, ctx.multiprocessors())).block(ELEMENTWISE_BLOCK)
                .ptr(g).i32(n).ptr(state).run();
    }
}
