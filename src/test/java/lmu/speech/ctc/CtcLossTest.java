package lmu.speech.ctc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import lmu.speech.ctc.CtcLoss.Layout;
import lmu.speech.ctc.CtcLoss.Reduction;
import org.junit.jupiter.api.Test;

class CtcLossTest {

    // ---------------------------------------------------------------- brute force

    /** All label sequences of length 0..2 over labels 1..V-1. */
    private static List<int[]> labelSequences(int v) {
        List<int[]> out = new ArrayList<>();
        out.add(new int[0]);
        for (int a = 1; a < v; a++) {
            out.add(new int[] {a});
            for (int b = 1; b < v; b++) out.add(new int[] {a, b});
        }
        return out;
    }

    private static int[] collapse(int[] path) {
        List<Integer> out = new ArrayList<>();
        int prev = -1;
        for (int k : path) {
            if (k != prev && k != 0) out.add(k);
            prev = k;
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Exact -log p and d(-log p)/d(logits) by enumerating all V^T paths of one utterance.
     *
     * @param x logits (T, V)
     */
    private static double bruteForce(double[] x, int t, int v, int[] label, double[] grad) {
        double[] sm = new double[t * v];
        for (int i = 0; i < t; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < v; k++) max = Math.max(max, x[i * v + k]);
            double s = 0;
            for (int k = 0; k < v; k++) s += Math.exp(x[i * v + k] - max);
            for (int k = 0; k < v; k++) sm[i * v + k] = Math.exp(x[i * v + k] - max) / s;
        }
        int n = (int) Math.pow(v, t);
        double p = 0;
        double[] occ = new double[t * v];
        int[] path = new int[t];
        for (int code = 0; code < n; code++) {
            int c = code;
            double pr = 1;
            for (int i = 0; i < t; i++) {
                path[i] = c % v;
                c /= v;
                pr *= sm[i * v + path[i]];
            }
            if (Arrays.equals(collapse(path), label)) {
                p += pr;
                for (int i = 0; i < t; i++) occ[i * v + path[i]] += pr;
            }
        }
        for (int i = 0; i < t * v; i++) grad[i] = sm[i] - occ[i] / p;
        return -Math.log(p);
    }

    @Test
    void matchesBruteForceOnAllTinyCases() {
        Random rnd = new Random(1);
        CtcLoss ctc = new CtcLoss(Layout.BATCH_MAJOR, Reduction.SUM, false);
        int cases = 0;
        for (int v = 2; v <= 3; v++) {
            for (int t = 1; t <= 5; t++) {
                for (int[] label : labelSequences(v)) {
                    if (t < CtcLoss.requiredFrames(label, 0, label.length)) continue;
                    double[] x = new double[t * v];
                    for (int i = 0; i < x.length; i++) x[i] = rnd.nextGaussian() * 2;
                    double[] want = new double[t * v];
                    double wantLoss = bruteForce(x, t, v, label, want);
                    for (CtcLoss c : new CtcLoss[] {ctc, ctc.withLogSpace(true)}) {
                        double[] got = new double[t * v];
                        CtcLoss.Result r = c.forwardBackward(x, new int[] {1, t, v}, new int[] {t}, label.length == 0 ? new int[0] : label,
                                new int[] {label.length}, got, null);
                        String what = "T=" + t + " V=" + v + " label=" + Arrays.toString(label);
                        assertEquals(wantLoss, r.loss(), 1e-12 * Math.max(1, wantLoss), what);
                        assertArrayEquals(want, got, 1e-12, what);
                    }
                    cases++;
                }
            }
        }
        assertEquals(13 + 29, cases, "feasible tiny cases: V=2 gives 13, V=3 gives 29");
    }

    @Test
    void floatPathMatchesDoublePath() {
        Random rnd = new Random(2);
        int b = 3, t = 9, v = 5, l = 3;
        double[] x = new double[b * t * v];
        float[] xf = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            xf[i] = (float) (rnd.nextGaussian() * 3);
            x[i] = xf[i];
        }
        int[] targets = {1, 2, 2, 3, 4, 0, 4, 4, 4};
        int[] tl = {3, 2, 3};
        int[] il = {9, 6, 8};
        CtcLoss ctc = CtcLoss.batchMajor();
        double[] gd = new double[x.length];
        float[] gf = new float[x.length];
        double ld = ctc.forwardBackward(x, new int[] {b, t, v}, il, targets, tl, gd, null).loss();
        double lf = ctc.forwardBackward(xf, new int[] {b, t, v}, il, targets, tl, gf, null).loss();
        assertEquals(ld, lf, 1e-12, "float I/O runs the same double code");
        for (int i = 0; i < x.length; i++) assertEquals(gd[i], gf[i], 1e-7, "gradient " + i);
        assertEquals(ld, ctc.forward(xf, new int[] {b, t, v}, il, targets, tl).loss(), 1e-12, "forward only");
    }

