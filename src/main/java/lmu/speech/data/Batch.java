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
 *     {@code features[(b * T + t) * C + c]}; empty (length 0) when the batch carries {@code signals}
 *     instead
 * @param frames T, the longest utterance's frame count
 * @param bins C, values per frame (80)
 * @param frameLengths valid frames of each utterance, shape (B,)
 * @param labels label ids (1..V-1, no blanks), shape (B, L) row-major, zero-padded:
 *     {@code labels[b * L + l]}
 * @param maxLabelLength L, the longest label sequence
 * @param labelLengths valid labels of each utterance, shape (B,)
 * @param signals null for a batch of features; else the utterances' audio (B signals), from which
 *     the features (B, T, C) with T = {@code frames} and per-utterance lengths {@code frameLengths}
 *     are still to be computed (a loader built with {@link DataLoader.Builder#signals()})
 */
public record Batch(int epoch, int index, List<String> ids, float[] features, int frames, int bins, int[] frameLengths,
                    int[] labels, int maxLabelLength, int[] labelLengths, Signals signals) {
    public Batch {
        int b = ids.size();
        int expected = signals == null ? b * frames * bins : 0;
        if (features.length != expected || frameLengths.length != b || labelLengths.length != b
                || labels.length != b * maxLabelLength || (signals != null && signals.size() != b)) {
            throw new IllegalArgumentException("Batch: inconsistent shapes: B " + b + ", T " + frames + ", C " + bins + ", L "
                    + maxLabelLength + ", features " + features.length + ", labels " + labels.length);
        }
        ids = List.copyOf(ids);
    }

    /** A batch of features (no signals). */
    public Batch(int epoch, int index, List<String> ids, float[] features, int frames, int bins, int[] frameLengths, int[] labels,
            int maxLabelLength, int[] labelLengths) {
        this(epoch, index, ids, features, frames, bins, frameLengths, labels, maxLabelLength, labelLengths, null);
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
