package lmu.speech.decode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import lmu.speech.text.Vocabulary;
import lmu.util.Parallel;

/**
 * Best-path CTC decoding: the most likely symbol of each frame, repeats collapsed, blanks (index 0)
 * dropped. Scores may be logits, log-probabilities or probabilities: the argmax is the same. Ties
 * go to the lower index.
 *
 * <pre>
 * jshell> GreedyDecoder.decodeText(scores, new int[] {B, T, V}, lengths, Vocabulary.english())
 * $1 ==> [hello world, ...]
 * </pre>
 */
public final class GreedyDecoder {
    private GreedyDecoder() {}

    /**
     * Decodes one utterance.
     *
     * @param scores frame scores; frame t of this utterance is {@code scores[offset + t*V .. + V)}
     * @param offset index of frame 0
     * @param frames number of frames T to decode
     * @param v symbols per frame V, blank at 0
     * @return the label sequence (no blanks)
     * @throws IllegalArgumentException if the frames do not fit in {@code scores}
     */
    public static int[] decode(float[] scores, int offset, int frames, int v) {
        if (v <= 0 || frames < 0 || offset < 0 || (long) offset + (long) frames * v > scores.length) {
            throw new IllegalArgumentException("GreedyDecoder: " + frames + " frames of V=" + v + " at offset " + offset
                    + " do not fit in scores of length " + scores.length);
        }
        int[] out = new int[frames];
        int n = 0;
        int prev = -1;
        for (int t = 0; t < frames; t++) {
            int base = offset + t * v;
            int best = 0;
            float bestScore = scores[base];
            for (int k = 1; k < v; k++) {
                if (scores[base + k] > bestScore) {
                    bestScore = scores[base + k];
                    best = k;
                }
            }
            if (best != prev && best != Vocabulary.BLANK) out[n++] = best;
            prev = best;
        }
        return Arrays.copyOf(out, n);
    }

    /**
     * Decodes a batch in parallel.
     *
     * @param scores frame scores, shape (B, T, V) row-major
     * @param shape {@code {B, T, V}}
     * @param lengths valid frames per utterance, shape (B), each in [0, T]
     * @return one label sequence per utterance
     * @throws IllegalArgumentException on a shape or length mismatch
     */
    public static int[][] decode(float[] scores, int[] shape, int[] lengths) {
        checkBatch("GreedyDecoder", scores, shape, lengths);
        int t = shape[1], v = shape[2];
        int[][] out = new int[shape[0]][];
        Parallel.forRange(shape[0], b -> out[b] = decode(scores, b * t * v, lengths[b], v));
        return out;
    }

    /**
     * Decodes a batch to text.
     *
     * @param scores frame scores, shape (B, T, V) row-major, V = {@code vocab.size()}
     * @param shape {@code {B, T, V}}
     * @param lengths valid frames per utterance, shape (B)
     * @param vocab symbols; its size must be V
     * @return one transcript per utterance
     * @throws IllegalArgumentException on a shape, length or vocabulary-size mismatch
     */
    public static List<String> decodeText(float[] scores, int[] shape, int[] lengths, Vocabulary vocab) {
        checkVocabulary("GreedyDecoder", shape, vocab);
        int[][] ids = decode(scores, shape, lengths);
        List<String> out = new ArrayList<>(ids.length);
        for (int[] a : ids) out.add(vocab.decode(a, a.length));
        return out;
    }

    static void checkBatch(String op, float[] scores, int[] shape, int[] lengths) {
        if (shape == null || shape.length != 3 || shape[0] <= 0 || shape[1] <= 0 || shape[2] <= 0) {
            throw new IllegalArgumentException(op + ": scores must have shape (B, T, V) with positive dimensions, got " + Arrays.toString(shape));
        }
        long n = (long) shape[0] * shape[1] * shape[2];
        if (scores == null || scores.length != n) {
            throw new IllegalArgumentException(op + ": scores of shape (B, T, V) = " + Arrays.toString(shape) + " need " + n + " elements, got "
                    + (scores == null ? "null" : scores.length));
        }
        if (lengths == null || lengths.length != shape[0]) {
            throw new IllegalArgumentException(op + ": lengths must have shape (B) = (" + shape[0] + "), got "
                    + (lengths == null ? "null" : "(" + lengths.length + ")"));
        }
        for (int b = 0; b < lengths.length; b++) {
            if (lengths[b] < 0 || lengths[b] > shape[1]) {
                throw new IllegalArgumentException(op + ": lengths[" + b + "] = " + lengths[b] + " outside [0, T=" + shape[1] + "]");
            }
        }
    }

    static void checkVocabulary(String op, int[] shape, Vocabulary vocab) {
        if (vocab == null) throw new IllegalArgumentException(op + ": vocabulary must not be null");
        if (shape != null && shape.length == 3 && shape[2] != vocab.size()) {
            throw new IllegalArgumentException(op + ": V = " + shape[2] + " does not match the vocabulary's " + vocab.size() + " symbols");
        }
    }
}