    // ---------------------------------------------------------------- closed forms

    /** Uniform softmax: p = (number of alignments) / V^T. */
    @Test
    void uniformLogitsGiveCountingClosedForm() {
        int t = 200, v = 29;
        CtcLoss ctc = new CtcLoss(Layout.BATCH_MAJOR, Reduction.NONE, false);
        float[] x = new float[3 * t * v]; // all zero: uniform
        // "a": blank* a+ blank* -> T(T+1)/2 paths; "ab": C(T+2, 4); "aa": C(T+1, 4)
        int[] targets = {5, 0, 5, 6, 5, 5};
        double[] counts = {t * (t + 1) / 2.0, choose(t + 2, 4), choose(t + 1, 4)};
        CtcLoss.Result r = ctc.forward(x, new int[] {3, t, v}, new int[] {t, t, t}, targets, new int[] {1, 2, 2});
        for (int i = 0; i < 3; i++) {
            double want = t * Math.log(v) - Math.log(counts[i]);
            assertEquals(want, r.losses()[i], 1e-9 * want, "utterance " + i);
        }
        assertEquals(0, r.logSpaceFallbacks());
    }

    private static double choose(int n, int k) {
        double c = 1;
        for (int i = 0; i < k; i++) c = c * (n - i) / (i + 1);
        return c;
    }

    /** With an empty target the only alignment is all blanks: loss = -sum_t log softmax[t, blank]. */
    @Test
    void emptyTargetIsAllBlank() {
        double[] x = {0.5, -1, 2, 1, 0, -3};
        double want = 0;
        for (int i = 0; i < 2; i++) {
            double s = 0;
            for (int k = 0; k < 3; k++) s += Math.exp(x[i * 3 + k]);
            want -= x[i * 3] - Math.log(s);
        }
        double loss = new CtcLoss(Layout.TIME_MAJOR, Reduction.SUM, false).forward(x, new int[] {2, 1, 3}, new int[] {2}, new int[0],
                new int[] {0}).loss();
        assertEquals(want, loss, 1e-13);
    }

    /** Labels ~800 nats less likely than blank underflow the rescaled recursion; the log path takes over. */
    @Test
    void extremeLogitsFallBackToLogSpace() {
        int t = 3, v = 2;
        double[] x = {0, -800, 0, -800, 0, -800};
        double[] g = new double[x.length];
        CtcLoss.Result r = new CtcLoss(Layout.BATCH_MAJOR, Reduction.SUM, false)
                .forwardBackward(x, new int[] {1, t, v}, new int[] {t}, new int[] {1}, new int[] {1}, g, null);
        // p = 3 e^-800 (one 'a' frame) + 2 e^-1600 + e^-2400, softmax(blank) = 1 - e^-800 ~ 1
        assertEquals(800 - Math.log(3), r.loss(), 1e-9);
        assertEquals(1, r.logSpaceFallbacks());
        // each frame carries the 'a' with posterior 1/3: grad[a] = 0 - 1/3, grad[blank] = 1 - 2/3
        for (int i = 0; i < t; i++) {
            assertEquals(1.0 / 3, g[i * v], 1e-9);
            assertEquals(-1.0 / 3, g[i * v + 1], 1e-9);
        }
    }

