package lmu.speech.decode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import lmu.speech.text.Vocabulary;
import lmu.util.Parallel;

/**
 * CTC prefix beam search: keeps the {@code beamWidth} most probable label prefixes, each with two
 * log-probabilities, of ending in a blank ({@code pb}) and of ending in its last label ({@code pnb}),
 * so that all alignments of one labelling are summed rather than only its best path. Without a
 * scorer, pruning or beam overflow, a hypothesis's {@link Hypothesis#score()} is exactly {@code log
 * p(labels | x)} summed over all alignments.
 *
 * <p>Frame scores may be logits or log-probabilities: a log-softmax is applied to each frame (it
 * leaves log-probabilities unchanged).
 *
 * <h2>Word-level scoring</h2>
 *
 * An optional {@link PrefixScorer} (a language model) is consulted each time a space is appended
 * after a non-empty word, and once more at the end for a final word not followed by a space; each
 * word adds {@code lmWeight * scoreWord(prefixText, word) + wordBonus} to the prefix's ranking score.
 * Repeated spaces and a leading space complete no word. The acoustic part stays separate: {@link
 * Hypothesis#acousticLogProb()}. No end-of-sentence term is added.
 *
 * <pre>
 * jshell> var search = new PrefixBeamSearch(Vocabulary.english(), 16);
 * jshell> search.search(logits, new int[] {B, T, V}, lengths).get(0).get(0).text()
 * $1 ==> "hello world"
 * </pre>
 */
public final class PrefixBeamSearch {

    /** Word-level scorer, typically a language model. Must be thread-safe: batches run in parallel. */
    public interface PrefixScorer {
        /**
         * @param prefixText the transcript before the word, including its trailing space ("" for the
         *     first word)
         * @param word the completed word, non-empty, without spaces
         * @return natural-log score of {@code word} following {@code prefixText}
         */
        double scoreWord(String prefixText, String word);
    }

    /**
     * One decoded labelling.
     *
     * @param labels label ids, no blanks
     * @param text the labels as text
     * @param score ranking score: {@code acousticLogProb + lmScore}
     * @param acousticLogProb log of the summed probability of the alignments kept for this labelling
     * @param lmScore sum over words of {@code lmWeight * scoreWord + wordBonus}; 0 without a scorer
     */
    public record Hypothesis(int[] labels, String text, double score, double acousticLogProb, double lmScore) {}

    private final Vocabulary vocab;
    private final int beamWidth;
    private final double pruneLogProb;
    private final PrefixScorer scorer;
    private final double lmWeight;
    private final double wordBonus;

    /**
     * @param vocab output symbols (V = {@code vocab.size()}, blank 0)
     * @param beamWidth number of prefixes kept per frame
     * @throws IllegalArgumentException if {@code beamWidth <= 0} or vocab is null
     */
    public PrefixBeamSearch(Vocabulary vocab, int beamWidth) {
        this(vocab, beamWidth, Double.NEGATIVE_INFINITY, null, 0, 0);
    }

    private PrefixBeamSearch(Vocabulary vocab, int beamWidth, double pruneLogProb, PrefixScorer scorer, double lmWeight, double wordBonus) {
        if (vocab == null) throw new IllegalArgumentException("PrefixBeamSearch: vocabulary must not be null");
        if (beamWidth <= 0) throw new IllegalArgumentException("PrefixBeamSearch: beamWidth : " + beamWidth + " (expected: > 0)");
        if (Double.isNaN(pruneLogProb) || pruneLogProb > 0) {
            throw new IllegalArgumentException("PrefixBeamSearch: pruneLogProb : " + pruneLogProb + " (expected: a log-probability <= 0)");
        }
        this.vocab = vocab;
        this.beamWidth = beamWidth;
        this.pruneLogProb = pruneLogProb;
        this.scorer = scorer;
        this.lmWeight = lmWeight;
        this.wordBonus = wordBonus;
    }

    /**
     * A copy that skips, at each frame, non-blank symbols whose log-probability is below {@code
     * minLogProb} (e.g. {@code Math.log(1e-3)}); the blank is always kept.
     */
    public PrefixBeamSearch withPruning(double minLogProb) {
        return new PrefixBeamSearch(vocab, beamWidth, minLogProb, scorer, lmWeight, wordBonus);
    }

    /**
     * A copy that ranks prefixes with a word-level scorer.
     *
     * @param scorer the scorer, or null for none
     * @param lmWeight weight (alpha) of the scorer's log score
     * @param wordBonus score (beta) added per completed word
     */
    public PrefixBeamSearch withScorer(PrefixScorer scorer, double lmWeight, double wordBonus) {
        return new PrefixBeamSearch(vocab, beamWidth, pruneLogProb, scorer, lmWeight, wordBonus);
    }

