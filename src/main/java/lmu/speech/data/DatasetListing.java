package lmu.speech.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import lmu.speech.text.TextNormalizer;

/**
 * What a dataset reader found: the usable utterances, every entry it skipped (file, line,
 * reason) and the counts of the text normalisation.
 *
 * @param utterances usable utterances, in the reader's deterministic order
 * @param skipped entries left out, with where and why
 * @param text characters dropped and tags removed while normalising the transcripts
 */
public record DatasetListing(List<Utterance> utterances, List<Skipped> skipped, TextNormalizer.Stats text) {
    public DatasetListing {
        utterances = List.copyOf(utterances);
        skipped = List.copyOf(skipped);
        Objects.requireNonNull(text, "text");
    }

    /**
     * One entry a reader left out.
     *
     * @param file the file that holds the entry (manifest, transcript or release JSON)
     * @param line 1-based line number in {@code file}, or 0 where lines do not apply
     * @param reason what was wrong, e.g. {@code "field 'duration' must be a number, got \"x\""}
     */
    public record Skipped(Path file, long line, String reason) {
        @Override
        public String toString() {
            return file + (line > 0 ? ":" + line : "") + ": " + reason;
        }
    }

    /** Total audio duration of the utterances in seconds (entries of unknown duration count 0). */
    public double totalSeconds() {
        double s = 0;
        for (Utterance u : utterances) if (u.duration() > 0) s += u.duration();
        return s;
    }

    /**
     * A few lines for a log: counts, hours, text statistics and the first {@code maxSkipped}
     * skipped entries.
     */
    public String summary(int maxSkipped) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%d utterances, %.2f h; %d skipped%n", utterances.size(), totalSeconds() / 3600, skipped.size()));
        sb.append("text: ").append(text).append(System.lineSeparator());
        for (int i = 0; i < Math.min(maxSkipped, skipped.size()); i++) {
            sb.append("  skipped ").append(skipped.get(i)).append(System.lineSeparator());
        }
        if (skipped.size() > maxSkipped) {
            sb.append("  ... and ").append(skipped.size() - maxSkipped).append(" more skipped").append(System.lineSeparator());
        }
        return sb.toString();
    }
}
