package lmu.backend;

import lmu.speech.features.FeatureConfig;
import lmu.tensor.Tensor;

/**
 * Log-mel features of a batch of raw signals on one device: the function of {@link
 * lmu.speech.features.LogMel} for every utterance at once, so that a trainer can take decoded audio
 * from its loader and compute the model's input where the model is. The CPU implementation
 * ({@code lmu.backend.cpu.CpuFeatureKernels}: {@code LogMel}, utterances in parallel) is the
 * reference; the CUDA one runs {@code kernels/logmel.cu}.
 *
 * <pre>{@code
 * FeatureKernels fk = Backends.kernels(signal, FeatureKernels.class);
 * Tensor x = fk.logMel(FeatureConfig.defaults(), signal, offsets, lengths);   // (B, T, 80)
 * }</pre>
 */
public interface FeatureKernels {
    /**
     * @param cfg the feature settings (window, hop, filterbank, log epsilon)
     * @param signal float32 samples of every utterance back to back, shape (N), on this device
     * @param offsets first sample of each utterance in {@code signal}, shape (B)
     * @param lengths samples of each utterance, shape (B), each &ge; 0, {@code offsets[b] +
     *     lengths[b] <= N}
     * @return features, shape (B, T, nMels) float32 on the signal's device, with T the largest
     *     {@link FeatureConfig#numFrames}(lengths[b]); frames t &ge; numFrames(lengths[b]) are 0
     * @throws IllegalArgumentException when the signal is not a rank-1 float32 tensor of this
     *     device, offsets and lengths differ in length, or an utterance lies outside the signal
     */
    Tensor logMel(FeatureConfig cfg, Tensor signal, int[] offsets, int[] lengths);

    /**
     * Checks the arguments of {@link #logMel} (shared by the implementations) and returns the
     * frames of each utterance.
     *
     * @return {@code cfg.numFrames(lengths[b])}, shape (B)
     * @throws IllegalArgumentException as {@link #logMel} says
     */
    static int[] frames(FeatureConfig cfg, Tensor signal, int[] offsets, int[] lengths) {
        if (signal.rank() != 1) {
            throw new IllegalArgumentException("LogMel: signal must have shape (N), got " + lmu.tensor.Shape.str(signal.shape()));
        }
        if (offsets.length != lengths.length) {
            throw new IllegalArgumentException("LogMel: offsets and lengths must both have shape (B), got (" + offsets.length + ") and ("
                    + lengths.length + ")");
        }
        int n = signal.dim(0);
        int[] frames = new int[lengths.length];
        for (int b = 0; b < lengths.length; b++) {
            if (offsets[b] < 0 || lengths[b] < 0 || (long) offsets[b] + lengths[b] > n) {
                throw new IllegalArgumentException("LogMel: utterance " + b + " (offset " + offsets[b] + ", length " + lengths[b]
                        + ") must lie within the signal of " + n + " samples");
            }
            frames[b] = cfg.numFrames(lengths[b]);
        }
        return frames;
    }
}
