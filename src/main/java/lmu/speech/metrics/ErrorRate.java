package lmu.speech.metrics;

import java.util.ArrayList;
import java.util.List;

/**
 * Corpus-level word error rate (WER) or character error rate (CER): each {@link #add} aligns one
 * reference with one hypothesis by Levenshtein distance (unit costs) and accumulates substitutions
 * S, deletions D, insertions I and the reference length N; {@link #rate()} is {@code (S + D + I) / N}
 * over everything added, not a mean of per-utterance rates.
 *
 * <p>Tokens: for WER, words are the runs of non-whitespace characters. For CER, the text is first
 * trimmed and every run of whitespace becomes one space; the tokens are then its characters
 * (Unicode code points) <b>including</b> the spaces between words, as most toolkits count it.
 * Case and punctuation are compared as given: normalise before adding.
 *
 * <p>Among alignments of minimal cost the counts come from the one that prefers, walking back from
 * the end, a match or substitution, then a deletion, then an insertion ("a b" against "b a" counts 2
 * substitutions).
 *
 * <p>Empty texts: an empty reference adds nothing to N, so every hypothesis token counts as an
 * insertion; an empty hypothesis deletes every reference token. {@link #rate()} of a corpus with
 * N = 0 is 0 when there are no errors and {@code +Infinity} otherwise.
 *
 * <pre>
 * jshell> var wer = ErrorRate.words();
 * jshell> wer.add("the cat sat on the mat", "the cat sit on mat")
 * $2 ==> Counts[substitutions=1, deletions=1, insertions=0, referenceLength=6]
 * jshell> wer.rate()
 * $3 ==> 0.3333333333333333
 * </pre>
 */
public final class ErrorRate {

    /** What a token is. */
    public enum Unit {
        /** Whitespace-separated words. */
        WORD,
        /** Characters, including single spaces between words. */
        CHARACTER
    }

    /**
     * Edit counts of one alignment or of a whole corpus.
     *
     * @param substitutions reference tokens replaced by another token
     * @param deletions reference tokens missing from the hypothesis
     * @param insertions hypothesis tokens with no reference token
     * @param referenceLength number of reference tokens N
     */
    public record Counts(long substitutions, long deletions, long insertions, long referenceLength) {
        /** S + D + I. */
        public long errors() {
            return substitutions + deletions + insertions;
        }

        /** (S + D + I) / N; 0 for N = 0 without errors, +Infinity for N = 0 with errors. */
        public double rate() {
            if (referenceLength == 0) return errors() == 0 ? 0.0 : Double.POSITIVE_INFINITY;
            return (double) errors() / referenceLength;
        }
    }

    private final Unit unit;
    private long substitutions;
    private long deletions;
    private long insertions;
    private long referenceLength;
    private int utterances;

    /** @param unit words or characters */
    public ErrorRate(Unit unit) {
        if (unit == null) throw new IllegalArgumentException("ErrorRate: unit must not be null");
        this.unit = unit;
    }

    /** An empty word error rate accumulator. */
    public static ErrorRate words() {
        return new ErrorRate(Unit.WORD);
    }

    /** An empty character error rate accumulator. */
    public static ErrorRate characters() {
        return new ErrorRate(Unit.CHARACTER);
    }

    /**
     * Aligns one utterance and adds its counts.
     *
     * @param reference the correct transcript
     * @param hypothesis the recognised transcript
     * @return the counts of this utterance alone
     * @throws IllegalArgumentException if either text is null
     */
    public Counts add(String reference, String hypothesis) {
        if (reference == null || hypothesis == null) {
            throw new IllegalArgumentException("ErrorRate: reference and hypothesis must not be null, got "
                    + (reference == null ? "null" : "text") + ", " + (hypothesis == null ? "null" : "text"));
        }
        Counts c = align(tokens(reference, unit), tokens(hypothesis, unit));
        substitutions += c.substitutions();
        deletions += c.deletions();
        insertions += c.insertions();
        referenceLength += c.referenceLength();
        utterances++;
        return c;
    }

    /** Counts accumulated so far. */
    public Counts counts() {
        return new Counts(substitutions, deletions, insertions, referenceLength);
    }

    /** Corpus rate (S + D + I) / N so far; see {@link Counts#rate()} for N = 0. */
    public double rate() {
        return counts().rate();
    }

    /** Number of utterances added. */
    public int utterances() {
        return utterances;
    }

    public Unit unit() {
        return unit;
    }

    @Override
    public String toString() {
        Counts c = counts();
        return String.format("%s %.2f%% (S=%d D=%d I=%d N=%d, %d utterances)", unit == Unit.WORD ? "WER" : "CER", 100 * c.rate(),
                c.substitutions(), c.deletions(), c.insertions(), c.referenceLength(), utterances);
    }

    /**
     * The tokens {@link #add} compares.
     *
     * @param text a transcript
     * @param unit words or characters
     * @return words, or characters with whitespace runs reduced to one space and the ends trimmed
     */
    public static List<String> tokens(String text, Unit unit) {
        String t = text.strip();
        List<String> out = new ArrayList<>();
        if (t.isEmpty()) return out;
        if (unit == Unit.WORD) {
            for (String w : t.split("\\s+")) out.add(w);
            return out;
        }
        boolean space = false;
        for (int i = 0; i < t.length(); ) {
            int cp = t.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.isWhitespace(cp)) {
                space = true;
                continue;
            }
            if (space) out.add(" ");
            space = false;
            out.add(new String(Character.toChars(cp)));
        }
        return out;
    }

    /**
     * Minimal-cost alignment of two token sequences.
     *
     * @param ref reference tokens (N = its size)
     * @param hyp hypothesis tokens
     * @return substitution, deletion and insertion counts of one minimal alignment (see class doc)
     */
    public static Counts align(List<String> ref, List<String> hyp) {
        int n = ref.size(), m = hyp.size();
        int[][] d = new int[n + 1][m + 1];
        for (int i = 0; i <= n; i++) d[i][0] = i;
        for (int j = 0; j <= m; j++) d[0][j] = j;
        for (int i = 1; i <= n; i++) {
            for (int j = 1; j <= m; j++) {
                int diag = d[i - 1][j - 1] + (ref.get(i - 1).equals(hyp.get(j - 1)) ? 0 : 1);
                d[i][j] = Math.min(diag, Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1));
            }
        }
        long s = 0, del = 0, ins = 0;
        int i = n, j = m;
        while (i > 0 || j > 0) {
            if (i > 0 && j > 0) {
                boolean same = ref.get(i - 1).equals(hyp.get(j - 1));
                if (d[i][j] == d[i - 1][j - 1] + (same ? 0 : 1)) {
                    if (!same) s++;
                    i--;
                    j--;
                    continue;
                }
            }
            if (i > 0 && d[i][j] == d[i - 1][j] + 1) {
                del++;
                i--;
            } else {
                ins++;
                j--;
            }
        }
        return new Counts(s, del, ins, n);
    }
}
