package lmu.speech.features;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RealFftTest {
    /** Against the O(N^2) DFT in float64, for lengths covering every radix path. */
    @ParameterizedTest
    @ValueSource(ints = {2, 4, 6, 10, 16, 18, 30, 50, 154, 400, 512, 462})
    void matchesDirectDft(int n) {
        Random r = new Random(n);
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = r.nextGaussian();
        RealFft fft = new RealFft(n);
        double[] re = new double[n / 2 + 1], im = new double[n / 2 + 1], p = new double[n / 2 + 1];
        fft.forward(x.clone(), re, im);
        fft.power(x.clone(), p);
        for (int k = 0; k <= n / 2; k++) {
            double sr = 0, si = 0;
            for (int t = 0; t < n; t++) {
                double a = -2 * Math.PI * ((long) k * t % n) / n;
                sr += x[t] * Math.cos(a);
                si += x[t] * Math.sin(a);
            }
            double tol = 1e-10 * Math.sqrt(n);
            assertEquals(sr, re[k], tol, "n " + n + " re " + k);
            assertEquals(si, im[k], tol, "n " + n + " im " + k);
            assertEquals(sr * sr + si * si, p[k], tol * (1 + Math.abs(sr) + Math.abs(si)), "n " + n + " power " + k);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 3, -2})
    void rejectsOddOrTinyLengths(int n) {
        assertThrows(IllegalArgumentException.class, () -> new RealFft(n));
    }
}
