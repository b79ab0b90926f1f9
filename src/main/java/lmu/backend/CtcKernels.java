package lmu.backend;

import lmu.speech.ctc.CtcLoss;
import lmu.tensor.Tensor;

/**
 * CTC loss on one device, with log-softmax fused in: it takes raw logits (not log-probabilities)
 * and gives the gradient with respect to those logits, as {@link CtcLoss} does on the CPU (blank 0,
 * infeasible utterances, zeroInfinity, MEAN/SUM/NONE). The per-utterance losses and the infeasible
 * utterances come to the host (B numbers); the gradient stays on the device. The CPU
 * implementation ({@code lmu.backend.cpu.CpuCtcKernels}, i.e. {@link CtcLoss}) is the reference.
 *
 * <pre>{@code
 * CtcKernels ctc = Backends.kernels(logits, CtcKernels.class);
 * CtcKernels.Result r = ctc.lossAndGradient(CtcLoss.batchMajor(), logits, inLens, targets, tgtLens, true);
 * r.result().loss();   // host;  r.dLogits() on the logits' device
 * }</pre>
 */
public interface CtcKernels {
    /**
     * @param result per-utterance and reduced losses and the infeasible utterances (host)
     * @param dLogits gradient of the reduced loss (of every per-utterance loss for NONE) with
     *     respect to the logits for an upstream gradient of 1: same shape, layout, dtype and device as
     *     the logits; 0 on frames past an utterance's length, NaN (0 with zeroInfinity) on an
     *     infeasible utterance's frames; null when not asked for
     */
    record Result(CtcLoss.Result result, Tensor dLogits) {}

    /**
     * @param loss layout, reduction and zeroInfinity
     * @param logits unnormalised scores, shape (B, T, V) or (T, B, V) as {@code loss.layout()} says
     * @param inputLengths valid frames per utterance, shape (B), each in [0, T]
     * @param targets padded labels, shape (B, L), labels in [1, V)
     * @param targetLengths labels per utterance, shape (B), each in [0, L]
     * @param gradient whether to compute the gradient too
     * @throws IllegalArgumentException on a shape, length, label or dtype error, or logits of another device
     */
    Result lossAndGradient(CtcLoss loss, Tensor logits, int[] inputLengths, int[] targets, int[] targetLengths,
            boolean gradient);

    /**
     * The result of the device form: nothing comes to the host.
     *
     * @param loss the reduced loss on the logits' device: a scalar for MEAN and SUM (the reduction of
     *     {@link CtcLoss}), shape (B) for NONE; in the logits' dtype
     * @param dLogits as in {@link Result}; null when not asked for
     */
    record DeviceResult(Tensor loss, Tensor dLogits) {}

    /**
     * {@link #lossAndGradient(CtcLoss, Tensor, int[], int[], int[], boolean)} with the lengths and
     * labels read from device memory when the kernels run and the loss reduced on the device, so
     * that a captured launch (a CUDA graph) replays with whatever lengths and labels the caller wrote
     * into those tensors before the replay. The integers are held as exact float32 values. The
     * values are not checked here (that would read them on the host): the caller checks the host
     * arrays it writes with {@link CtcLoss#check}. The default reads the tensors to the host and
     * calls the host form, which is what the CPU does (its tensors are host memory).
     *
     * @param loss layout, reduction and zeroInfinity
     * @param logits unnormalised scores, shape (B, T, V) or (T, B, V) as {@code loss.layout()} says
     * @param inputLengths valid frames per utterance, shape (B), integral float32 values in [0, T]
     * @param targets padded labels, shape (B, L), integral float32 values in [1, V) (padding: any label)
     * @param targetLengths labels per utterance, shape (B), integral float32 values in [0, L]
     * @param gradient whether to compute the gradient too
     * @throws IllegalArgumentException if the tensors are not of this device or their sizes do not fit B
     */
    default DeviceResult lossAndGradient(CtcLoss loss, Tensor logits, Tensor inputLengths, Tensor targets,
            Tensor targetLengths, boolean gradient) {
        Result r = lossAndGradient(loss, logits, ints(inputLengths), ints(targets), ints(targetLengths), gradient);
        Backend backend = Backends.of(logits);
        double[] l = r.result().losses();
        boolean none = loss.reduction() == CtcLoss.Reduction.NONE;
        Tensor out = none ? backend.empty(logits.dtype(), l.length) : backend.empty(logits.dtype());
        if (none) {
            for (int b = 0; b < l.length; b++) out.set(l[b], b);
        } else {
            backend.fill(out, r.result().loss());
        }
        return new DeviceResult(out, r.dLogits());
    }

    /** The integral values of a lengths or labels tensor (read to the host). */
    private static int[] ints(Tensor t) {
        if (t == null) throw new IllegalArgumentException("CtcKernels: lengths and targets tensors must not be null");
        float[] f = Backends.of(t).toHost(t).toFloatArray();
        int[] r = new int[f.length];
        for (int i = 0; i < f.length; i++) r[i] = Math.round(f[i]);
        return r;
    }
}
