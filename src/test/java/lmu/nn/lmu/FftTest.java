package lmu.nn.lmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.jtransforms.fft.DoubleFFT_1D;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The FFTs against a naive O(n²) DFT: JTransforms (used by the convolution) and the own radix-2 one. */
class FftTest {

    /** Naive DFT of a real signal: re[k], im[k] for k in [0, n). */
    static double[][] naiveDft(double[] x) {
        int n = x.length;
        double[] re = new double[n], im = new double[n];
        for (int k = 0; k < n; k++) {
            for (int j = 0; j < n; j++) {
                double a = -2 * Math.PI * ((long) j * k % n) / n;
                re[k] += x[j] * Math.cos(a);
                im[k] += x[j] * Math.sin(a);
            }
        }
        return new double[][] {re, im};
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 4, 8, 64, 1024})
    void jtransformsPackedRealForwardMatchesNaiveDft(int n) {
        double[] x = random(n, n);
        double[][] ref = naiveDft(x);
        double[] p = x.clone();
        FftPlans.get(n).realForward(p);
        double tol = 1e-12 * n;
        assertEquals(ref[0][0], p[0], tol);
        assertEquals(ref[0][n / 2], p[1], tol);
        for (int k = 1; k < n / 2; k++) {
            assertEquals(ref[0][k], p[2 * k], tol, "re " + k);
            assertEquals(ref[1][k], p[2 * k + 1], tol, "im " + k);
        }
        FftPlans.get(n).realInverse(p, true);
        for (int j = 0; j < n; j++) assertEquals(x[j], p[j], 1e-13 * n);
    }

    @ParameterizedTest
    @ValueSource(ints = {8, 512})
    void packedProductIsTheSpectrumOfTheCircularConvolution(int n) {
        double[] x = random(n, 1), y = random(n, 2);
        double[] circ = new double[n];
        for (int t = 0; t < n; t++) for (int s = 0; s < n; s++) circ[t] += x[s] * y[(t - s + n) % n];
        DoubleFFT_1D f = FftPlans.get(n);
        double[] xf = x.clone(), yf = y.clone(), out = new double[n];
        f.realForward(xf);
        f.realForward(yf);
        LegendreConvolution.multiplyPacked(xf, yf, out, n, false);
        f.realInverse(out, true);
        for (int t = 0; t < n; t++) assertEquals(circ[t], out[t], 1e-11 * n);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 16, 256})
    void ownRadix2MatchesNaiveDftAndSplitsRealPairs(int n) {
        double[] p = random(n, 3), q = random(n, 4);
        double[] z = new double[2 * n];
        for (int j = 0; j < n; j++) {
            z[2 * j] = p[j];
            z[2 * j + 1] = q[j];
        }
        Fft fft = Fft.of(n);
        double[] orig = z.clone();
        fft.forward(z);
        double[] ps = new double[2 * n], qs = new double[2 * n];
        fft.splitRealPair(z, ps, qs);
        double[][] pr = naiveDft(p), qr = naiveDft(q);
        for (int k = 0; k < n; k++) {
            assertEquals(pr[0][k], ps[2 * k], 1e-12 * n);
            assertEquals(pr[1][k], ps[2 * k + 1], 1e-12 * n);
            assertEquals(qr[0][k], qs[2 * k], 1e-12 * n);
            assertEquals(qr[1][k], qs[2 * k + 1], 1e-12 * n);
        }
        fft.inverse(z);
        for (int j = 0; j < 2 * n; j++) assertEquals(orig[j], z[j], 1e-13 * n);
        assertThrows(IllegalArgumentException.class, () -> Fft.of(12));
    }

    static double[] random(int n, long seed) {
        Random r = new Random(seed);
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = r.nextGaussian();
        return x;
    }
}
