package lmu.nn.lmu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import lmu.nn.lmu.LegendreConvolution.Method;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class LmuParallelTest {

    /** Parallel mode equals the recurrent cell with feedback off, forward and backward, on a ragged batch. */
    @ParameterizedTest
    @EnumSource(Method.class)
    void equalsTheRecurrentCellWithoutFeedback(Method method) {
        for (Activation act : Activation.values()) {
            LmuConfig c = LmuConfig.of(5, 6, 3, 16, 30).withHidden(true, false, act).withBiases(true, true);
            int batch = 4, frames = 90;
            int[] lengths = {90, 1, 57, 64};
            LmuParameters p = LmuTesting.randomParameters(c, 21);
            LegendreStateSpace ss = new LegendreStateSpace(c.order(), c.theta(), Discretizer.ZOH);
            LegendreImpulseResponse ir = new LegendreImpulseResponse(ss, 128);
            double[] x = FftTest.random(batch * frames * 5, 22);
            double[] dh = FftTest.random(batch * frames * 6, 23);
            LmuRecurrent.Saved rec = LmuRecurrent.forward(p, ss, x, batch, frames, lengths);
            LmuRecurrent.Saved par = LmuParallel.forward(p, ir, x, batch, frames, lengths, method);
            LegendreConvolutionTest.assertClose(rec.h(), par.h(), 1e-5, act + " h");
            LegendreConvolutionTest.assertClose(rec.m(), par.m(), 1e-5, act + " m");
            LmuParameters gr = p.zerosLike(), gp = p.zerosLike();
            double[] dxr = LmuRecurrent.backward(p, ss, x, batch, frames, lengths, rec, dh, gr);
            double[] dxp = LmuParallel.backward(p, ir, x, batch, frames, lengths, method, par, dh, gp);
            LegendreConvolutionTest.assertClose(dxr, dxp, 1e-5, act + " dx");
            for (String name : gr.names()) {
                LegendreConvolutionTest.assertClose(gr.arrays().get(name), gp.arrays().get(name), 1e-5, act + " d" + name);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Method.class, names = {"DIRECT", "FFT"})
    void gradientsMatchFiniteDifferences(Method method) {
        check(LmuConfig.of(3, 4, 2, 3, 2.5).withHidden(true, false, Activation.TANH).withBiases(true, true),
                6, new int[] {6, 1, 4}, method, 1);
        // order 1, θ below a frame, T = 1
        check(LmuConfig.of(2, 3, 1, 1, 0.5).withBiases(true, true), 1, new int[] {1}, method, 2);
        check(LmuConfig.of(2, 3, 2, 4, 1000).withHidden(true, false, Activation.RELU), 5, new int[] {5, 0, 2}, method, 3);
    }

    private static void check(LmuConfig c, int frames, int[] lengths, Method method, long seed) {
        int batch = lengths.length;
        LmuParameters p = LmuTesting.randomParameters(c, seed);
        LegendreImpulseResponse ir = new LegendreImpulseResponse(new LegendreStateSpace(c.order(), c.theta(),
                c.discretizer()), 16);
        double[] x = FftTest.random(batch * frames * c.inputSize(), seed + 2);
        double[] w = FftTest.random(batch * frames * c.hiddenSize(), seed + 3);
        LmuRecurrent.Saved saved = LmuParallel.forward(p, ir, x, batch, frames, lengths, method);
        LmuParameters grads = p.zerosLike();
        double[] dx = LmuParallel.backward(p, ir, x, batch, frames, lengths, method, saved, w, grads);
        LmuTesting.checkGradients(p, x, w, () -> LmuParallel.forward(p, ir, x, batch, frames, lengths, method).h(),
                grads, dx, method + " " + c);
    }

    @ParameterizedTest
    @EnumSource(value = Method.class, names = {"DIRECT", "FFT"})
    void paddingIsZeroAndIsolated(Method method) {
        LmuConfig c = LmuConfig.of(3, 4, 2, 3, 5).withHidden(true, false, Activation.TANH).withBiases(true, true);
        int batch = 2, frames = 7;
        int[] lengths = {3, 7};
        LmuParameters p = LmuTesting.randomParameters(c, 3);
        LegendreImpulseResponse ir = new LegendreImpulseResponse(new LegendreStateSpace(3, 5, Discretizer.ZOH), 8);
        double[] x = FftTest.random(batch * frames * 3, 4);
        double[] dirty = x.clone();
        double[] dh = FftTest.random(batch * frames * 4, 5);
        double[] dirtyDh = dh.clone();
        for (int t = 3; t < frames; t++) {
            for (int q = 0; q < 3; q++) dirty[t * 3 + q] = Double.NaN;
            for (int q = 0; q < 4; q++) dirtyDh[t * 4 + q] = Double.NaN;
        }
        LmuRecurrent.Saved clean = LmuParallel.forward(p, ir, x, batch, frames, lengths, method);
        LmuRecurrent.Saved s = LmuParallel.forward(p, ir, dirty, batch, frames, lengths, method);
        for (int i = 0; i < s.h().length; i++) {
            int t = (i / 4) % frames, b = i / 4 / frames;
            if (t >= lengths[b]) assertEquals(0.0, s.h()[i]);
            else assertEquals(clean.h()[i], s.h()[i], 0.0);
        }
        LmuParameters g1 = p.zerosLike(), g2 = p.zerosLike();
        double[] dx1 = LmuParallel.backward(p, ir, x, batch, frames, lengths, method, clean, dh, g1);
        double[] dx2 = LmuParallel.backward(p, ir, dirty, batch, frames, lengths, method, s, dirtyDh, g2);
        for (int i = 0; i < dx1.length; i++) assertEquals(dx1[i], dx2[i], 0.0, "dx[" + i + "]");
        for (String name : g1.names()) {
            double[] a = g1.arrays().get(name), b = g2.arrays().get(name);
            for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 0.0, name);
        }
    }
}
