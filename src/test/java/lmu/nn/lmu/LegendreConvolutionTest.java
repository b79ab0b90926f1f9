package lmu.nn.lmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import lmu.nn.lmu.LegendreConvolution.Method;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class LegendreConvolutionTest {

    /** Brute force: run m_t = Ā m_{t−1} + B̄ u_t per sequence and channel. */
    static double[] recurrence(LegendreStateSpace ss, double[] u, int batch, int frames, int k, int[] lengths) {
        int d = ss.order();
        double[] a = ss.aBar(), bb = ss.bBar();
        double[] m = new double[batch * frames * k * d];
        for (int b = 0; b < batch; b++) {
            for (int c = 0; c < k; c++) {
                double[] state = new double[d];
                for (int t = 0; t < lengths[b]; t++) {
                    double[] next = new double[d];
                    double ut = u[(b * frames + t) * k + c];
                    for (int i = 0; i < d; i++) {
                        double s = bb[i] * ut;
                        for (int j = 0; j < d; j++) s += a[i * d + j] * state[j];
                        next[i] = s;
                    }
                    state = next;
                    System.arraycopy(state, 0, m, (b * frames + t) * k * d + c * d, d);
                }
            }
        }
        return m;
    }

    @ParameterizedTest
    @EnumSource(Method.class)
    void equalsTheRecurrenceOnRaggedBatches(Method method) {
        int batch = 4, frames = 70, k = 3, d = 12;
        int[] lengths = {70, 1, 33, 64};
        LegendreStateSpace ss = new LegendreStateSpace(d, 25, Discretizer.ZOH);
        LegendreImpulseResponse ir = new LegendreImpulseResponse(ss, 128);
        double[] u = FftTest.random(batch * frames * k, 7);
        double[] ref = recurrence(ss, u, batch, frames, k, lengths);
        double[] m = LegendreConvolution.forward(ir, u, batch, frames, k, lengths, method);
        assertClose(ref, m, 1e-11, "m");
    }

    @Test
    void paddingNeverLeaksAndIsZero() {
        int batch = 3, frames = 40, k = 2, d = 6;
        int[] lengths = {40, 9, 17};
        LegendreImpulseResponse ir = new LegendreImpulseResponse(new LegendreStateSpace(d, 8, Discretizer.ZOH), 64);
        double[] u = FftTest.random(batch * frames * k, 3);
        double[] dirty = u.clone();
        double[] dm = FftTest.random(batch * frames * k * d, 4);
        double[] dirtyDm = dm.clone();
        for (int b = 0; b < batch; b++) {
            for (int t = lengths[b]; t < frames; t++) {
                for (int c = 0; c < k; c++) dirty[(b * frames + t) * k + c] = Double.NaN;
                for (int c = 0; c < k * d; c++) dirtyDm[(b * frames + t) * k * d + c] = Double.NaN;
            }
        }
        for (Method method : new Method[] {Method.DIRECT, Method.FFT}) {
            double[] clean = LegendreConvolution.forward(ir, u, batch, frames, k, lengths, method);
            double[] m = LegendreConvolution.forward(ir, dirty, batch, frames, k, lengths, method);
            double[] du = LegendreConvolution.backward(ir, dirtyDm, batch, frames, k, lengths, method);
            double[] duClean = LegendreConvolution.backward(ir, dm, batch, frames, k, lengths, method);
            for (int b = 0; b < batch; b++) {
                for (int t = 0; t < frames; t++) {
                    for (int c = 0; c < k * d; c++) {
                        int idx = (b * frames + t) * k * d + c;
                        if (t >= lengths[b]) assertEquals(0.0, m[idx], method + " padded m must be 0");
                        else assertEquals(clean[idx], m[idx], 0.0, method + " valid m changed by padding");
                    }
                    for (int c = 0; c < k; c++) {
                        int idx = (b * frames + t) * k + c;
                        if (t >= lengths[b]) assertEquals(0.0, du[idx], method + " padded du must be 0");
                        else assertEquals(duClean[idx], du[idx], 0.0, method + " valid du changed by padding");
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Method.class, names = {"DIRECT", "FFT"})
    void backwardMatchesFiniteDifferences(Method method) {
        // edges: order 1, θ below one frame, T = 1 and length 1 next to a longer sequence
        checkGradient(method, 1, 0.5, 1, new int[] {1});
        checkGradient(method, 1, 3, 5, new int[] {5, 1});
        checkGradient(method, 7, 2, 11, new int[] {11, 4, 1});
        checkGradient(method, 16, 1000, 19, new int[] {19, 0, 8});
    }

    private static void checkGradient(Method method, int d, double theta, int frames, int[] lengths) {
        int batch = lengths.length, k = 2;
        LegendreImpulseResponse ir = new LegendreImpulseResponse(new LegendreStateSpace(d, theta, Discretizer.ZOH), 32);
        double[] u = FftTest.random(batch * frames * k, 11);
        double[] w = FftTest.random(batch * frames * k * d, 12); // loss = Σ w ⊙ m
        double[] du = LegendreConvolution.backward(ir, w, batch, frames, k, lengths, method);
        double eps = 1e-4;
        for (int idx = 0; idx < u.length; idx++) {
            double keep = u[idx];
            u[idx] = keep + eps;
            double lp = dot(w, LegendreConvolution.forward(ir, u, batch, frames, k, lengths, method));
            u[idx] = keep - eps;
            double lm = dot(w, LegendreConvolution.forward(ir, u, batch, frames, k, lengths, method));
            u[idx] = keep;
            double fd = (lp - lm) / (2 * eps);
            assertEquals(fd, du[idx], 1e-8 * (1 + Math.abs(fd)), method + " d=" + d + " θ=" + theta + " du[" + idx + "]");
        }
    }

    @Test
    void directAndFftAgreeOnLongSequences() {
        int batch = 2, frames = 300, k = 1, d = 32;
        int[] lengths = {300, 129};
        LegendreImpulseResponse ir = new LegendreImpulseResponse(new LegendreStateSpace(d, 100, Discretizer.ZOH), 512);
        double[] u = FftTest.random(batch * frames * k, 5);
        assertClose(LegendreConvolution.forward(ir, u, batch, frames, k, lengths, Method.DIRECT),
                LegendreConvolution.forward(ir, u, batch, frames, k, lengths, Method.FFT), 1e-11, "m");
        double[] dm = FftTest.random(batch * frames * k * d, 6);
        assertClose(LegendreConvolution.backward(ir, dm, batch, frames, k, lengths, Method.DIRECT),
                LegendreConvolution.backward(ir, dm, batch, frames, k, lengths, Method.FFT), 1e-11, "du");
    }

    @Test
    void impulseResponseIsCachedPerBucketAndChecksLength() {
        LegendreImpulseResponse ir = new LegendreImpulseResponse(new LegendreStateSpace(4, 10, Discretizer.ZOH), 100);
        assertTrue(ir.bucket(33) == ir.bucket(64));
        assertEquals(64, ir.bucket(33).length);
        assertEquals(1, ir.bucket(1).length);
        assertEquals(128, ir.bucket(100).length);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ir.bucket(101));
        assertTrue(e.getMessage().contains("got 101"), e.getMessage());
        double[] h = ir.response(3); // H[t] = Ā^t B̄
        LegendreStateSpace ss = ir.system();
        double[] ab = DenseMatrix.multiply(ss.aBar(), ss.bBar(), 4, 4, 1);
        double[] aab = DenseMatrix.multiply(ss.aBar(), ab, 4, 4, 1);
        for (int i = 0; i < 4; i++) {
            assertEquals(ss.bBar()[i], h[i], 0);
            assertEquals(ab[i], h[4 + i], 1e-15);
            assertEquals(aab[i], h[8 + i], 1e-15);
        }
    }

    @Test
    void badShapesAreRejected() {
        LegendreImpulseResponse ir = new LegendreImpulseResponse(new LegendreStateSpace(4, 10, Discretizer.ZOH), 16);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LegendreConvolution.forward(ir, new double[10], 2, 3, 2, new int[] {3, 3}, Method.AUTO));
        assertTrue(e.getMessage().contains("u must have shape (B, T, K) = [2, 3, 2]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> LegendreConvolution.forward(ir, new double[12], 2, 3, 2, new int[] {3, 4}, Method.AUTO));
        assertTrue(e.getMessage().contains("lengths[1] must be in [0, 3]"), e.getMessage());
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    static void assertClose(double[] expected, double[] actual, double relTol, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        double scale = 0;
        for (double v : expected) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(expected[i] - actual[i]) <= relTol * (scale + Math.abs(expected[i])))) {
                throw new AssertionError(what + "[" + i + "]: expected " + expected[i] + ", got " + actual[i]);
            }
        }
    }
}
