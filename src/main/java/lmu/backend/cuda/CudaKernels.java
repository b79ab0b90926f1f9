package lmu.backend.cuda;

import jcuda.driver.CUdeviceptr;
import lmu.util.Checks;

/**
 * Java launchers for the kernels in {@code kernels/*.cu}: each method checks its sizes, picks the
 * geometry the {@code .cu} file's "launch geometry" note prescribes and enqueues the kernel on the
 * context's stream. They mirror the CPU reference {@code lmu.backend.cpu.CpuKernels} method by
 * method (same argument order, device pointers instead of arrays); parity tests hold each pair
 * to the same results. All tensors are fp32, row-major, with the shapes given per method.
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
     * Row softmax.
     *
     * @param out output, shape (R, V)
     * @param inp logits, shape (R, V)
     * @param rows R, &gt; 0
     * @param cols V, &gt; 0
     */
    public static void softmaxForward(CudaContext ctx, CUdeviceptr out, CUdeviceptr inp, int rows, int cols) {
        rowKernel(ctx, "softmax_forward_kernel", rows, cols).ptr(out).ptr(inp).i32(rows).i32(cols).run();
    }

    /**
     * Row softmax backward: {@code dinp = out * (dout - sum(dout * out))} (written).
     *
     * @param dinp input gradient, shape (R, V)
     * @param out the forward's output, shape (R, V)
     * @param dout output gradient, shape (R, V)
     */
    public static void softmaxBackward(CudaContext ctx, CUdeviceptr dinp, CUdeviceptr out, CUdeviceptr dout, int rows,
            int cols) {
        rowKernel(ctx, "softmax_backward_kernel", rows, cols).ptr(dinp).ptr(out).ptr(dout).i32(rows).i32(cols).run();
    }

    /**
     * Row log-softmax.
     *
     * @param out output, shape (R, V)
     * @param inp logits, shape (R, V)
     */
    public static void logSoftmaxForward(CudaContext ctx, CUdeviceptr out, CUdeviceptr inp, int rows, int cols) {
        rowKernel(ctx, "log_softmax_forward_kernel", rows, cols).ptr(out).ptr(inp).i32(rows).i32(cols).run();
    }

    /**
     * Row log-softmax backward: {@code dinp = dout - exp(out) * sum(dout)} (written).
     *
     * @param dinp input gradient, shape (R, V)
     * @param out the forward's output, shape (R, V)
     * @param dout output gradient, shape (R, V)
     */
    public static void logSoftmaxBackward(CudaContext ctx, CUdeviceptr dinp, CUdeviceptr out, CUdeviceptr dout,
            int rows, int cols) {
        rowKernel(ctx, "log_softmax_backward_kernel", rows, cols).ptr(dinp).ptr(out).ptr(dout).i32(rows).i32(cols).run();
    }

    private static Launch rowKernel(CudaContext ctx, String kernel, int rows, int cols) {
        Checks.positive("rows", rows);
        Checks.positive("cols", cols);
        String op = kernel.startsWith("layernorm") ? "layernorm" : "softmax";
        return Launch.kernel(ctx, op, kernel).grid(rows).block(LaunchGeometry.rowBlockThreads(cols));
    }

    // ---------------------------------------------------------------- layernorm.cu

    /**
     * Layer norm forward, saving mean and reciprocal standard deviation for the backward.
     *
     * @param out output, shape (R, C)
     * @param mean per-row mean, shape (R)
     * @param rstd per-row 1 / sqrt(var + eps), shape (R)
     * @param inp input, shape (R, C)
     * @param weight scale, shape (C)
     * @param bias shift, shape (C)
     * @param eps added to the variance, &gt; 0
     */
    public static void layerNormForward(CudaContext ctx, CUdeviceptr out, CUdeviceptr mean, CUdeviceptr rstd,
            CUdeviceptr inp, CUdeviceptr weight, CUdeviceptr bias, int rows, int cols, float eps) {
        Checks.positive("eps", eps);
        rowKernel(ctx, "layernorm_forward_kernel", rows, cols).ptr(out).ptr(mean).ptr(rstd).ptr(inp).ptr(weight)
                .ptr(bias).i32(rows).i32(cols).f32(eps).run();
    }

    /**
     * Layer norm backward: {@code dinp} written, {@code dweight} and {@code dbias} accumulated
     * ({@code +=}) deterministically through per-block partial sums in scratch memory from the
     * context's allocator.
     *
     * @param dinp input gradient, shape (R, C)
     * @param dweight weight gradient, shape (C), accumulated
     * @param dbias bias gradient, shape (C), accumulated
     * @param dout output gradient, shape (R, C)
     * @param inp forward input, shape (R, C)
     * @param weight scale, shape (C)
     * @param mean the forward's saved row means, shape (R)
     * @param rstd the forward's saved reciprocal standard deviations, shape (R)
     * @throws IllegalArgumentException when C exceeds what the kernel's shared memory holds
     */
    public static void layerNormBackward(CudaContext ctx, CUdeviceptr dinp, CUdeviceptr dweight, CUdeviceptr dbias,
            CUdeviceptr dout, CUdeviceptr inp, CUdeviceptr weight, CUdeviceptr mean, CUdeviceptr rstd, int rows,
            int cols) {
        Checks.positive("rows", rows);
        Checks.positive("cols", cols);
        int shared = 2 * 4 * cols;
        if (shared > ctx.limits().maxSharedPerBlockOptin()) {
            throw new IllegalArgumentException("layerNormBackward: C : " + cols + " (expected: <= "
                    + ctx.limits().maxSharedPerBlockOptin() / 8 + " on " + ctx + ")");
        }
        int rowsPerBlock = LaunchGeometry.rowsPerBlock(rows, ctx.multiprocessors());
        int partials = LaunchGeometry.blocksFor(rows, rowsPerBlock);
        DeviceAllocator alloc = ctx.allocator();
        try (DeviceBuffer pw = alloc.allocate(4L * partials * cols);
                DeviceBuffer pb = alloc.allocate(4L * partials * cols)) {
            Launch.kernel(ctx, "layernorm", "layernorm_backward_kernel").grid(partials)
                    .block(LaunchGeometry.rowBlockThreads(cols)).sharedBytes(shared).ptr(dinp).ptr(pw).ptr(pb)
                    .ptr(dout).ptr(inp).ptr(weight).ptr(mean).ptr(rstd).i32(rows).i32(cols).i32(rowsPerBlock).run();
            Launch.kernel(ctx, "layernorm", "layernorm_backward_dparams_kernel")
                    .grid(LaunchGeometry.blocksFor(cols, ELEMENTWISE_BLOCK)).block(ELEMENTWISE_BLOCK).ptr(dweight)
                    .ptr(dbias).ptr(pw).ptr(pb).i32(partials).i32(cols).run();
        } // scratch freed in stream order: reused only by work enqueued after these kernels
    }

    // ---------------------------------------------------------------- adamw.cu

    /**
     * One fused AdamW step (decoupled weight decay) on fp32 master weights.
     *
     * @param param weights, n floats, updated
     * @param grad gradients, n floats
     * @param m first moment, n floats, updated
     * @param v second moment, n floats, updated
     * @param step the step number t, &ge; 1 (bias corrections 1 - beta^t are computed in double)
     * @param gradScale multiplies every gradient first (1 for none; a clipping coefficient)
     */
    public static void adamwUpdate(CudaContext ctx, CUdeviceptr param, CUdeviceptr grad, CUdeviceptr m, CUdeviceptr v,
            int n, float lr, float beta1, float beta2, float eps, float weightDecay, int step, float gradScale) {
        Checks.positive("n", n);
        Checks.positive("step", step);
        Checks.inRange("beta1", beta1, 0, 0.999999);
        Checks.inRange("beta2", beta2, 0, 0.999999);
        float bc1 = (float) (1 - Math.pow(beta1, step));
        float bc2 = (float) (1 - Math.pow(beta2, step));
        Launch.kernel(ctx, "adamw", "adamw_update_kernel")
                .grid(LaunchGeometry.gridStrideBlocks(n, ELEMENTWISE_BLOCK, ctx.multiprocessors())).block(ELEMENTWISE_BLOCK)
                .ptr(param).ptr(grad).ptr(m).ptr(v).i32(n).f32(lr).f32(beta1).f32(beta2).f32(bc1).f32(bc2).f32(eps)
                .f32(weightDecay).f32(gradScale).run();
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
     * {@code g[i] *= min(1, maxNorm / (sqrt(sumsq[0]) + 1e-6))}, the coefficient computed on the device.
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
}