    public int beamWidth() {
        return beamWidth;
    }

    /**
     * Searches one utterance.
     *
     * @param scores frame scores; frame t is {@code scores[offset + t*V .. + V)}, V = vocab size
     * @param offset index of frame 0
     * @param frames number of frames
     * @return up to {@code beamWidth} hypotheses, best first
     * @throws IllegalArgumentException if the frames do not fit in {@code scores}
     */
    public List<Hypothesis> search(float[] scores, int offset, int frames) {
        int v = vocab.size();
        if (scores == null || frames < 0 || offset < 0 || (long) offset + (long) frames * v > scores.length) {
            throw new IllegalArgumentException("PrefixBeamSearch: " + frames + " frames of V=" + v + " at offset " + offset
                    + " do not fit in scores of length " + (scores == null ? "null" : scores.length));
        }
        return new Search(scores, offset, frames).run();
    }

    /**
     * Searches a batch in parallel.
     *
     * @param scores frame scores, shape (B, T, V) row-major, V = vocab size
     * @param shape {@code {B, T, V}}
     * @param lengths valid frames per utterance, shape (B), each in [0, T]
     * @return per utterance, up to {@code beamWidth} hypotheses, best first
     * @throws IllegalArgumentException on a shape, length or vocabulary-size mismatch
     */
    public List<List<Hypothesis>> search(float[] scores, int[] shape, int[] lengths) {
        GreedyDecoder.checkBatch("PrefixBeamSearch", scores, shape, lengths);
        GreedyDecoder.checkVocabulary("PrefixBeamSearch", shape, vocab);
        int t = shape[1], v = shape[2];
        List<List<Hypothesis>> out = new ArrayList<>(java.util.Collections.nCopies(shape[0], List.<Hypothesis>of()));
        Parallel.forRange(shape[0], b -> {
            List<Hypothesis> h = search(scores, b * t * v, lengths[b]);
            synchronized (out) {
                out.set(b, h);
            }
        });
        return out;
    }

    /** The best transcript of each utterance; arguments as {@link #search(float[], int[], int[])}. */
    public List<String> decodeText(float[] scores, int[] shape, int[] lengths) {
        List<String> out = new ArrayList<>();
        for (List<Hypothesis> h : search(scores, shape, lengths)) out.add(h.isEmpty() ? "" : h.get(0).text());
        return out;
    }

    // ------------------------------------------------------------------------------------------

    private static final double NEG_INF = Double.NEGATIVE_INFINITY;

    static double logAdd(double a, double b) {
        if (a == NEG_INF) return b;
        if (b == NEG_INF) return a;
        return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
    }

    /** State of one utterance: a prefix trie and the current beam. */
    private final class Search {
        final float[] scores;
        final int offset;
        final int frames;
        final int v = vocab.size();
        final int space = vocab.indexOf(' ');

        // prefix trie: node 0 is the empty prefix
        int[] parent = new int[256];
        int[] label = new int[256];
        double[] lm = new double[256]; // word scores accumulated along the prefix
        int nodes = 1;
        final Map<Long, Integer> children = new HashMap<>();

        // candidates of the next frame, merged by node
        final Map<Integer, Integer> slot = new HashMap<>();
        int[] cNode = new int[16];
        double[] cPb = new double[16];
        double[] cPnb = new double[16];
        int nCand;

        Search(float[] scores, int offset, int frames) {
            this.scores = scores;
            this.offset = offset;
            this.frames = frames;
            label[0] = -1;
            parent[0] = -1;
        }

