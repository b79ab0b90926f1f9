package lmu.speech.features;

/**
 * Features of one utterance.
 *
 * @param values shape (frames, bins) row-major: value of bin m at frame t is {@code values[t * bins + m]}
 * @param frames number of frames (T)
 * @param bins values per frame (80 log-mel bins by default)
 */
public record FeatureMatrix(float[] values, int frames, int bins) {
    public FeatureMatrix {
        if (frames < 0 || bins <= 0 || values.length != frames * bins) {
            throw new IllegalArgumentException("FeatureMatrix: values must have length frames * bins = " + frames + " * " + bins
                    + ", got " + values.length);
        }
    }

    public float get(int t, int m) {
        return values[t * bins + m];
    }
}
