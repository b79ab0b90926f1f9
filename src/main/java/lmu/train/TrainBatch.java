package lmu.train;

import lmu.tensor.Tensor;

/**
 * One batch as the training step consumes it.
 *
 * @param features log-mel features, shape (B, T, F), zero beyond each sequence's frames: on the host,
 *     or already on the model's device when the batch source computes them there ({@code
 *     data.features_on: device}, {@link DeviceFeatures})
 * @param frames valid frames per utterance, shape (B)
 * @param labels padded label ids, shape (B, L)
 * @param labelLengths labels per utterance, shape (B)
 * @param ids utterance ids, length B
 * @param texts reference transcripts, length B
 * @param resumeAt what {@link BatchSource#epoch} takes as {@code skip} to continue after this batch
 */
public record TrainBatch(Tensor features, int[] frames, int[] labels, int[] labelLengths, String[] ids, String[] texts,
        int resumeAt) {
    public int size() {
        return frames.length;
    }

    /** Valid frames in the batch (for frames/s). */
    public long totalFrames() {
        long n = 0;
        for (int f : frames) n += f;
        return n;
    }
}