    /** A model collapsed onto the blank: p(label) ~ e^-20 per frame, loss > 800 nats; both paths agree. */
    @Test
    void blankCollapsedModelMatchesLogSpace() {
        int t = 200, v = 29, l = 50;
        Random rnd = new Random(11);
        double[] x = new double[t * v];
        for (int i = 0; i < t; i++) {
            x[i * v] = 20 + rnd.nextGaussian();
            for (int k = 1; k < v; k++) x[i * v + k] = rnd.nextGaussian();
        }
        int[] targets = new int[l];
        for (int i = 0; i < l; i++) targets[i] = 1 + rnd.nextInt(v - 1);
        CtcLoss ctc = new CtcLoss(Layout.BATCH_MAJOR, Reduction.SUM, false);
        double[] g1 = new double[x.length];
        double[] g2 = new double[x.length];
        double l1 = ctc.forwardBackward(x, new int[] {1, t, v}, new int[] {t}, targets, new int[] {l}, g1, null).loss();
        double l2 = ctc.withLogSpace(true).forwardBackward(x, new int[] {1, t, v}, new int[] {t}, targets, new int[] {l}, g2, null).loss();
        assertTrue(l2 > 800, "loss " + l2);
        assertEquals(l2, l1, 1e-12 * l2);
        assertArrayEquals(g2, g1, 1e-10);
    }

    @Test
    void nanLogitsGiveNanLossForThatUtteranceOnly() {
        float[] x = new float[2 * 3 * 4];
        x[5] = Float.NaN; // utterance 0, frame 1
        float[] g = new float[x.length];
        CtcLoss.Result r = new CtcLoss(Layout.BATCH_MAJOR, Reduction.NONE, false)
                .forwardBackward(x, new int[] {2, 3, 4}, new int[] {3, 3}, new int[] {1, 2}, new int[] {1, 1}, g, null);
        assertTrue(Double.isNaN(r.losses()[0]));
        assertEquals(3 * Math.log(4) - Math.log(6), r.losses()[1], 1e-6);
        assertTrue(Float.isNaN(g[4]));
    }

    @Test
    void zeroInputAndTargetLengthGiveZeroLoss() {
        float[] x = new float[2 * 3 * 4];
        float[] g = new float[x.length];
        Arrays.fill(g, 7f);
        CtcLoss.Result r = new CtcLoss(Layout.BATCH_MAJOR, Reduction.NONE, false)
                .forwardBackward(x, new int[] {2, 3, 4}, new int[] {0, 3}, new int[] {0, 1}, new int[] {0, 1}, g, null);
        assertEquals(0.0, r.losses()[0]);
        for (int i = 0; i < 12; i++) assertEquals(0f, g[i]);
        assertEquals(3 * Math.log(4) - Math.log(6), r.losses()[1], 1e-6);
    }

    // ---------------------------------------------------------------- finite differences

    @Test
    void gradientMatchesFiniteDifferences() {
        Random rnd = new Random(3);
        int b = 3, t = 7, v = 5;
        int[] shape = {t, b, v};
        double[] x = new double[t * b * v];
        for (int i = 0; i < x.length; i++) x[i] = rnd.nextGaussian() * 1.5;
        int[] targets = {1, 1, 2, 3, 4, 0, 2, 2, 2};
        int[] tl = {3, 2, 3};
        int[] il = {7, 5, 6};
        for (Reduction red : Reduction.values()) {
            CtcLoss ctc = new CtcLoss(Layout.TIME_MAJOR, red, false);
            double[] gradOut = red == Reduction.NONE ? new double[] {0.7, -1.3, 2.1} : new double[] {1.7};
            double[] g = new double[x.length];
            ctc.forwardBackward(x, shape, il, targets, tl, g, gradOut);
            double h = 1e-5;
            for (int i = 0; i < x.length; i++) {
                double keep = x[i];
                x[i] = keep + h;
                double up = weighted(ctc.forward(x, shape, il, targets, tl), gradOut);
                x[i] = keep - h;
                double down = weighted(ctc.forward(x, shape, il, targets, tl), gradOut);
                x[i] = keep;
                assertEquals((up - down) / (2 * h), g[i], 1e-7, red + " element " + i);
            }
        }
    }

    private static double weighted(CtcLoss.Result r, double[] gradOut) {
        if (gradOut.length == 1) return r.loss() * gradOut[0];
        double s = 0;
        for (int i = 0; i < gradOut.length; i++) s += r.losses()[i] * gradOut[i];
        return s;
    }

