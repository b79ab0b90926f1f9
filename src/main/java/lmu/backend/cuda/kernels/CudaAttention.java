package lmu.backend.cuda.kernels;

import jcuda.driver.CUdeviceptr;
import lmu.backend.cuda.CudaContext;
import lmu.backend.cuda.DeviceBuffer;
import lmu.backend.cuda.Dim3;
import lmu.backend.cuda.Launch;
import lmu.util.Checks;

/**
 * Launchers of {@code kernels/attention.cu}: fused scaled dot-product attention with a key padding
 * mask and dropout on the weights, the core of {@link lmu.nn.MultiHeadAttention} ({@code
 * dropout(softmax(scale q k^T))} with padded keys' scores replaced by the mask value, times v),
 * tiled with an online softmax so that nothing of size T x T is stored; the backward recomputes the
 * weights and redraws the dropout mask. The mask is {@link lmu.backend.cpu.CpuAttention}'s: element
 * (bh, t, s) of the (B·H, T, T) weights is kept when {@code (Rng.bits(seed, (bh·T + t)·T + s) >>> 11)
 * >= ceil(p·2^53)}. fp32; head dimension 32 or 64. Tensors q, k, v, o and their gradients are (B, T,
 * H, Dh) = (B, T, C) row-major, as the projections produce them; the forward keeps two statistics of
 * every row's softmax (before dropout), shape (B, H, T, 2): the largest score m and log(sum exp(s -
 * m)). Asynchronous on the context's stream.
 */
public final class CudaAttention {
    private CudaAttention() {}

    /** Head dimensions the kernels are built for. */
    public static boolean supportsHeadDim(int headDim) {
        return headDim == 32 || headDim == 64;
    }

    /**
     * {@code o = softmax(mask(q k^T / sqrt(Dh))) v} per batch and head, with {@link
     * lmu.nn.MultiHeadAttention#MASK_VALUE} and no dropout.
     *
     * @param o output, shape (B, T, H, Dh)
     * @param stats output, shape (B, H, T, 2): every row's largest score and log(sum exp(s - max)), for the backward
     * @param q queries, shape (B, T, H, Dh)
     * @param k keys, shape (B, T, H, Dh)
     * @param v values, shape (B, T, H, Dh)
     * @param lengths int32 valid frames, shape (B), each in [0, T]; null when nothing is padded
     * @throws IllegalArgumentException for a head dimension other than 32 and 64, or sizes out of range
     */
    public static void forward(CudaContext ctx, CUdeviceptr o, CUdeviceptr stats, CUdeviceptr q, CUdeviceptr k, CUdeviceptr v,
            CUdeviceptr lengths, int batch, int frames, int heads, int headDim) {
        forward(ctx, o, stats, q, k, v, lengths, batch, frames, heads, headDim, scale(headDim),
                (float) lmu.nn.MultiHeadAttention.MASK_VALUE, 0, 0);
    }

    /**
     * {@code o = dropout(softmax(mask(scale · q k^T))) v} per batch and head.
     *
     * @param o output, shape (B, T, H, Dh)
     * @param stats output, shape (B, H, T, 2): every row's largest score and log(sum exp(s - max)), for the backward
     * @param q queries, shape (B, T, H, Dh)
     * @param k keys, shape (B, T, H, Dh)
     * @param v values, shape (B, T, H, Dh)
     * @param lengths int32 valid frames, shape (B), each in [0, T]; null when nothing is padded
     * @param scale factor of the scores (q is multiplied by it, rounded to fp32, before the product)
     * @param maskValue score of padded keys
     * @param p dropout probability on the weights, in [0, 1); 0 for none
     * @param seed dropout seed (the backward must get the same)
     * @throws IllegalArgumentException for a head dimension other than 32 and 64, p outside [0, 1), or sizes out of range
     */
    public static void forward(CudaContext ctx, CUdeviceptr o, CUdeviceptr stats, CUdeviceptr q, CUdeviceptr k, CUdeviceptr v,
            CUdeviceptr lengths, int batch, int frames, int heads, int headDim, float scale, float maskValue, double p,
            long seed) {
        forward(ctx, o, stats, q, k, v, lengths, batch, frames, heads, headDim, scale, maskValue, p, seed, null, 0);
    }

