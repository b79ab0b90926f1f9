package lmu.nn;

import lmu.tensor.Tensor;

/**
 * Encoder features and the number of valid frames of each sequence.
 *
 * @param features shape (B, T', C); frames at t ≥ lengths[b] are padding
 * @param lengths valid frames per sequence, length B, each in [1, T']
 */
public record EncoderOutput(Tensor features, int[] lengths) {
    public EncoderOutput {
        if (lengths.length != features.dim(0)) {
            throw new IllegalArgumentException("EncoderOutput: " + lengths.length + " lengths for a batch of " + features.dim(0));
        }
    }
}