    // ---------------------------------------------------------------- reductions, layouts

    @Test
    void reductionsCombinePerUtteranceLosses() {
        Random rnd = new Random(4);
        int b = 4, t = 10, v = 6;
        float[] x = new float[b * t * v];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        int[] targets = {1, 2, 3, 1, 0, 0, 5, 5, 0, 0, 0, 0};
        int[] tl = {3, 1, 2, 0};
        int[] il = {10, 4, 8, 3};
        int[] shape = {b, t, v};
        double[] none = new CtcLoss(Layout.BATCH_MAJOR, Reduction.NONE, false).forward(x, shape, il, targets, tl).losses();
        double mean = 0, sum = 0;
        for (int i = 0; i < b; i++) {
            mean += none[i] / Math.max(tl[i], 1) / b;
            sum += none[i];
        }
        assertEquals(mean, new CtcLoss(Layout.BATCH_MAJOR, Reduction.MEAN, false).forward(x, shape, il, targets, tl).loss(), 1e-12);
        assertEquals(sum, new CtcLoss(Layout.BATCH_MAJOR, Reduction.SUM, false).forward(x, shape, il, targets, tl).loss(), 1e-12);
        assertThrows(IllegalStateException.class,
                () -> new CtcLoss(Layout.BATCH_MAJOR, Reduction.NONE, false).forward(x, shape, il, targets, tl).loss());

        // mean gradient = none gradient with gradOut[b] = 1 / (max(L_b, 1) * B)
        float[] gMean = new float[x.length];
        float[] gNone = new float[x.length];
        new CtcLoss(Layout.BATCH_MAJOR, Reduction.MEAN, false).forwardBackward(x, shape, il, targets, tl, gMean, null);
        float[] w = new float[b];
        for (int i = 0; i < b; i++) w[i] = 1f / (Math.max(tl[i], 1) * b);
        new CtcLoss(Layout.BATCH_MAJOR, Reduction.NONE, false).forwardBackward(x, shape, il, targets, tl, gNone, w);
        assertArrayEquals(gNone, gMean, 1e-7f);
        // frames past the input length have zero gradient
        for (int tt = il[1]; tt < t; tt++) {
            for (int k = 0; k < v; k++) assertEquals(0f, gMean[(t + tt) * v + k]);
        }
    }

