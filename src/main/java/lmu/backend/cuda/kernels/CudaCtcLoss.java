package lmu.backend.cuda.kernels;

import jcuda.driver.CUdeviceptr;
import lmu.backend.cuda.CudaContext;
import lmu.backend.cuda.Launch;
import lmu.speech.ctc.CtcLoss;
import lmu.util.Checks;

/**
 * Launchers of {@code kernels/ctc_loss.cu}: CTC loss on raw logits with log-softmax fused, the
 * semantics of {@link CtcLoss} (blank 0, infeasible utterances, zero-infinity, mean/sum/none). The
 * forward writes per-utterance losses and keeps logZ and log-alpha in a {@link Workspace} for the
 * backward, which writes the whole gradient. Asynchronous on the context's stream.
 *
 * <pre>{@code
 * try (var ws = CudaCtcLoss.workspace(ctx, B, T, Lmax)) {
 *     CudaCtcLoss.forward(ctx, ws, losses, logits, Layout.BATCH_MAJOR, B, T, V, inLens, targets, Lmax, tgtLens, false);
 *     CudaCtcLoss.backward(ctx, ws, dLogits, logits, Layout.BATCH_MAJOR, B, T, V, inLens, targets, Lmax, tgtLens,
 *             losses, null, Reduction.MEAN, false);
 * }
 * }</pre>
 */
public final class CudaCtcLoss {
    private CudaCtcLoss() {}

    /** Device scratch of one CTC call: logZ (B, T) and log-alpha (B, T, 2 Lmax + 1) floats. */
    public static final class Workspace implements AutoCloseable {
        final lmu.backend.cuda.DeviceBuffer logz;
        final lmu.backend.cuda.DeviceBuffer logAlpha;
        final int batch;
        final int frames;
        final int states;

        Workspace(CudaContext ctx, int batch, int frames, int maxLabels) {
            this.batch = batch;
            this.frames = frames;
            this.states = 2 * maxLabels + 1;
            this.logz = ctx.allocator().allocate(4L * batch * frames);
            this.logAlpha = ctx.allocator().allocate(4L * batch * frames * states);
        }

        @Override
        public void close() {
            logz.close();
            logAlpha.close();
        }
    }

    /**
     * Scratch for calls of this size (freed in stream order on close).
     *
     * @param maxLabels Lmax, the padded target length, &ge; 0
     */
    public static Workspace workspace(CudaContext ctx, int batch, int frames, int maxLabels) {
        Checks.positive("CtcLoss batch", batch);
        Checks.positive("CtcLoss frames", frames);
        Checks.nonNegative("CtcLoss maxLabels", maxLabels);
        return new Workspace(ctx, batch, frames, maxLabels);
    }

    /**
     * Per-utterance losses {@code -log p(y_b | x_b)}: +inf for an infeasible utterance (0 with
     * {@code zeroInfinity}), 0 for an empty one.
     *
     * @param losses output, shape (B) floats
     * @param logits shape (B, T, V) or (T, B, V) as {@code layout} says
     * @param inputLengths int32, shape (B), each in [0, T] (not checked on the device)
     * @param targets int32, shape (B, Lmax), labels in [1, V)
     * @param targetLengths int32, shape (B), each in [0, Lmax]
     * @throws IllegalArgumentException when a size is not positive or the workspace is for another size
     */
    public static void forward(CudaContext ctx, Workspace ws, CUdeviceptr losses, CUdeviceptr logits, CtcLoss.Layout layout,
            int batch, int frames, int vocabulary, CUdeviceptr inputLengths, CUdeviceptr targets, int maxLabels,
            CUdeviceptr targetLengths, boolean zeroInfinity) {
        check(ws, batch, frames, vocabulary, maxLabels);
        long[] strides = strides(layout, batch, frames, vocabulary);
        int states = 2 * maxLabels + 1;
        Launch.kernel(ctx, "ctc_loss", "ctc_loss_forward_kernel").grid(batch).block(ModelKernelGeometry.ctcThreads(states))
                .sharedBytes((int) ModelKernelGeometry.ctcForwardSharedBytes(states)).ptr(losses).ptr(ws.logz)
                .ptr(ws.logAlpha).ptr(logits).i64(strides[0]).i64(strides[1]).ptr(inputLengths).ptr(targets)
                .i32(maxLabels).ptr(targetLengths).i32(frames).i32(vocabulary).i32(states).i32(zeroInfinity ? 1 : 0).run();
    }

