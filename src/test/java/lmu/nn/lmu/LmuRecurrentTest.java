package lmu.nn.lmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import lmu.nn.lmu.LegendreConvolution.Method;
import org.junit.jupiter.api.Test;

class LmuRecurrentTest {

    private static void gradientCheck(LmuConfig c, int frames, int[] lengths, long seed) {
        int batch = lengths.length;
        LmuParameters p = LmuTesting.randomParameters(c, seed);
        LegendreStateSpace ss = new LegendreStateSpace(c.order(), c.theta(), c.discretizer());
        double[] x = FftTest.random(batch * frames * c.inputSize(), seed + 2);
        double[] w = FftTest.random(batch * frames * c.hiddenSize(), seed + 3);
        LmuRecurrent.Saved saved = LmuRecurrent.forward(p, ss, x, batch, frames, lengths);
        LmuParameters grads = p.zerosLike();
        double[] dx = LmuRecurrent.backward(p, ss, x, batch, frames, lengths, saved, w, grads);
        LmuTesting.checkGradients(p, x, w, () -> LmuRecurrent.forward(p, ss, x, batch, frames, lengths).h(), grads, dx,
                c.toString());
    }

    @Test
    void fullCellGradientsMatchFiniteDifferences() {
        LmuConfig all = LmuConfig.of(3, 4, 2, 3, 2.5).withFeedback(true, true).withHidden(true, true, Activation.TANH)
                .withBiases(true, true);
        gradientCheck(all, 6, new int[] {6, 1, 4}, 1);
    }

    @Test
    void gradientsAtTheEdges() {
        // order 1, θ below a frame, T = 1
        LmuConfig tiny = LmuConfig.of(2, 3, 1, 1, 0.5).withFeedback(true, true).withHidden(true, true, Activation.TANH)
                .withBiases(true, true);
        gradientCheck(tiny, 1, new int[] {1, 1}, 5);
        // identity activation, Euler, large θ, a length-0 sequence beside a full one
        LmuConfig euler = LmuConfig.of(2, 3, 2, 4, 1000).withDiscretizer(Discretizer.EULER)
                .withFeedback(true, false).withHidden(false, true, Activation.IDENTITY);
        gradientCheck(euler, 5, new int[] {5, 0, 2}, 7);
        // relu, no options at all
        gradientCheck(LmuConfig.of(3, 5, 1, 2, 4).withHidden(false, false, Activation.RELU).withBiases(false, false),
                4, new int[] {4, 3}, 9);
    }

