package lmu.backend.cuda.kernels;

import jcuda.driver.CUdeviceptr;
import lmu.backend.cuda.CudaContext;
import lmu.backend.cuda.DeviceBuffer;
import lmu.backend.cuda.Dim3;
import lmu.backend.cuda.Launch;
import lmu.tensor.DType;
import lmu.util.Checks;

/**
 * Launchers of {@code kernels/attention_half.cu}: {@link CudaAttention}'s function (fused scaled
 * dot-product attention, key padding mask replaced by the mask value, dropout on the weights with
 * the CPU's counter-based mask, backward by recomputation) with q, k, v, o and their gradients
 * stored in a 16-bit format, F16 or BF16, and computed on tensor cores: every product accumulates in
 * fp32, the softmax and its row statistics are fp32. The scale multiplies the fp32 scores. Tensors
 * (B, T, H, Dh) = (B, T, C) row-major in the format, C = H·Dh; statistics (B, H, T, 2) fp32 as
 * {@link CudaAttention} keeps them. Head dimension 32 or 64. Asynchronous on the context's stream.
 *
 * <pre>{@code
 * CudaHalfAttention.forward(ctx, DType.F16, o, stats, q, k, v, lengths, 96, 200, 6, 64, 0.125f, -1e4f, 0.1, seed);
 * CudaHalfAttention.backward(ctx, DType.F16, dq, dk, dv, dO, q, k, v, o, stats, lengths, 96, 200, 6, 64, 0.125f, -1e4f, 0.1, seed);
 * }</pre>
 */
public final class CudaHalfAttention {
    private CudaHalfAttention() {}

    /** Whether the kernels are built for a format and head dimension: F16 or BF16, Dh 32 or 64. */
    public static boolean supports(DType format, int headDim) {
        return (format == DType.F16 || format == DType.BF16) && CudaAttention.supportsHeadDim(headDim);
    }

    /**
     * {@code o = dropout(softmax(mask(scale · q k^T))) v} per batch and head.
     *
     * @param format F16 or BF16: the element type of q, k, v and o
     * @param o output, shape (B, T, H, Dh), in the format
     * @param stats output, shape (B, H, T, 2) fp32: every row's largest score and log(sum exp(s - max))
     * @param q queries, shape (B, T, H, Dh)
     * @param k keys, shape (B, T, H, Dh)
     * @param v values, shape (B, T, H, Dh)
     * @param lengths int32 valid frames, shape (B), each in [0, T]; null when nothing is padded
     * @param scale factor of the fp32 scores
     * @param maskValue score of padded keys
     * @param p dropout probability on the weights, in [0, 1); 0 for none
     * @param seed dropout seed (the backward must get the same)
     * @throws IllegalArgumentException for a format other than F16 and BF16, a head dimension other
     *     than 32 and 64, p outside [0, 1), or sizes out of range
     */
    public static void forward(CudaContext ctx, DType format, CUdeviceptr o, CUdeviceptr stats, CUdeviceptr q, CUdeviceptr k,
            CUdeviceptr v, CUdeviceptr lengths, int batch, int frames, int heads, int headDim, float scale, float maskValue,
            double p, long seed) {
        forward(ctx, format, o, stats, q, k, v, lengths, batch, frames, heads, headDim, scale, maskValue, p, seed, null, 0);
    }

    /**
     * The forward with the seed read on the device from slot {@code slot} of a seed table ({@link
     * lmu.backend.SeedTable}: four floats per seed) when {@code seeds} is non-null, so a captured launch replays with
     * the table's current seed; {@code seed} is used when {@code seeds} is null.
     *
     * @param seeds device seed table, or null
     * @param slot slot of the table (ignored when seeds is null)
     */
    public static void forward(CudaContext ctx, DType format, CUdeviceptr o, CUdeviceptr stats, CUdeviceptr q, CUdeviceptr k,
            CUdeviceptr v, CUdeviceptr lengths, int batch, int frames, int heads, int headDim, float scale, float maskValue,
            double p, long seed, CUdeviceptr seeds, int slot) {
        String variant = check(format, batch, frames, heads, headDim);
        long threshold = CudaAttention.threshold(p);
        Launch.kernel(ctx, "attention_half", "attention_half_forward_kernel_" + variant)
                .grid(new Dim3(ModelKernelGeometry.halfAttentionQueryBlocks(frames), heads, batch))
                .block(ModelKernelGeometry.ATTENTION_THREADS).ptr(o).ptr(stats).ptr(q).ptr(k).ptr(v).ptrOrNull(lengths)
                .i32(frames).i32(heads).f32(scale).f32(maskValue).i64(seed).ptrOrNull(seeds).i32(slot).i64(threshold)
                .f32(CudaAttention.keepScale(p)).run();
    }