    /**
     * {@link #forward(CudaContext, CUdeviceptr, CUdeviceptr, CUdeviceptr, CUdeviceptr, CUdeviceptr, CUdeviceptr, int,
     * int, int, int, float, float, double, long)} with the seed read on the device from slot {@code slot} of a seed
     * table ({@link lmu.backend.SeedTable}: four floats per seed) when {@code seeds} is non-null, so a captured
     * launch replays with the table's current seed; {@code seed} is used when {@code seeds} is null.
     *
     * @param seeds device seed table, or null
     * @param slot slot of the table (ignored when seeds is null)
     */
    public static void forward(CudaContext ctx, CUdeviceptr o, CUdeviceptr stats, CUdeviceptr q, CUdeviceptr k, CUdeviceptr v,
            CUdeviceptr lengths, int batch, int frames, int heads, int headDim, float scale, float maskValue, double p,
            long seed, CUdeviceptr seeds, int slot) {
        String variant = check(batch, frames, heads, headDim);
        Launch.kernel(ctx, "attention", "attention_forward_kernel_" + variant)
                .grid(new Dim3(ModelKernelGeometry.attentionQueryBlocks(frames), heads, batch))
                .block(ModelKernelGeometry.ATTENTION_THREADS).ptr(o).ptr(stats).ptr(q).ptr(k).ptr(v).ptrOrNull(lengths)
                .i32(frames).i32(heads).f32(scale).f32(maskValue).i64(seed).ptrOrNull(seeds).i32(slot).i64(threshold(p))
                .f32(keepScale(p)).run();
    }

    /**
     * Gradients of q, k and v (written, not accumulated), given the forward's o and stats.
     *
     * @param dq output, shape (B, T, H, Dh)
     * @param dk output, shape (B, T, H, Dh)
     * @param dv output, shape (B, T, H, Dh)
     * @param dout gradient with respect to o, shape (B, T, H, Dh)
     * @param o the forward's output
     * @param stats the forward's row statistics, shape (B, H, T, 2)
     */
    public static void backward(CudaContext ctx, CUdeviceptr dq, CUdeviceptr dk, CUdeviceptr dv, CUdeviceptr dout,
            CUdeviceptr q, CUdeviceptr k, CUdeviceptr v, CUdeviceptr o, CUdeviceptr stats, CUdeviceptr lengths, int batch,
            int frames, int heads, int headDim) {
        backward(ctx, dq, dk, dv, dout, q, k, v, o, stats, lengths, batch, frames, heads, headDim, scale(headDim),
                (float) lmu.nn.MultiHeadAttention.MASK_VALUE, 0, 0);
    }

    /**
     * Gradients of q, k and v (written, not accumulated), given the forward's o and stats and the
     * forward's scale, mask value, dropout probability and seed. dq may be null (not computed); dk
     * and dv come from one kernel: both null (not computed) or both given.
     *
     * @param dq output, shape (B, T, H, Dh), or null
     * @param dk output, shape (B, T, H, Dh), or null with dv
     * @param dv output, shape (B, T, H, Dh), or null with dk
     * @param dout gradient with respect to o, shape (B, T, H, Dh)
     * @param o the forward's output
     * @param stats the forward's row statistics, shape (B, H, T, 2)
     * @throws IllegalArgumentException for a head dimension other than 32 and 64, p outside [0, 1), or sizes out of range
     */
    public static void backward(CudaContext ctx, CUdeviceptr dq, CUdeviceptr dk, CUdeviceptr dv, CUdeviceptr dout,
            CUdeviceptr q, CUdeviceptr k, CUdeviceptr v, CUdeviceptr o, CUdeviceptr stats, CUdeviceptr lengths, int batch,
            int frames, int heads, int headDim, float scale, float maskValue, double p, long seed) {
        backward(ctx, dq, dk, dv, dout, q, k, v, o, stats, lengths, batch, frames, heads, headDim, scale, maskValue, p, seed,
                null, 0);
    }