    /**
     * The gradient with respect to the logits, written (not accumulated) over the whole tensor:
     * {@code scale_b * (softmax - posterior)} on frames t &lt; T_b, 0 after, NaN (0 with zeroInfinity)
     * on an infeasible utterance's frames. Needs the same workspace and {@code losses} as the forward.
     *
     * @param dLogits output, same shape and layout as {@code logits}
     * @param gradOut upstream gradient on the device: null for 1, 1 float for MEAN and SUM, B for NONE
     */
    public static void backward(CudaContext ctx, Workspace ws, CUdeviceptr dLogits, CUdeviceptr logits,
            CtcLoss.Layout layout, int batch, int frames, int vocabulary, CUdeviceptr inputLengths, CUdeviceptr targets,
            int maxLabels, CUdeviceptr targetLengths, CUdeviceptr losses, CUdeviceptr gradOut, CtcLoss.Reduction reduction,
            boolean zeroInfinity) {
        check(ws, batch, frames, vocabulary, maxLabels);
        long[] strides = strides(layout, batch, frames, vocabulary);
        int states = 2 * maxLabels + 1;
        Launch.kernel(ctx, "ctc_loss", "ctc_loss_backward_kernel").grid(batch).block(ModelKernelGeometry.ctcThreads(states))
                .sharedBytes((int) ModelKernelGeometry.ctcBackwardSharedBytes(states, vocabulary)).ptr(dLogits).ptr(logits)
                .i64(strides[0]).i64(strides[1]).ptr(losses).ptr(ws.logz).ptr(ws.logAlpha).ptr(inputLengths).ptr(targets)
                .i32(maxLabels).ptr(targetLengths).i32(batch).i32(frames).i32(vocabulary).i32(states).ptrOrNull(gradOut)
                .i32(reductionCode(reduction)).i32(zeroInfinity ? 1 : 0).run();
    }

    /**
     * {@code out[0]} = the MEAN (each loss over max(L_b, 1), then over B) or SUM of {@code losses}.
     *
     * @throws IllegalArgumentException for reduction NONE (nothing to reduce)
     */
    public static void reduce(CudaContext ctx, CUdeviceptr out, CUdeviceptr losses, CUdeviceptr targetLengths, int batch,
            CtcLoss.Reduction reduction) {
        Checks.positive("CtcLoss batch", batch);
        if (reduction == CtcLoss.Reduction.NONE) {
            throw new IllegalArgumentException("CtcLoss: reduce needs reduction MEAN or SUM, got NONE");
        }
        Launch.kernel(ctx, "ctc_loss", "ctc_loss_reduce_kernel").grid(1).block(32).ptr(out).ptr(losses)
                .ptr(targetLengths).i32(batch).i32(reductionCode(reduction)).run();
    }

    /**
     * {@code out[i] = (int) in[i]} for n integral float32 values (lengths and labels held in float
     * tensors, read as int32 by the kernels above).
     */
    public static void intsFromFloats(CudaContext ctx, CUdeviceptr out, CUdeviceptr in, int n) {
        if (n < 0) throw new IllegalArgumentException("CtcLoss: intsFromFloats count : " + n + " (expected: >= 0)");
        if (n == 0) return;
        Launch.kernel(ctx, "ctc_loss", "ctc_ints_from_floats_kernel").grid((n + 255) / 256).block(256).ptr(out).ptr(in)
                .i32(n).run();
    }

    /** {stride_b, stride_t} in elements for a layout. */
    static long[] strides(CtcLoss.Layout layout, int batch, int frames, int vocabulary) {
        if (layout == null) throw new IllegalArgumentException("CtcLoss: layout : null (expected: BATCH_MAJOR or TIME_MAJOR)");
        return layout == CtcLoss.Layout.BATCH_MAJOR
                ? new long[] {(long) frames * vocabulary, vocabulary}
                : new long[] {vocabulary, (long) batch * vocabulary};
    }

    static int reductionCode(CtcLoss.Reduction r) {
        if (r == null) throw new IllegalArgumentException("CtcLoss: reduction : null (expected: MEAN, SUM or NONE)");
        switch (r) {
            case MEAN:
                return 0;
            case SUM:
                return 1;
            default:
                return 2;
        }
    }

    private static void check(Workspace ws, int batch, int frames, int vocabulary, int maxLabels) {
        Checks.positive("CtcLoss batch", batch);
        Checks.positive("CtcLoss frames", frames);
        Checks.positive("CtcLoss vocabulary", vocabulary);
        Checks.nonNegative("CtcLoss maxLabels", maxLabels);
        if (ws == null || ws.batch != batch || ws.frames != frames || ws.states != 2 * maxLabels + 1) {
            throw new IllegalArgumentException("CtcLoss: workspace must be for (B, T, Lmax) = (" + batch + ", " + frames + ", "
                    + maxLabels + "), got " + (ws == null ? "null"
                            : "(" + ws.batch + ", " + ws.frames + ", " + (ws.states - 1) / 2 + ")"));
        }
    }
}
