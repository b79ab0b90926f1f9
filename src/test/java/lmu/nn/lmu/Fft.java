package lmu.nn.lmu;

import java.util.concurrent.ConcurrentHashMap;
import lmu.util.Checks;

/**
 * Hand-written complex fast Fourier transform of power-of-two length in float64, kept as the
 * measured alternative to JTransforms (which the convolution uses, see {@code FftPlans}) (iterative radix-2,
 * decimation in time, precomputed twiddles and bit-reversal table), plus the two-for-one trick
 * that transforms two real signals with one complex transform.
 *
 * <p>Data are interleaved: element k of a length-n signal is {@code (x[2k], x[2k+1])} = (re, im).
 * Forward is X[k] = Σ_j x[j]·e^{−2πi jk/n}; inverse uses e^{+2πi jk/n} and divides by n. Plans
 * are immutable and shared; {@link #of(int)} caches one per length, so any number of threads may
 * transform concurrently.
 */
public final class Fft {
    private static final ConcurrentHashMap<Integer, Fft> PLANS = new ConcurrentHashMap<>();

    private final int n;
    private final int[] reverse;
    private final double[] cos;
    private final double[] sin;

    private Fft(int n) {
        this.n = n;
        int bits = Integer.numberOfTrailingZeros(n);
        reverse = new int[n];
        for (int i = 0; i < n; i++) reverse[i] = bits == 0 ? 0 : Integer.reverse(i) >>> (32 - bits);
        cos = new double[Math.max(1, n / 2)];
        sin = new double[Math.max(1, n / 2)];
        for (int k = 0; k < n / 2; k++) {
            double angle = 2 * Math.PI * k / n;
            cos[k] = Math.cos(angle);
            sin[k] = Math.sin(angle);
        }
    }

    /**
     * The plan for length n.
     *
     * @throws IllegalArgumentException if n is not a positive power of two
     */
    public static Fft of(int n) {
        Checks.positive("Fft n", n);
        if (Integer.bitCount(n) != 1) throw new IllegalArgumentException("Fft n : " + n + " (expected: a power of two)");
        return PLANS.computeIfAbsent(n, Fft::new);
    }

    public int size() {
        return n;
    }

    /** In-place forward transform of x, interleaved complex, length 2n. */
    public void forward(double[] x) {
        transform(x, -1);
    }

    /** In-place inverse transform of x (scaled by 1/n), interleaved complex, length 2n. */
    public void inverse(double[] x) {
        transform(x, 1);
        double s = 1.0 / n;
        for (int i = 0; i < 2 * n; i++) x[i] *= s;
    }

    private void transform(double[] x, int sign) {
        if (x.length < 2 * n) {
            throw new IllegalArgumentException("Fft: x must hold 2n = " + 2 * n + " doubles, got " + x.length);
        }
        for (int i = 0; i < n; i++) {
            int j = reverse[i];
            if (j > i) {
                double tr = x[2 * i], ti = x[2 * i + 1];
                x[2 * i] = x[2 * j];
                x[2 * i + 1] = x[2 * j + 1];
                x[2 * j] = tr;
                x[2 * j + 1] = ti;
            }
        }
        // length-2 butterflies need no twiddles
        for (int a = 0; n >= 2 && a < 2 * n; a += 4) {
            double r0 = x[a], i0 = x[a + 1], r1 = x[a + 2], i1 = x[a + 3];
            x[a] = r0 + r1;
            x[a + 1] = i0 + i1;
            x[a + 2] = r0 - r1;
            x[a + 3] = i0 - i1;
        }
        for (int len = 4; len <= n; len <<= 1) {
            int half = len >> 1;
            int step = n / len;
            for (int j = 0; j < half; j++) {
                double wr = cos[j * step];
                double wi = sign * sin[j * step];
                for (int start = 0; start < n; start += len) {
                    int a = 2 * (start + j);
                    int b = a + 2 * half;
                    double br = x[b], bi = x[b + 1];
                    double tr = br * wr - bi * wi;
                    double ti = br * wi + bi * wr;
                    double ar = x[a], ai = x[a + 1];
                    x[b] = ar - tr;
                    x[b + 1] = ai - ti;
                    x[a] = ar + tr;
                    x[a + 1] = ai + ti;
                }
            }
        }
    }

    /**
     * Splits the forward transform z of the complex signal p + i·q (p, q real) into the spectra
     * of p and q: P[k] = (Z[k] + conj Z[n−k]) / 2, Q[k] = (Z[k] − conj Z[n−k]) / (2i).
     *
     * @param z spectrum of p + i·q, interleaved, length 2n
     * @param p receives P, interleaved, length 2n
     * @param q receives Q, interleaved, length 2n
     */
    public void splitRealPair(double[] z, double[] p, double[] q) {
        for (int k = 0; k < n; k++) {
            int m = (n - k) & (n - 1);
            double zr = z[2 * k], zi = z[2 * k + 1];
            double cr = z[2 * m], ci = -z[2 * m + 1];
            p[2 * k] = 0.5 * (zr + cr);
            p[2 * k + 1] = 0.5 * (zi + ci);
            // (z − c) / (2i) = −i(z − c)/2
            q[2 * k] = 0.5 * (zi - ci);
            q[2 * k + 1] = -0.5 * (zr - cr);
        }
    }
}