        List<Hypothesis> run() {
            int[] bNode = {0};
            double[] bPb = {0.0};
            double[] bPnb = {NEG_INF};
            int nBeams = 1;
            double[] lp = new double[v];
            for (int t = 0; t < frames; t++) {
                logSoftmax(offset + t * v, lp);
                slot.clear();
                nCand = 0;
                for (int i = 0; i < nBeams; i++) {
                    int node = bNode[i];
                    double pb = bPb[i], pnb = bPnb[i];
                    double total = logAdd(pb, pnb);
                    add(node, total + lp[0], NEG_INF);
                    int last = label[node];
                    for (int c = 1; c < v; c++) {
                        double l = lp[c];
                        if (l < pruneLogProb) continue;
                        if (c == last) {
                            add(node, NEG_INF, pnb + l); // repeat collapses into the same prefix
                            if (pb != NEG_INF) add(child(node, c), NEG_INF, pb + l); // blank-separated repeat
                        } else if (total != NEG_INF) {
                            add(child(node, c), NEG_INF, total + l);
                        }
                    }
                }
                // keep the best beamWidth candidates
                Integer[] order = rank(nCand, i -> logAdd(cPb[i], cPnb[i]) + lm[cNode[i]]);
                nBeams = Math.min(beamWidth, order.length);
                bNode = new int[nBeams];
                bPb = new double[nBeams];
                bPnb = new double[nBeams];
                for (int i = 0; i < nBeams; i++) {
                    int k = order[i];
                    bNode[i] = cNode[k];
                    bPb[i] = cPb[k];
                    bPnb[i] = cPnb[k];
                }
            }
            double[] finalLm = new double[nBeams];
            double[] acoustic = new double[nBeams];
            for (int i = 0; i < nBeams; i++) {
                acoustic[i] = logAdd(bPb[i], bPnb[i]);
                finalLm[i] = lm[bNode[i]] + trailingWord(bNode[i]);
            }
            int[] nodeOf = bNode;
            Integer[] order = rank(nBeams, i -> acoustic[i] + finalLm[i]);
            List<Hypothesis> out = new ArrayList<>(order.length);
            for (int k : order) {
                int[] labels = labels(nodeOf[k]);
                out.add(new Hypothesis(labels, vocab.decode(labels, labels.length), acoustic[k] + finalLm[k], acoustic[k], finalLm[k]));
            }
            return out;
        }

        /** Indices 0..n-1 whose score is above -inf, best first; ties keep candidate order (deterministic). */
        private Integer[] rank(int n, java.util.function.IntToDoubleFunction score) {
            double[] s = new double[n];
            List<Integer> idx = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                s[i] = score.applyAsDouble(i);
                if (s[i] != NEG_INF) idx.add(i);
            }
            Integer[] order = idx.toArray(new Integer[0]);
            Arrays.sort(order, (a, b) -> s[a] != s[b] ? Double.compare(s[b], s[a]) : Integer.compare(a, b));
            return order;
        }

        private void logSoftmax(int base, double[] lp) {
            double max = NEG_INF;
            for (int k = 0; k < v; k++) max = Math.max(max, scores[base + k]);
            double sum = 0;
            for (int k = 0; k < v; k++) sum += Math.exp(scores[base + k] - max);
            double z = max + Math.log(sum);
            for (int k = 0; k < v; k++) lp[k] = scores[base + k] - z;
        }

        private void add(int node, double pb, double pnb) {
            Integer s = slot.get(node);
            if (s == null) {
                if (nCand == cNode.length) {
                    cNode = Arrays.copyOf(cNode, 2 * nCand);
                    cPb = Arrays.copyOf(cPb, 2 * nCand);
                    cPnb = Arrays.copyOf(cPnb, 2 * nCand);
                }
                slot.put(node, nCand);
                cNode[nCand] = node;
                cPb[nCand] = pb;
                cPnb[nCand] = pnb;
                nCand++;
            } else {
                cPb[s] = logAdd(cPb[s], pb);
                cPnb[s] = logAdd(cPnb[s], pnb);
            }
        }

        private int child(int node, int c) {
            long key = (long) node * v + c;
            Integer found = children.get(key);
            if (found != null) return found;
            if (nodes == parent.length) {
                parent = Arrays.copyOf(parent, 2 * nodes);
                label = Arrays.copyOf(label, 2 * nodes);
                lm = Arrays.copyOf(lm, 2 * nodes);
            }
            int id = nodes++;
            parent[id] = node;
            label[id] = c;
            lm[id] = lm[node] + (c == space ? wordScore(node) : 0.0);
            children.put(key, id);
            return id;
        }

        /** Score of the word ending at {@code node} (its last label is not a space), 0 if none. */
        private double wordScore(int node) {
            if (scorer == null) return 0.0;
            int[] labels = labels(node);
            int start = labels.length;
            while (start > 0 && labels[start - 1] != space) start--;
            if (start == labels.length) return 0.0; // empty word: leading or repeated space
            String prefixText = vocab.decode(labels, start);
            String word = vocab.decode(Arrays.copyOfRange(labels, start, labels.length), labels.length - start);
            return lmWeight * scorer.scoreWord(prefixText, word) + wordBonus;
        }

        private double trailingWord(int node) {
            return node == 0 || label[node] == space ? 0.0 : wordScore(node);
        }

        private int[] labels(int node) {
            int n = 0;
            for (int k = node; k > 0; k = parent[k]) n++;
            int[] out = new int[n];
            for (int k = node; k > 0; k = parent[k]) out[--n] = label[k];
            return out;
        }
    }
}
