package lmu.nn.lmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import lmu.nn.lmu.LegendreConvolution.Method;
import org.junit.jupiter.api.Test;

/**
 * The float32 parallel LMU against the float64 one ({@link LmuParallel}, itself checked against the
 * recurrent cell and finite differences in float64): forward and every gradient, on ragged batches
 * whose lengths cross the {@link LegendreConvolution#FLOAT_BLOCK} boundaries.
 */
class LmuParallelFloatTest {

    private static float[] toFloat(double[] a) {
        if (a == null) return null;
        float[] f = new float[a.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) a[i];
        return f;
    }

    private static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < d.length; i++) d[i] = a[i];
        return d;
    }

    /** Parameters rounded to float32, and the float64 copy of exactly those values. */
    private static LmuParameters rounded(LmuParameters p) {
        LmuParameters r = p.zerosLike();
        for (String name : p.names()) {
            double[] src = p.arrays().get(name), dst = r.arrays().get(name);
            for (int i = 0; i < src.length; i++) dst[i] = (float) src[i];
        }
        return r;
    }

    private static void compare(LmuConfig c, int frames, int[] lengths, long seed) {
        int batch = lengths.length;
        LmuParameters p = rounded(LmuTesting.randomParameters(c, seed));
        LegendreImpulseResponse ir = new LegendreImpulseResponse(new LegendreStateSpace(c.order(), c.theta(),
                c.discretizer()), 256);
        double[] x = toDouble(toFloat(FftTest.random(batch * frames * c.inputSize(), seed + 1)));
        double[] dh = toDouble(toFloat(FftTest.random(batch * frames * c.hiddenSize(), seed + 2)));
        LmuRecurrent.Saved ref = LmuParallel.forward(p, ir, x, batch, frames, lengths, Method.FFT);
        LmuParameters g = p.zerosLike();
        double[] dx = LmuParallel.backward(p, ir, x, batch, frames, lengths, Method.FFT, ref, dh, g);

        LmuParallelFloat.Weights w = new LmuParallelFloat.Weights(toFloat(p.ex), toFloat(p.bu), toFloat(p.wx), toFloat(p.wm),
                toFloat(p.bh));
        LmuParallelFloat.Saved s = LmuParallelFloat.forward(c, ir, w, toFloat(x), batch, frames, lengths);
        LmuParallelFloat.Grads fg = LmuParallelFloat.backward(c, ir, w, s, toFloat(dh), batch, frames, lengths, true);
        String what = c + " lengths " + java.util.Arrays.toString(lengths);
        double tol = 2e-5;
        LegendreConvolutionTest.assertClose(ref.m(), toDouble(s.m()), tol, what + " m");
        LegendreConvolutionTest.assertClose(ref.h(), toDouble(s.h()), tol, what + " h");
        LegendreConvolutionTest.assertClose(dx, toDouble(fg.dx()), tol, what + " dx");
        LegendreConvolutionTest.assertClose(g.ex, toDouble(fg.ex()), tol, what + " dex");
        LegendreConvolutionTest.assertClose(g.wm, toDouble(fg.wm()), tol, what + " dwm");
        if (g.wx != null) LegendreConvolutionTest.assertClose(g.wx, toDouble(fg.wx()), tol, what + " dwx");
        else assertNull(fg.wx());
        if (g.bu != null) LegendreConvolutionTest.assertClose(g.bu, toDouble(fg.bu()), tol, what + " dbu");
        if (g.bh != null) LegendreConvolutionTest.assertClose(g.bh, toDouble(fg.bh()), tol, what + " dbh");
    }

    @Test
    void matchesFloat64OneMemoryChannel() {
        // the seed config's shape in small: memory_d 1, no input-to-hidden, tanh, hidden bias
        compare(LmuConfig.of(6, 8, 1, 24, 40).withHidden(false, false, Activation.TANH).withBiases(false, true), 150,
                new int[] {150, 1, 0, 97, 64}, 1);
    }

    @Test
    void matchesFloat64SeveralChannelsEveryActivation() {
        for (Activation act : Activation.values()) {
            compare(LmuConfig.of(5, 7, 3, 16, 30).withHidden(true, false, act).withBiases(true, true), 130,
                    new int[] {130, 65, 2}, 3);
        }
    }

    @Test
    void paddingIsZeroAndIsolated() {
        LmuConfig c = LmuConfig.of(3, 4, 2, 3, 5).withHidden(true, false, Activation.TANH).withBiases(true, true);
        int batch = 2, frames = 7;
        int[] lengths = {3, 7};
        LmuParameters p = LmuTesting.randomParameters(c, 3);
        LegendreImpulseResponse ir = new LegendreImpulseResponse(new LegendreStateSpace(3, 5, Discretizer.ZOH), 8);
        LmuParallelFloat.Weights w = new LmuParallelFloat.Weights(toFloat(p.ex), toFloat(p.bu), toFloat(p.wx), toFloat(p.wm),
                toFloat(p.bh));
        float[] x = toFloat(FftTest.random(batch * frames * 3, 4));
        float[] dirty = x.clone();
        float[] dh = toFloat(FftTest.random(batch * frames * 4, 5));
        float[] dirtyDh = dh.clone();
        for (int t = 3; t < frames; t++) {
            for (int q = 0; q < 3; q++) dirty[t * 3 + q] = Float.NaN;
            for (int q = 0; q < 4; q++) dirtyDh[t * 4 + q] = Float.NaN;
        }
        LmuParallelFloat.Saved clean = LmuParallelFloat.forward(c, ir, w, x, batch, frames, lengths);
        LmuParallelFloat.Saved s = LmuParallelFloat.forward(c, ir, w, dirty, batch, frames, lengths);
        for (int i = 0; i < s.h().length; i++) {
            boolean padded = i < batch * frames * 4 && (i / 4) < frames && (i / 4) >= 3;
            assertEquals(padded ? 0f : clean.h()[i], s.h()[i], 0f, "h[" + i + "]");
        }
        LmuParallelFloat.Grads a = LmuParallelFloat.backward(c, ir, w, clean, dh, batch, frames, lengths, true);
        LmuParallelFloat.Grads b = LmuParallelFloat.backward(c, ir, w, s, dirtyDh, batch, frames, lengths, true);
        for (int i = 0; i < a.dx().length; i++) {
            boolean padded = (i / 3) < frames && (i / 3) >= 3;
            assertEquals(padded ? 0f : a.dx()[i], b.dx()[i], 0f, "dx[" + i + "]");
        }
        for (int i = 0; i < a.wm().length; i++) assertEquals(a.wm()[i], b.wm()[i], 0f, "dwm[" + i + "]");
    }
}
