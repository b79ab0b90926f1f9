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
}