    /**
     * The backward with the seed read on the device from slot {@code slot} of a seed table when {@code seeds} is
     * non-null (as the forward of that form), else {@code seed}.
     *
     * @param seeds device seed table, or null
     * @param slot slot of the table (ignored when seeds is null)
     */
    public static void backward(CudaContext ctx, CUdeviceptr dq, CUdeviceptr dk, CUdeviceptr dv, CUdeviceptr dout,
            CUdeviceptr q, CUdeviceptr k, CUdeviceptr v, CUdeviceptr o, CUdeviceptr stats, CUdeviceptr lengths, int batch,
            int frames, int heads, int headDim, float scale, float maskValue, double p, long seed, CUdeviceptr seeds,
            int slot) {
        String variant = check(batch, frames, heads, headDim);
        if ((dk == null) != (dv == null)) {
            throw new IllegalArgumentException("attention: dk and dv must both be given or both be null, got dk "
                    + (dk == null ? "null" : "given") + " and dv " + (dv == null ? "null" : "given"));
        }
        long threshold = threshold(p);
        float keepScale = keepScale(p);
        try (DeviceBuffer dd = ctx.allocator().allocate(4L * batch * heads * frames)) {
            Launch.kernel(ctx, "attention", "attention_backward_dot_kernel_" + variant)
                    .grid(ModelKernelGeometry.attentionDotBlocks(batch, frames, heads))
                    .block(ModelKernelGeometry.ATTENTION_THREADS).ptr(dd).ptr(dout).ptr(o).i32(batch).i32(frames).i32(heads)
                    .run();
            if (dq != null) {
                Launch.kernel(ctx, "attention", "attention_backward_dq_kernel_" + variant)
                        .grid(new Dim3(ModelKernelGeometry.attentionQueryBlocks(frames), heads, batch))
                        .block(ModelKernelGeometry.ATTENTION_THREADS).ptr(dq).ptr(q).ptr(k).ptr(v).ptr(dout).ptr(stats)
                        .ptr(dd).ptrOrNull(lengths).i32(frames).i32(heads).f32(scale).i64(seed).ptrOrNull(seeds).i32(slot)
                        .i64(threshold).f32(keepScale).run();
            }
            if (dk != null) {
                Launch.kernel(ctx, "attention", "attention_backward_dkdv_kernel_" + variant)
                        .grid(new Dim3(ModelKernelGeometry.attentionKeyBlocks(frames), heads, batch))
                        .block(ModelKernelGeometry.ATTENTION_THREADS).ptr(dk).ptr(dv).ptr(q).ptr(k).ptr(v).ptr(dout)
                        .ptr(stats).ptr(dd).ptrOrNull(lengths).i32(frames).i32(heads).f32(scale).f32(maskValue).i64(seed)
                        .ptrOrNull(seeds).i32(slot).i64(threshold).f32(keepScale).run();
            }
        } // scratch freed in stream order
    }

    /** 1 / sqrt(Dh) in fp32, as the CPU module computes it. */
    static float scale(int headDim) {
        return (float) (1 / Math.sqrt(headDim));
    }

    /** The kernels' dropout threshold on the top 53 bits, ceil(p·2^53) (0: no dropout), as the CPU draws. */
    static long threshold(double p) {
        if (!(p >= 0 && p < 1)) throw new IllegalArgumentException("attention: p : " + p + " (expected: 0 <= p < 1)");
        return (long) Math.ceil(p * 0x1.0p53);
    }

    /** Factor of kept weights, (float) (1 / (1 - p)), as the CPU rounds it. */
    static float keepScale(double p) {
        return (float) (1 / (1 - p));
    }

    private static String check(int batch, int frames, int heads, int headDim) {
        Checks.positive("attention batch", batch);
        Checks.positive("attention frames", frames);
        Checks.positive("attention heads", heads);
        if (batch > 65535 || heads > 65535) {
            throw new IllegalArgumentException("attention: B " + batch + " and H " + heads + " (expected: <= 65535 each)");
        }
        return ModelKernelGeometry.attentionVariant(headDim);
    }
}