    /**
     * Gradients of q, k and v in the format (written, not accumulated), given the forward's o and
     * stats and the forward's scale, mask value, dropout probability and seed. dq may be null (not
     * computed); dk and dv come from one kernel: both null or both given.
     *
     * @param format F16 or BF16: the element type of every tensor but stats
     * @param dq output, shape (B, T, H, Dh), or null
     * @param dk output, shape (B, T, H, Dh), or null with dv
     * @param dv output, shape (B, T, H, Dh), or null with dk
     * @param dout gradient with respect to o, shape (B, T, H, Dh)
     * @param o the forward's output
     * @param stats the forward's row statistics, shape (B, H, T, 2) fp32
     * @throws IllegalArgumentException for a format other than F16 and BF16, a head dimension other
     *     than 32 and 64, p outside [0, 1), sizes out of range, or one of dk and dv null
     */
    public static void backward(CudaContext ctx, DType format, CUdeviceptr dq, CUdeviceptr dk, CUdeviceptr dv,
            CUdeviceptr dout, CUdeviceptr q, CUdeviceptr k, CUdeviceptr v, CUdeviceptr o, CUdeviceptr stats,
            CUdeviceptr lengths, int batch, int frames, int heads, int headDim, float scale, float maskValue, double p,
            long seed) {
        backward(ctx, format, dq, dk, dv, dout, q, k, v, o, stats, lengths, batch, frames, heads, headDim, scale, maskValue,
                p, seed, null, 0);
    }

    /**
     * The backward with the seed read on the device from slot {@code slot} of a seed table when {@code seeds} is
     * non-null (as the forward of that form), else {@code seed}.
     *
     * @param seeds device seed table, or null
     * @param slot slot of the table (ignored when seeds is null)
     */
    public static void backward(CudaContext ctx, DType format, CUdeviceptr dq, CUdeviceptr dk, CUdeviceptr dv,
            CUdeviceptr dout, CUdeviceptr q, CUdeviceptr k, CUdeviceptr v, CUdeviceptr o, CUdeviceptr stats,
            CUdeviceptr lengths, int batch, int frames, int heads, int headDim, float scale, float maskValue, double p,
            long seed, CUdeviceptr seeds, int slot) {
        String variant = check(format, batch, frames, heads, headDim);
        if ((dk == null) != (dv == null)) {
            throw new IllegalArgumentException("attention_half: dk and dv must both be given or both be null, got dk "
                    + (dk == null ? "null" : "given") + " and dv " + (dv == null ? "null" : "given"));
        }
        long threshold = CudaAttention.threshold(p);
        float keepScale = CudaAttention.keepScale(p);
        if (dq == null && dk == null) return;
        try (DeviceBuffer dd = ctx.allocator().allocate(4L * batch * heads * frames)) {
            Launch.kernel(ctx, "attention_half", "attention_half_backward_dot_kernel_" + variant)
                    .grid(ModelKernelGeometry.attentionDotBlocks(batch, frames, heads))
                    .block(ModelKernelGeometry.ATTENTION_THREADS).ptr(dd).ptr(dout).ptr(o).i32(batch).i32(frames).i32(heads)
                    .run();
            if (dq != null) {
                Launch.kernel(ctx, "attention_half", "attention_half_backward_dq_kernel_" + variant)
                        .grid(new Dim3(ModelKernelGeometry.halfAttentionQueryBlocks(frames), heads, batch))
                        .block(ModelKernelGeometry.ATTENTION_THREADS).ptr(dq).ptr(q).ptr(k).ptr(v).ptr(dout).ptr(stats)
                        .ptr(dd).ptrOrNull(lengths).i32(frames).i32(heads).f32(scale).i64(seed).ptrOrNull(seeds).i32(slot)
                        .i64(threshold).f32(keepScale).run();
            }
            if (dk != null) {
                Launch.kernel(ctx, "attention_half", "attention_half_backward_dkdv_kernel_" + variant)
                        .grid(new Dim3(ModelKernelGeometry.halfAttentionKeyBlocks(frames), heads, batch))
                        .block(ModelKernelGeometry.ATTENTION_THREADS).ptr(dk).ptr(dv).ptr(q).ptr(k).ptr(v).ptr(dout)
                        .ptr(stats).ptr(dd).ptrOrNull(lengths).i32(frames).i32(heads).f32(scale).f32(maskValue).i64(seed)
                        .ptrOrNull(seeds).i32(slot).i64(threshold).f32(keepScale).run();
            }
        } // scratch freed in stream order
    }

    /** Checks the sizes and returns the kernel suffix, e.g. {@code "hd64_f16"}. */
    static String check(DType format, int batch, int frames, int heads, int headDim) {
        Checks.positive("attention_half batch", batch);
        Checks.positive("attention_half frames", frames);
        Checks.positive("attention_half heads", heads);
        if (batch > 65535 || heads > 65535) {
            throw new IllegalArgumentException("attention_half: B " + batch + " and H " + heads + " (expected: <= 65535 each)");
        }
        return ModelKernelGeometry.halfAttentionVariant(headDim, format);
    }
}
