package lmu.nn;

import lmu.tensor.Tensor;
import lmu.util.Rng;

/**
 * A layer that maps a padded batch of sequences to a sequence of the same length: the time-mixing
 * sub-layer of an {@link EncoderBlock} (the LMU). Implementations must be {@link Module}s so that
 * their parameters are registered under the block ({@code blocks.0.lmu.…}), must not let frames at
 * or after a sequence's length influence frames before it, and must keep the channel count.
 */
public interface SequenceLayer {
    /**
     * @param x input, shape (B, T, C); frames at t ≥ lengths[b] are padding
     * @param lengths valid frames per sequence, length B, each in [0, T]
     * @return output, shape (B, T, C)
     */
    Tensor forward(Tensor x, int[] lengths);

    /** Builds the sequence layer of one encoder block. */
    @FunctionalInterface
    interface Factory {
        /**
         * @param block 0-based index of the block the layer belongs to
         * @param channels C, input and output width
         * @param maxFrames longest sequence the layer will see, in its own frames (after any earlier downsampling)
         * @param rng initialisation randomness
         * @return a layer that is also a {@link Module}
         */
        SequenceLayer create(int block, int channels, int maxFrames, Rng rng);
    }
}
