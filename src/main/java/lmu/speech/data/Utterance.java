package lmu.speech.data;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One training or evaluation example as listed by a dataset: where its audio is and what was said.
 *
 * @param id unique within its dataset (used in reports and per-utterance outputs)
 * @param audio audio file (WAV, FLAC or Ogg/Opus)
 * @param offset start of the segment in seconds (0 for whole files)
 * @param duration length of the segment in seconds, or a negative value for "to the end of the file"
 * @param text transcript, already normalised to the model vocabulary
 */
public record Utterance(String id, Path audio, double offset, double duration, String text) {
    public Utterance {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(audio, "audio");
        Objects.requireNonNull(text, "text");
        if (offset < 0 || Double.isNaN(offset)) {
            throw new IllegalArgumentException("Utterance " + id + ": offset must be >= 0 seconds, got " + offset);
        }
    }
}
