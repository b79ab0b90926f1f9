package lmu.speech.data;

/**
 * The decoded (and speed-perturbed) audio of a batch of B utterances, back to back, at the
 * feature sample rate: what a loader delivers when features are computed on the model's device.
 *
 * @param samples every utterance's samples, concatenated, shape (N)
 * @param offsets first sample of each utterance in {@code samples}, shape (B)
 * @param lengths samples of each utterance, shape (B)
 */
public record Signals(float[] samples, int[] offsets, int[] lengths) {
    public Signals {
        if (offsets.length != lengths.length) {
            throw new IllegalArgumentException("Signals: offsets and lengths must both have shape (B), got (" + offsets.length
                    + ") and (" + lengths.length + ")");
        }
        for (int b = 0; b < offsets.length; b++) {
            if (offsets[b] < 0 || lengths[b] < 0 || (long) offsets[b] + lengths[b] > samples.length) {
                throw new IllegalArgumentException("Signals: utterance " + b + " (offset " + offsets[b] + ", length " + lengths[b]
                        + ") must lie within the " + samples.length + " samples");
            }
        }
    }

    /** Concatenates the signals of B utterances. */
    public static Signals of(java.util.List<float[]> signals) {
        int b = signals.size();
        int[] offsets = new int[b], lengths = new int[b];
        long total = 0;
        for (int i = 0; i < b; i++) {
            offsets[i] = (int) total;
            lengths[i] = signals.get(i).length;
            total += lengths[i];
            if (total > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("Signals: a batch holds at most " + (Integer.MAX_VALUE - 8) + " samples, got more");
            }
        }
        float[] all = new float[(int) total];
        for (int i = 0; i < b; i++) System.arraycopy(signals.get(i), 0, all, offsets[i], lengths[i]);
        return new Signals(all, offsets, lengths);
    }

    /** B, the number of utterances. */
    public int size() {
        return lengths.length;
    }
}
