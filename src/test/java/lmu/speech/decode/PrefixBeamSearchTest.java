package lmu.speech.decode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import lmu.speech.decode.PrefixBeamSearch.Hypothesis;
import lmu.speech.text.Vocabulary;
import org.junit.jupiter.api.Test;

class PrefixBeamSearchTest {

    static float[] logOf(double... probs) {
        float[] x = new float[probs.length];
        for (int i = 0; i < probs.length; i++) x[i] = (float) Math.log(probs[i]);
        return x;
    }

    /** The classic case: best path is "" (0.36) but "a" sums to 0.64 over three alignments. */
    @Test
    void mergingPrefixesBeatsTheBestPath() {
        Vocabulary vocab = new Vocabulary("a");
        float[] x = logOf(0.6, 0.4, 0.6, 0.4);
        assertEquals("", GreedyDecoder.decodeText(x, new int[] {1, 2, 2}, new int[] {2}, vocab).get(0));
        List<Hypothesis> h = new PrefixBeamSearch(vocab, 2).search(x, 0, 2);
        assertEquals("a", h.get(0).text());
        assertEquals(Math.log(0.4 * 0.4 + 0.4 * 0.6 + 0.6 * 0.4), h.get(0).score(), 1e-6);
        assertEquals("", h.get(1).text());
        assertEquals(Math.log(0.36), h.get(1).score(), 1e-6);
    }

    /** A case with repeats: "aa" needs a blank between; beam sums alignments "a_a". */
    @Test
    void repeatedLabelsNeedABlankBetween() {
        Vocabulary vocab = new Vocabulary("a");
        // frames: a, blank, a   with probabilities 0.9 / 0.9 / 0.9
        float[] x = logOf(0.1, 0.9, 0.9, 0.1, 0.1, 0.9);
        List<Hypothesis> h = new PrefixBeamSearch(vocab, 8).search(x, 0, 3);
        assertEquals("aa", h.get(0).text());
        assertEquals(Math.log(0.9 * 0.9 * 0.9), h.get(0).score(), 1e-6);
        Map<String, Double> exact = bruteForce(x, 3, 2, vocab);
        for (Hypothesis hy : h) assertEquals(Math.log(exact.get(hy.text())), hy.score(), 1e-6, hy.text());
    }

    /** Exact summed probability of every labelling, by enumerating all V^T paths. */
    static Map<String, Double> bruteForce(float[] x, int t, int v, Vocabulary vocab) {
        double[] p = new double[t * v];
        for (int i = 0; i < t; i++) {
            double s = 0;
            for (int k = 0; k < v; k++) s += Math.exp(x[i * v + k]);
            for (int k = 0; k < v; k++) p[i * v + k] = Math.exp(x[i * v + k]) / s;
        }
        Map<String, Double> out = new HashMap<>();
        int n = (int) Math.pow(v, t);
        for (int code = 0; code < n; code++) {
            int c = code, prev = -1;
            double pr = 1;
            List<Integer> labels = new ArrayList<>();
            for (int i = 0; i < t; i++) {
                int k = c % v;
                c /= v;
                pr *= p[i * v + k];
                if (k != prev && k != 0) labels.add(k);
                prev = k;
            }
            out.merge(vocab.decode(labels), pr, Double::sum);
        }
        return out;
    }

