package lmu.train;

import java.util.function.Function;
import lmu.backend.Backends;
import lmu.tensor.Device;
import lmu.tensor.Tensor;

/**
 * One batch as the training step consumes it.
 *
 * @param features log-mel features, shape (B, T, F), zero beyond each sequence's frames; null when
 *     the features are still to be computed on the model's device ({@code featuresOn})
 * @param frames valid frames per utterance, shape (B)
 * @param labels padded label ids, shape (B, L)
 * @param labelLengths labels per utterance, shape (B)
 * @param ids utterance ids, length B
 * @param texts reference transcripts, length B
 * @param resumeAt what {@link BatchSource#epoch} takes as {@code skip} to continue after this batch
 * @param featuresOn null for a batch of features; else what computes them, shape (B, T, F), on a
 *     given device from the batch's audio ({@code data.features_on: device}, {@link DeviceFeatures})
 */
public record TrainBatch(Tensor features, int[] frames, int[] labels, int[] labelLengths, String[] ids, String[] texts,
        int resumeAt, Function<Device, Tensor> featuresOn) {
    public TrainBatch {
        if (features == null && featuresOn == null) {
            throw new IllegalArgumentException("TrainBatch: needs features or a way to compute them, got neither");
        }
    }

    /** A batch of features computed on the host. */
    public TrainBatch(Tensor features, int[] frames, int[] labels, int[] labelLengths, String[] ids, String[] texts, int resumeAt) {
        this(features, frames, labels, labelLengths, ids, texts, resumeAt, null);
    }

    /**
     * The model's input on {@code device}: the features copied there, or computed there from the
     * batch's audio.
     *
     * @return shape (B, T, F) on {@code device}
     */
    public Tensor input(Device device) {
        return featuresOn != null ? featuresOn.apply(device) : Backends.to(features, device);
    }

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
