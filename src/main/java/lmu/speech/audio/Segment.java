package lmu.speech.audio;

import java.nio.file.Path;

/** Sample range [start, end) of an (offset, duration) request, at one sample rate. */
record Segment(long start, long end) {
    /**
     * @param offsetSec start in seconds, >= 0
     * @param durationSec length in seconds; negative means "to the end"
     * @param total samples in the file, or -1 when unknown
     */
    static Segment of(Path file, int rate, double offsetSec, double durationSec, long total) {
        if (!(offsetSec >= 0) || Double.isInfinite(offsetSec)) {
            throw new IllegalArgumentException("AudioReader: offset must be a finite number >= 0 seconds, got " + offsetSec + " for " + file);
        }
        if (Double.isNaN(durationSec)) {
            throw new IllegalArgumentException("AudioReader: duration must be a number (negative for 'to the end'), got NaN for " + file);
        }
        long start = Math.round(offsetSec * rate);
        long end = durationSec < 0 || Double.isInfinite(durationSec) ? Long.MAX_VALUE : start + Math.round(durationSec * rate);
        if (total >= 0) {
            if (start > total) {
                throw new AudioFormatException(file, String.format(
                        "offset %.3f s is past the end of the audio (%.3f s)", offsetSec, total / (double) rate));
            }
            end = Math.min(end, total);
        }
        return new Segment(start, end);
    }

    long length() {
        return end - start;
    }
}