    @Test
    void scoresAreExactPrefixProbabilitiesWhenNothingIsPruned() {
        Vocabulary vocab = new Vocabulary("ab");
        Random rnd = new Random(7);
        for (int trial = 0; trial < 20; trial++) {
            int t = 1 + rnd.nextInt(5), v = 3;
            float[] x = new float[t * v];
            for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * 2);
            Map<String, Double> exact = bruteForce(x, t, v, vocab);
            // a beam wider than the number of labellings keeps everything
            List<Hypothesis> h = new PrefixBeamSearch(vocab, 1000).search(x, 0, t);
            assertEquals(exact.size(), h.size(), "every labelling with p > 0 is found");
            String best = null;
            for (Map.Entry<String, Double> e : exact.entrySet()) {
                if (best == null || e.getValue() > exact.get(best)) best = e.getKey();
            }
            assertEquals(best, h.get(0).text());
            for (Hypothesis hy : h) {
                assertEquals(Math.log(exact.get(hy.text())), hy.score(), 1e-5, "trial " + trial + " " + hy.text());
                assertEquals(hy.score(), hy.acousticLogProb());
                assertEquals(0.0, hy.lmScore());
            }
            for (int i = 1; i < h.size(); i++) assertTrue(h.get(i - 1).score() >= h.get(i).score(), "sorted");
        }
    }

    @Test
    void beamWidthOneEqualsGreedyOnPeakedFrames() {
        Vocabulary vocab = Vocabulary.english();
        Random rnd = new Random(8);
        int b = 4, t = 60, v = vocab.size();
        float[] x = new float[b * t * v];
        for (int i = 0; i < b * t; i++) {
            int peak = rnd.nextInt(3) == 0 ? 0 : rnd.nextInt(v);
            for (int k = 0; k < v; k++) x[i * v + k] = (float) rnd.nextGaussian() * 0.3f;
            x[i * v + peak] += 9f;
        }
        int[] shape = {b, t, v};
        int[] lengths = {60, 45, 30, 1};
        List<String> greedy = GreedyDecoder.decodeText(x, shape, lengths, vocab);
        List<String> beam = new PrefixBeamSearch(vocab, 1).decodeText(x, shape, lengths);
        assertEquals(greedy, beam);
        assertTrue(greedy.get(0).length() > 20, "the case is not trivial: " + greedy.get(0));
        // a wider beam agrees too when frames are this peaked
        assertEquals(greedy, new PrefixBeamSearch(vocab, 8).decodeText(x, shape, lengths));
    }

    @Test
    void batchedEqualsOneByOne() {
        Vocabulary vocab = new Vocabulary(" ab");
        Random rnd = new Random(9);
        int b = 3, t = 12, v = vocab.size();
        float[] x = new float[b * t * v];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        PrefixBeamSearch s = new PrefixBeamSearch(vocab, 5);
        int[] lengths = {12, 7, 0};
        List<List<Hypothesis>> all = s.search(x, new int[] {b, t, v}, lengths);
        for (int i = 0; i < b; i++) {
            List<Hypothesis> one = s.search(x, i * t * v, lengths[i]);
            assertEquals(one.size(), all.get(i).size());
            for (int k = 0; k < one.size(); k++) {
                assertArrayEquals(one.get(k).labels(), all.get(i).get(k).labels());
                assertEquals(one.get(k).score(), all.get(i).get(k).score());
            }
        }
        assertEquals(1, all.get(2).size());
        assertEquals("", all.get(2).get(0).text());
        assertEquals(0.0, all.get(2).get(0).score(), "zero frames: the empty labelling with probability 1");
    }

    @Test
    void pruningDropsUnlikelySymbols() {
        Vocabulary vocab = new Vocabulary("ab");
        float[] x = logOf(0.5, 0.45, 0.05, 0.5, 0.45, 0.05);
        List<Hypothesis> all = new PrefixBeamSearch(vocab, 100).search(x, 0, 2);
        List<Hypothesis> pruned = new PrefixBeamSearch(vocab, 100).withPruning(Math.log(0.1)).search(x, 0, 2);
        assertTrue(all.stream().anyMatch(h -> h.text().contains("b")));
        assertTrue(pruned.stream().noneMatch(h -> h.text().contains("b")));
        assertEquals(2, pruned.size(), "two frames of blank or a give '' and 'a'");
    }

    @Test
    void wordScorerIsCalledPerCompletedWordAndCanFlipTheResult() {
        Vocabulary vocab = new Vocabulary(" ab");
        int v = vocab.size(); // blank, space, a, b
        // frames: a(0.9) | space(0.9) | b 0.55 vs a 0.45 -> acoustics prefer "a b"
        float[] x = logOf(0.04, 0.03, 0.9, 0.03, 0.04, 0.9, 0.03, 0.03, 0.0001, 0.0001, 0.4499, 0.55);
        List<Hypothesis> plain = new PrefixBeamSearch(vocab, 10).search(x, 0, 3);
        assertEquals("a b", plain.get(0).text());

        List<String> calls = java.util.Collections.synchronizedList(new ArrayList<>());
        PrefixBeamSearch.PrefixScorer lm = (prefix, word) -> {
            calls.add("[" + prefix + "|" + word + "]");
            return word.equals("a") ? Math.log(0.9) : Math.log(0.1);
        };
        List<Hypothesis> scored = new PrefixBeamSearch(vocab, 10).withScorer(lm, 1.0, 0.5).search(x, 0, 3);
        assertEquals("a a", scored.get(0).text());
        Hypothesis best = scored.get(0);
        assertEquals(2 * (Math.log(0.9) + 0.5), best.lmScore(), 1e-12, "two words, each weight*log p + bonus");
        assertEquals(best.acousticLogProb() + best.lmScore(), best.score(), 1e-12);
        assertTrue(calls.contains("[|a]"), calls.toString());
        assertTrue(calls.contains("[a |a]"), calls.toString());
        assertTrue(calls.contains("[a |b]"), calls.toString());
        for (String c : calls) assertTrue(!c.contains("| ") && !c.contains("|]"), "no empty or spaced words: " + c);
        // the acoustic part of "a a" is the same as without the scorer
        double acousticAa = plain.stream().filter(h -> h.text().equals("a a")).findFirst().orElseThrow().score();
        assertEquals(acousticAa, best.acousticLogProb(), 1e-12);
        assertEquals(v, vocab.size());
    }

    @Test
    void rejectsBadArguments() {
        Vocabulary vocab = new Vocabulary("ab");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new PrefixBeamSearch(vocab, 0)).getMessage()
                .contains("beamWidth : 0 (expected: > 0)"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new PrefixBeamSearch(vocab, 2).withPruning(0.5)).getMessage()
                .contains("pruneLogProb : 0.5"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new PrefixBeamSearch(vocab, 2).search(new float[2 * 3 * 4], new int[] {2, 3, 4}, new int[] {3, 3}));
        assertTrue(e.getMessage().contains("PrefixBeamSearch: V = 4 does not match the vocabulary's 3 symbols"), e.getMessage());
    }
}
