package lmu.backend.cuda.kernels;

import jcuda.driver.CUdeviceptr;
import lmu.backend.cuda.CudaContext;
import lmu.backend.cuda.DeviceBuffer;
import lmu.backend.cuda.Dim3;
import lmu.backend.cuda.Launch;
import lmu.util.Checks;

/**
 * Launchers of {@code kernels/attention.cu}: fused scaled dot-product attention with a key padding
 * mask, the core of {@link lmu.nn.MultiHeadAttention} ({@code softmax(q k^T / sqrt(Dh))} with
 * padded keys' scores replaced by -1e4, times v), tiled with an online softmax so that nothing of
 * size T x T is stored; the backward recomputes the weights. fp32; head dimension 32 or 64; no
 * dropout. Tensors q, k, v, o and their gradients are (B, T, H, Dh) = (B, T, C) row-major, as the
 * projections produce them; the forward keeps two statistics of every row's softmax, shape (B, H,
 * T, 2): the largest score m and log(sum exp(s - m)).
 * Asynchronous on the context's stream.
 */
public final class CudaAttention {
    private CudaAttention() {}

    /**
     * {@code o = softmax(mask(q k^T / sqrt(Dh))) v} per batch and head.
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
        String variant = check(batch, frames, heads, headDim);
        Launch.kernel(ctx, "attention", "attention_forward_kernel_" + variant)
                .grid(new Dim3(ModelKernelGeometry.attentionQueryBlocks(frames), heads, batch))
                .block(ModelKernelGeometry.ATTENTION_THREADS).ptr(o).ptr(stats).ptr(q).ptr(k).ptr(v).ptrOrNull(lengths)
                .i32(frames).i32(heads).f32(scale(headDim)).run();
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
        String variant = check(batch, frames, heads, headDim);
        float scale = scale(headDim);
        try (DeviceBuffer dd = ctx.allocator().allocate(4L * batch * heads * frames)) {
            Launch.kernel(ctx, "attention", "attention_backward_dot_kernel_" + variant)
                    .grid(ModelKernelGeometry.attentionDotBlocks(batch, frames, heads))
                    .block(ModelKernelGeometry.ATTENTION_THREADS).ptr(dd).ptr(dout).ptr(o).i32(batch).i32(frames).i32(heads)
                    .run();
            Launch.kernel(ctx, "attention", "attention_backward_dq_kernel_" + variant)
                    .grid(new Dim3(ModelKernelGeometry.attentionQueryBlocks(frames), heads, batch))
                    .block(ModelKernelGeometry.ATTENTION_THREADS).ptr(dq).ptr(q).ptr(k).ptr(v).ptr(dout).ptr(stats).ptr(dd)
                    .ptrOrNull(lengths).i32(frames).i32(heads).f32(scale).run();
            Launch.kernel(ctx, "attention", "attention_backward_dkdv_kernel_" + variant)
                    .grid(new Dim3(ModelKernelGeometry.attentionKeyBlocks(frames), heads, batch))
                    .block(ModelKernelGeometry.ATTENTION_THREADS).ptr(dk).ptr(dv).ptr(q).ptr(k).ptr(v).ptr(dout).ptr(stats)
                    .ptr(dd).ptrOrNull(lengths).i32(frames).i32(heads).f32(scale).run();
        } // scratch freed in stream order
    }

    /** 1 / sqrt(Dh) in fp32, as the CPU module computes it. */
    static float scale(int headDim) {
        return (float) (1 / Math.sqrt(headDim));
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