    @Test
    void paddingIsFrozenZeroAndIsolated() {
        LmuConfig c = LmuConfig.of(3, 4, 2, 3, 5).withFeedback(true, true).withHidden(true, true, Activation.TANH)
                .withBiases(true, true);
        int batch = 2, frames = 7;
        int[] lengths = {3, 7};
        LmuParameters p = LmuTesting.randomParameters(c, 3);
        LegendreStateSpace ss = new LegendreStateSpace(3, 5, Discretizer.ZOH);
        double[] x = FftTest.random(batch * frames * 3, 4);
        double[] dirty = x.clone();
        double[] dh = FftTest.random(batch * frames * 4, 5);
        double[] dirtyDh = dh.clone();
        for (int t = 3; t < frames; t++) {
            for (int q = 0; q < 3; q++) dirty[t * 3 + q] = Double.NaN;
            for (int q = 0; q < 4; q++) dirtyDh[t * 4 + q] = Double.NaN;
        }
        LmuRecurrent.Saved clean = LmuRecurrent.forward(p, ss, x, batch, frames, lengths);
        LmuRecurrent.Saved s = LmuRecurrent.forward(p, ss, dirty, batch, frames, lengths);
        for (int i = 0; i < s.h().length; i++) {
            int t = (i / 4) % frames, b = i / 4 / frames;
            if (t >= lengths[b]) assertEquals(0.0, s.h()[i]);
            else assertEquals(clean.h()[i], s.h()[i], 0.0);
        }
        LmuParameters g1 = p.zerosLike(), g2 = p.zerosLike();
        double[] dx1 = LmuRecurrent.backward(p, ss, x, batch, frames, lengths, clean, dh, g1);
        double[] dx2 = LmuRecurrent.backward(p, ss, dirty, batch, frames, lengths, s, dirtyDh, g2);
        for (int i = 0; i < dx1.length; i++) assertEquals(dx1[i], dx2[i], 0.0, "dx[" + i + "]");
        for (String name : g1.names()) {
            double[] a = g1.arrays().get(name), b = g2.arrays().get(name);
            for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 0.0, name);
        }
    }

    @Test
    void parameterGradientsAccumulate() {
        LmuConfig c = LmuConfig.of(2, 3, 1, 2, 3).withHidden(true, true, Activation.TANH);
        LmuParameters p = LmuTesting.randomParameters(c, 1);
        LegendreStateSpace ss = new LegendreStateSpace(2, 3, Discretizer.ZOH);
        double[] x = FftTest.random(2 * 4 * 2, 2), dh = FftTest.random(2 * 4 * 3, 3);
        int[] lengths = {4, 2};
        LmuRecurrent.Saved s = LmuRecurrent.forward(p, ss, x, 2, 4, lengths);
        LmuParameters once = p.zerosLike(), twice = p.zerosLike();
        LmuRecurrent.backward(p, ss, x, 2, 4, lengths, s, dh, once);
        LmuRecurrent.backward(p, ss, x, 2, 4, lengths, s, dh, twice);
        LmuRecurrent.backward(p, ss, x, 2, 4, lengths, s, dh, twice);
        for (String name : once.names()) {
            double[] a = once.arrays().get(name), b = twice.arrays().get(name);
            for (int i = 0; i < a.length; i++) assertEquals(2 * a[i], b[i], 1e-12 * (1 + Math.abs(a[i])), name);
        }
    }

    @Test
    void memoryStateEqualsTheBruteForceRecurrence() {
        LmuConfig c = LmuConfig.of(2, 3, 2, 5, 7);
        LmuParameters p = LmuTesting.randomParameters(c, 8);
        LegendreStateSpace ss = new LegendreStateSpace(5, 7, Discretizer.ZOH);
        int batch = 2, frames = 9;
        int[] lengths = {9, 4};
        double[] x = FftTest.random(batch * frames * 2, 9);
        double[] u = new double[batch * frames * 2];
        for (int r = 0; r < batch * frames; r++) {
            for (int k = 0; k < 2; k++) for (int q = 0; q < 2; q++) u[r * 2 + k] += x[r * 2 + q] * p.ex[q * 2 + k];
        }
        double[] ref = LegendreConvolutionTest.recurrence(ss, u, batch, frames, 2, lengths);
        LegendreConvolutionTest.assertClose(ref, LmuRecurrent.forward(p, ss, x, batch, frames, lengths).m(), 1e-13, "m");
    }

    @Test
    void initialisationFollowsTheDocumentedDistributions() {
        LmuConfig c = LmuConfig.of(80, 384, 4, 192, 400).withFeedback(true, true).withHidden(true, true, Activation.TANH)
                .withBiases(true, true);
        LmuParameters p = LmuParameters.initialise(c, 42);
        assertUniform(p.ex, Math.sqrt(3.0 / 80), "ex");
        assertUniform(p.eh, Math.sqrt(3.0 / 384), "eh");
        assertUniform(p.wx, Math.sqrt(6.0 / (80 + 384)), "wx");
        assertUniform(p.wh, Math.sqrt(6.0 / (384 + 384)), "wh");
        assertUniform(p.wm, Math.sqrt(6.0 / (4 * 192 + 384)), "wm");
        for (double[] zero : new double[][] {p.em, p.bu, p.bh}) for (double v : zero) assertEquals(0.0, v);
    }

    private static void assertUniform(double[] a, double limit, String name) {
        double max = 0, sumSq = 0;
        for (double v : a) {
            max = Math.max(max, Math.abs(v));
            sumSq += v * v;
        }
        assertTrue(max <= limit && max > 0.99 * limit, name + " max " + max + " limit " + limit);
        // mean of v² for U(−l, l) is l²/3 with relative standard error √(4/5 − 4/9)·3/√n ≈ 0.894/√n; allow 4σ
        double var = limit * limit / 3;
        assertEquals(var, sumSq / a.length, 4 * 0.894 / Math.sqrt(a.length) * var, name + " variance");
    }

    @Test
    void badInputsAreNamed() {
        LmuConfig c = LmuConfig.of(2, 3, 1, 2, 3);
        LmuParameters p = LmuParameters.initialise(c, 1);
        LegendreStateSpace ss = new LegendreStateSpace(2, 3, Discretizer.ZOH);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LmuRecurrent.forward(p, ss, new double[5], 1, 3, new int[] {3}));
        assertTrue(e.getMessage().contains("LmuRecurrent: x must have shape (B, T, C) = [1, 3, 2]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LmuRecurrent.forward(p,
                new LegendreStateSpace(3, 3, Discretizer.ZOH), new double[6], 1, 3, new int[] {3}));
        assertTrue(e.getMessage().contains("order 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LmuParallel.forward(
                LmuParameters.initialise(c.withHidden(false, true, Activation.TANH), 1),
                new LegendreImpulseResponse(ss, 8), new double[6], 1, 3, new int[] {3}, Method.AUTO));
        assertTrue(e.getMessage().contains("hiddenToHidden"), e.getMessage());
    }
}