    @Test
    void layoutsAgree() {
        Random rnd = new Random(5);
        int b = 3, t = 8, v = 4;
        float[] btv = new float[b * t * v];
        float[] tbv = new float[b * t * v];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                for (int k = 0; k < v; k++) {
                    float val = (float) rnd.nextGaussian();
                    btv[(i * t + j) * v + k] = val;
                    tbv[(j * b + i) * v + k] = val;
                }
            }
        }
        int[] targets = {1, 2, 3, 3, 1, 0};
        int[] tl = {2, 2, 1};
        int[] il = {8, 5, 7};
        float[] g1 = new float[btv.length];
        float[] g2 = new float[tbv.length];
        double l1 = new CtcLoss(Layout.BATCH_MAJOR, Reduction.MEAN, false).forwardBackward(btv, new int[] {b, t, v}, il, targets, tl, g1, null).loss();
        double l2 = new CtcLoss(Layout.TIME_MAJOR, Reduction.MEAN, false).forwardBackward(tbv, new int[] {t, b, v}, il, targets, tl, g2, null).loss();
        assertEquals(l1, l2, 1e-12);
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                for (int k = 0; k < v; k++) assertEquals(g1[(i * t + j) * v + k], g2[(j * b + i) * v + k], 0f);
            }
        }
    }

    @Test
    void logSpaceAndRescaledPathsAgreeOnRandomBatches() {
        Random rnd = new Random(6);
        int b = 5, t = 60, v = 8, l = 20;
        float[] x = new float[b * t * v];
        for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * 4);
        int[] targets = new int[b * l];
        for (int i = 0; i < targets.length; i++) targets[i] = 1 + rnd.nextInt(3); // many repeats
        int[] tl = {20, 15, 10, 5, 0};
        int[] il = {60, 55, 40, 20, 10};
        CtcLoss ctc = new CtcLoss(Layout.BATCH_MAJOR, Reduction.NONE, false);
        float[] g1 = new float[x.length];
        float[] g2 = new float[x.length];
        CtcLoss.Result r1 = ctc.forwardBackward(x, new int[] {b, t, v}, il, targets, tl, g1, null);
        CtcLoss.Result r2 = ctc.withLogSpace(true).forwardBackward(x, new int[] {b, t, v}, il, targets, tl, g2, null);
        assertEquals(0, r1.logSpaceFallbacks());
        for (int i = 0; i < b; i++) {
            if (r1.losses()[i] == Double.POSITIVE_INFINITY) continue;
            assertEquals(r2.losses()[i], r1.losses()[i], 1e-10 * r2.losses()[i]);
        }
        assertArrayEquals(g2, g1, 1e-6f);
    }

    // ---------------------------------------------------------------- infeasible, zeroInfinity

    @Test
    void infeasibleUtterancesAreReported() {
        int b = 3, t = 5, v = 4;
        float[] x = new float[b * t * v];
        int[] targets = {1, 1, 1, 2, 3, 0, 1, 2, 2};
        int[] tl = {3, 2, 3};
        int[] il = {4, 2, 5}; // utterance 0 needs 3 + 2 repeats = 5 frames; utterance 2 needs 3 + 1 = 4
        int[] shape = {b, t, v};
        float[] g = new float[x.length];
        CtcLoss plain = new CtcLoss(Layout.BATCH_MAJOR, Reduction.NONE, false);
        CtcLoss.Result r = plain.forwardBackward(x, shape, il, targets, tl, g, null);
        assertArrayEquals(new int[] {0}, r.infeasible());
        assertEquals(Double.POSITIVE_INFINITY, r.losses()[0]);
        assertTrue(r.infeasibleReport().contains("utterance 0: input length 4 < label length 3 + 2 adjacent repeats = 5 frames needed"),
                r.infeasibleReport());
        for (int i = 0; i < 4 * v; i++) assertTrue(Float.isNaN(g[i]), "NaN gradient inside the input length");
        for (int i = 4 * v; i < t * v; i++) assertEquals(0f, g[i], "zero past the input length");
        assertTrue(Double.isFinite(r.losses()[1]) && Double.isFinite(r.losses()[2]));
        assertEquals(Double.POSITIVE_INFINITY, plain.withReduction(Reduction.MEAN).forward(x, shape, il, targets, tl).loss());

        CtcLoss.Result z = plain.withZeroInfinity(true).forwardBackward(x, shape, il, targets, tl, g, null);
        assertArrayEquals(new int[] {0}, z.infeasible());
        assertEquals(0.0, z.losses()[0]);
        assertEquals(r.losses()[1], z.losses()[1]);
        for (int i = 0; i < t * v; i++) assertEquals(0f, g[i]);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CtcLoss.checkFeasible(il, targets, tl));
        assertTrue(e.getMessage().contains("1 infeasible utterance(s): utterance 0: input length 4 < label length 3"), e.getMessage());
        CtcLoss.checkFeasible(new int[] {5, 2, 5}, targets, tl);
    }

    // ---------------------------------------------------------------- validation messages

    @Test
    void badInputIsRejectedWithSpecificMessages() {
        CtcLoss ctc = CtcLoss.batchMajor();
        float[] x = new float[2 * 5 * 4];
        int[] shape = {2, 5, 4};
        int[] il = {5, 5};
        int[] tg = {1, 2, 3, 0};
        int[] tl = {2, 1};
        assertMessage("CtcLoss: logits must have shape (B, T, V) with positive dimensions, got [2, 5]",
                () -> ctc.forward(x, new int[] {2, 5}, il, tg, tl));
        assertMessage("need 48 elements, got 40", () -> ctc.forward(x, new int[] {2, 6, 4}, il, tg, tl));
        assertMessage("CtcLoss: logits must have shape (T, B, V)",
                () -> new CtcLoss(Layout.TIME_MAJOR, Reduction.SUM, false).forward(x, new int[] {0, 2, 4}, il, tg, tl));
        assertMessage("inputLengths must have shape (B) = (2), got (3)", () -> ctc.forward(x, shape, new int[] {5, 5, 5}, tg, tl));
        assertMessage("inputLengths[1] = 6 outside [0, T=5]", () -> ctc.forward(x, shape, new int[] {5, 6}, tg, tl));
        assertMessage("targets must have shape (B, L) with B = 2, got 3 elements", () -> ctc.forward(x, shape, il, new int[] {1, 2, 3}, tl));
        assertMessage("targetLengths[0] = 3 outside [0, L=2]", () -> ctc.forward(x, shape, il, tg, new int[] {3, 1}));
        assertMessage("targets[1][0] = 0 is the blank", () -> ctc.forward(x, shape, il, new int[] {1, 2, 0, 0}, tl));
        assertMessage("targets[0][1] = 4 outside the labels [1, V=4)", () -> ctc.forward(x, shape, il, new int[] {1, 4, 3, 0}, tl));
        assertMessage("targets[0][0] = -1 outside", () -> ctc.forward(x, shape, il, new int[] {-1, 1, 3, 0}, tl));
        assertMessage("dLogits must have the logits' 40 elements, got 39",
                () -> ctc.forwardBackward(x, shape, il, tg, tl, new float[39], null));
        assertMessage("gradOut must have shape (1) for reduction MEAN, got (2)",
                () -> ctc.forwardBackward(x, shape, il, tg, tl, new float[40], new float[2]));
        assertMessage("gradOut must have shape (2) for reduction NONE, got (1)",
                () -> ctc.withReduction(Reduction.NONE).forwardBackward(x, shape, il, tg, tl, new float[40], new float[1]));
        // padding past the target length is ignored, whatever it holds
        ctc.forward(x, shape, il, new int[] {1, 2, 3, -7}, tl);
    }

    private static void assertMessage(String part, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(part), "expected \"" + part + "\" in: " + e.getMessage());
    }

    /** A device's per-utterance losses give the Result the CPU gives: infeasible list, report, reduction. */
    @Test
    void resultOfLossesComputedElsewhereEqualsForward() {
        int[] in = {6, 3, 0, 5};
        int[] targets = {1, 2, 3, 2, 2, 3, 0, 0, 0, 4, 1, 0};
        int[] tgt = {3, 3, 0, 2};
        double[] x = new double[4 * 6 * 5];
        java.util.Random rnd = new java.util.Random(12);
        for (int i = 0; i < x.length; i++) x[i] = rnd.nextGaussian();
        for (CtcLoss.Reduction red : CtcLoss.Reduction.values()) {
            for (boolean zeroInf : new boolean[] {false, true}) {
                CtcLoss loss = new CtcLoss(CtcLoss.Layout.BATCH_MAJOR, red, zeroInf);
                CtcLoss.Result want = loss.forward(x, new int[] {4, 6, 5}, in, targets, tgt);
                CtcLoss.Result got = loss.resultOf(want.losses(), in, targets, tgt);
                assertArrayEquals(want.losses(), got.losses(), 0);
                assertArrayEquals(new int[] {1}, got.infeasible());
                assertEquals(want.infeasibleReport(), got.infeasibleReport());
                if (red != CtcLoss.Reduction.NONE) assertEquals(want.loss(), got.loss(), 0);
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CtcLoss.batchMajor().resultOf(new double[2], in, targets, tgt));
        assertTrue(e.getMessage().contains("CtcLoss.resultOf"), e.getMessage());
    }

    @Test
    void checkRejectsWhatForwardRejects() {
        CtcLoss loss = CtcLoss.batchMajor();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> loss.check(new int[] {1, 4, 3}, new int[] {4}, new int[] {1, 3}, new int[] {2}));
        assertTrue(e.getMessage().contains("targets[0][1] = 3 outside the labels [1, V=3)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> loss.check(new int[] {4, 3}, new int[] {4}, new int[] {1}, new int[] {1}));
        assertTrue(e.getMessage().contains("CtcLoss: logits must have shape (B, T, V)"), e.getMessage());
        loss.check(new int[] {1, 4, 3}, new int[] {4}, new int[] {1, 2}, new int[] {2}); // valid: no exception
    }
}
