package lmu.speech.audio;

import java.util.Objects;

/**
 * A decoded mono signal.
 *
 * @param samples mono samples, shape (N,); integer PCM sources are scaled into [-1, 1), floating
 *     point sources are passed through unchanged
 * @param sampleRate samples per second (the file's own rate; see {@link Resampler} to convert)
 */
public record Audio(float[] samples, int sampleRate) {
    public Audio {
        Objects.requireNonNull(samples, "samples");
        if (sampleRate <= 0) {
            throw new IllegalArgumentException("Audio: sampleRate must be > 0, got " + sampleRate);
        }
    }

    /** Length in seconds. */
    public double durationSeconds() {
        return samples.length / (double) sampleRate;
    }

    /** Root-mean-square of the samples (0 for an empty signal). */
    public double rms() {
        if (samples.length == 0) return 0;
        double s = 0;
        for (float v : samples) s += (double) v * v;
        return Math.sqrt(s / samples.length);
    }
}
