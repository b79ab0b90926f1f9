package lmu.speech.data;

import java.util.List;

/**
 * One padded batch of B utterances, ready for the model and the CTC loss.
 *
 * @param epoch epoch this batch belongs to
 * @param index position of this batch in this rank's plan for the epoch (what resuming passes
 *     back to {@link DataLoader#iterator(int, int)}); skipped empty batches leave gaps
 * @param ids utterance ids, in batch order, shape (B,)
 * @param features log-mel features, shape (B, T, C) row-major, zero past each utterance's length:
 *     {@code features[(b * T + t) * C + c]}
 * @param frames T, the longest utterance's frame count
 * @param bins C, values per frame (80)
 * @param frameLengths valid frames of each utterance, shape (B,)
 * @param labels label ids (1..V-1, no blanks), shape (B, L) row-major, zero-padded:
 *     {@code labels[b * L + l]}
 * @param maxLabelLength L, the longest label sequence
 * @param labelLengths valid labels of each utterance, shape (B,)
 */
public record Batch(int epoch, int index, List<String> ids, float[] features, int frames, int bins, int[] frameLengths,
                    int[] labels, int maxLabelLength, int[] labelLengths) {
    public Batch {
        int b = ids.size();
        if (features.length != b * frames * bins || frameLengths.length != b || labelLengths.length != b
                || labels.length != b * maxLabelLength) {
            throw new IllegalArgumentException("Batch: inconsistent shapes: B " + b + ", T " + frames + ", C " + bins + ", L "
                    + maxLabelLength + ", features " + features.length + ", labels " + labels.length);
        }
        ids = List.copyOf(ids);
    }

    /** B, the number of utterances. */
    public int size() {
        return ids.size();
    }

    /** Total valid frames (sum of frameLengths). */
    public long validFrames() {
        long s = 0;
        for (int n : frameLengths) s += n;
        return s;
    }
}
