package lmu.speech.features;

/**
 * Forward DFT of a real sequence of even length N, in float64: a complex FFT of length N / 2 on
 * the even/odd samples packed as real/imaginary parts, then the split that separates the two
 * half-length spectra. The complex FFT is mixed radix (radix 4, 2, 3, 5 and a generic radix for
 * other prime factors), decimation in time with a precomputed digit-reversal permutation and
 * per-stage twiddle tables, so N = 400 (N / 2 = 200 = 4 * 2 * 5 * 5) needs no padding.
 * Not thread-safe (work buffers); one instance per thread.
 */
public final class RealFft {
    private final int n, h; // h = n / 2, the complex length
    private final int[] perm; // input position of complex sample i
    private final int[] radix, span; // per stage: radix r and span m of the sub-DFTs it combines
    private final double[][] twRe, twIm; // per stage: (m, r) twiddles exp(-2 pi i j q / (m r))
    private final double[] splitRe, splitIm; // exp(-2 pi i k / n), k in [0, h]
    private final double[] re, im; // work buffers, length h
    private final double[] genRe, genIm; // scratch for the generic radix

    /**
     * @param n transform length, even and >= 2
     */
    public RealFft(int n) {
        if (n < 2 || n % 2 != 0) throw new IllegalArgumentException("RealFft: n must be even and >= 2, got " + n);
        this.n = n;
        h = n / 2;
        int[] f = factor(h);
        radix = f;
        span = new int[f.length];
        twRe = new double[f.length][];
        twIm = new double[f.length][];
        int m = 1, maxR = 1;
        for (int s = 0; s < f.length; s++) {
            int r = f[s];
            maxR = Math.max(maxR, r);
            span[s] = m;
            twRe[s] = new double[m * r];
            twIm[s] = new double[m * r];
            for (int j = 0; j < m; j++) {
                for (int q = 0; q < r; q++) {
                    double a = -2 * Math.PI * j * q / (m * r);
                    twRe[s][j * r + q] = Math.cos(a);
                    twIm[s][j * r + q] = Math.sin(a);
                }
            }
            m *= r;
        }
        perm = new int[h];
        for (int i = 0; i < h; i++) {
            int pos = 0, mult = h, rest = i;
            for (int s = f.length - 1; s >= 0; s--) {
                mult /= f[s];
                pos += (rest % f[s]) * mult;
                rest /= f[s];
            }
            perm[pos] = i;
        }
        splitRe = new double[h + 1];
        splitIm = new double[h + 1];
        for (int k = 0; k <= h; k++) {
            splitRe[k] = Math.cos(-2 * Math.PI * k / n);
            splitIm[k] = Math.sin(-2 * Math.PI * k / n);
        }
        re = new double[h];
        im = new double[h];
        genRe = new double[maxR];
        genIm = new double[maxR];
    }

    /** Radix-4 first where possible, then 2, 3, 5, then other primes. */
    private static int[] factor(int h) {
        java.util.List<Integer> f = new java.util.ArrayList<>();
        int rest = h;
        while (rest % 4 == 0) { f.add(4); rest /= 4; }
        while (rest % 2 == 0) { f.add(2); rest /= 2; }
        for (int p = 3; rest > 1; p += 2) {
            while (rest % p == 0) { f.add(p); rest /= p; }
            if ((long) p * p > rest && rest > 1) { f.add(rest); rest = 1; }
        }
        return f.stream().mapToInt(Integer::intValue).toArray();
    }

    public int length() {
        return n;
    }

    /**
     * One-sided power spectrum {@code |X[k]|^2} of a real frame.
     *
     * @param x input, shape (N,)
     * @param power receives the power, shape (N / 2 + 1,)
     */
    public void power(double[] x, double[] power) {
        transform(x);
        // X[k] = (Z[k] + conj Z[h-k]) / 2 - i e^{-2 pi i k / n} (Z[k] - conj Z[h-k]) / 2
        for (int k = 0; k <= h / 2; k++) {
            int k2 = (h - k) % h;
            power[k] = splitPower(k, k2);
            if (k != 0 && k != h - k) power[h - k] = splitPower(h - k, k);
        }
        double dc = re[0] + im[0], nyq = re[0] - im[0];
        power[0] = dc * dc;
        power[h] = nyq * nyq;
    }

    /**
     * Full one-sided spectrum.
     *
     * @param x input, shape (N,)
     * @param outRe real parts, shape (N / 2 + 1,)
     * @param outIm imaginary parts, shape (N / 2 + 1,)
     */
    public void forward(double[] x, double[] outRe, double[] outIm) {
        transform(x);
        for (int k = 0; k <= h; k++) {
            int a = k % h, b = (h - k) % h;
            double er = 0.5 * (re[a] + re[b]), ei = 0.5 * (im[a] - im[b]); // (Z[k] + conj Z[h-k]) / 2
            double or = 0.5 * (im[a] + im[b]), oi = -0.5 * (re[a] - re[b]); // (Z[k] - conj Z[h-k]) / (2i)
            outRe[k] = er + splitRe[k] * or - splitIm[k] * oi;
            outIm[k] = ei + splitRe[k] * oi + splitIm[k] * or;
        }
    }

    private double splitPower(int k, int k2) {
        int a = k % h;
        double er = 0.5 * (re[a] + re[k2]), ei = 0.5 * (im[a] - im[k2]);
        double or = 0.5 * (im[a] + im[k2]), oi = -0.5 * (re[a] - re[k2]);
        double xr = er + splitRe[k] * or - splitIm[k] * oi;
        double xi = ei + splitRe[k] * oi + splitIm[k] * or;
        return xr * xr + xi * xi;
    }

    /** Complex FFT of z[i] = x[2i] + i x[2i+1] into (re, im). */
    private void transform(double[] x) {
        if (x.length != n) throw new IllegalArgumentException("RealFft: input must have shape (" + n + ",), got (" + x.length + ",)");
        for (int p = 0; p < h; p++) {
            int i = perm[p];
            re[p] = x[2 * i];
            im[p] = x[2 * i + 1];
        }
        for (int s = 0; s < radix.length; s++) {
            int r = radix[s], m = span[s], len = m * r;
            double[] tr = twRe[s], ti = twIm[s];
            switch (r) {
                case 4 -> radix4(m, len, tr, ti);
                case 2 -> radix2(m, len, tr, ti);
                case 5 -> radix5(m, len, tr, ti);
                case 3 -> radix3(m, len, tr, ti);
                default -> radixGeneric(r, m, len, tr, ti);
            }
        }
    }

    private void radix2(int m, int len, double[] tr, double[] ti) {
        for (int b = 0; b < h; b += len) {
            for (int j = 0; j < m; j++) {
                int p0 = b + j, p1 = p0 + m;
                double wr = tr[j * 2 + 1], wi = ti[j * 2 + 1];
                double br = re[p1] * wr - im[p1] * wi, bi = re[p1] * wi + im[p1] * wr;
                double ar = re[p0], ai = im[p0];
                re[p0] = ar + br; im[p0] = ai + bi;
                re[p1] = ar - br; im[p1] = ai - bi;
            }
        }
    }

    private void radix4(int m, int len, double[] tr, double[] ti) {
        if (m == 1) {
            radix4First();
            return;
        }
        for (int b = 0; b < h; b += len) {
            for (int j = 0; j < m; j++) {
                int p0 = b + j, p1 = p0 + m, p2 = p1 + m, p3 = p2 + m;
                int t = j * 4;
                double ar = re[p0], ai = im[p0];
                double br = re[p1] * tr[t + 1] - im[p1] * ti[t + 1], bi = re[p1] * ti[t + 1] + im[p1] * tr[t + 1];
                double cr = re[p2] * tr[t + 2] - im[p2] * ti[t + 2], ci = re[p2] * ti[t + 2] + im[p2] * tr[t + 2];
                double dr = re[p3] * tr[t + 3] - im[p3] * ti[t + 3], di = re[p3] * ti[t + 3] + im[p3] * tr[t + 3];
                double s0r = ar + cr, s0i = ai + ci, s1r = ar - cr, s1i = ai - ci;
                double s2r = br + dr, s2i = bi + di, s3r = br - dr, s3i = bi - di;
                re[p0] = s0r + s2r; im[p0] = s0i + s2i;
                re[p2] = s0r - s2r; im[p2] = s0i - s2i;
                // -i * (b - d) for k = 1, +i * (b - d) for k = 3
                re[p1] = s1r + s3i; im[p1] = s1i - s3r;
                re[p3] = s1r - s3i; im[p3] = s1i + s3r;
            }
        }
    }

    /** Radix 4 with all twiddles 1 (the first stage). */
    private void radix4First() {
        for (int p0 = 0; p0 < h; p0 += 4) {
            int p1 = p0 + 1, p2 = p0 + 2, p3 = p0 + 3;
            double s0r = re[p0] + re[p2], s0i = im[p0] + im[p2], s1r = re[p0] - re[p2], s1i = im[p0] - im[p2];
            double s2r = re[p1] + re[p3], s2i = im[p1] + im[p3], s3r = re[p1] - re[p3], s3i = im[p1] - im[p3];
            re[p0] = s0r + s2r; im[p0] = s0i + s2i;
            re[p2] = s0r - s2r; im[p2] = s0i - s2i;
            re[p1] = s1r + s3i; im[p1] = s1i - s3r;
            re[p3] = s1r - s3i; im[p3] = s1i + s3r;
        }
    }

    private static final double C3 = -0.5, S3 = -Math.sqrt(3) / 2;

    private void radix3(int m, int len, double[] tr, double[] ti) {
        for (int b = 0; b < h; b += len) {
            for (int j = 0; j < m; j++) {
                int p0 = b + j, p1 = p0 + m, p2 = p1 + m, t = j * 3;
                double ar = re[p0], ai = im[p0];
                double br = re[p1] * tr[t + 1] - im[p1] * ti[t + 1], bi = re[p1] * ti[t + 1] + im[p1] * tr[t + 1];
                double cr = re[p2] * tr[t + 2] - im[p2] * ti[t + 2], ci = re[p2] * ti[t + 2] + im[p2] * tr[t + 2];
                double sr = br + cr, si = bi + ci, dr = br - cr, di = bi - ci;
                double mr = ar + C3 * sr, mi = ai + C3 * si;
                re[p0] = ar + sr; im[p0] = ai + si;
                re[p1] = mr - S3 * di; im[p1] = mi + S3 * dr;
                re[p2] = mr + S3 * di; im[p2] = mi - S3 * dr;
            }
        }
    }

    private static final double C51 = Math.cos(2 * Math.PI / 5), C52 = Math.cos(4 * Math.PI / 5);
    private static final double S51 = -Math.sin(2 * Math.PI / 5), S52 = -Math.sin(4 * Math.PI / 5);

    private void radix5(int m, int len, double[] tr, double[] ti) {
        for (int b = 0; b < h; b += len) {
            for (int j = 0; j < m; j++) {
                int p0 = b + j, p1 = p0 + m, p2 = p1 + m, p3 = p2 + m, p4 = p3 + m, t = j * 5;
                double ar = re[p0], ai = im[p0];
                double br = re[p1] * tr[t + 1] - im[p1] * ti[t + 1], bi = re[p1] * ti[t + 1] + im[p1] * tr[t + 1];
                double cr = re[p2] * tr[t + 2] - im[p2] * ti[t + 2], ci = re[p2] * ti[t + 2] + im[p2] * tr[t + 2];
                double dr = re[p3] * tr[t + 3] - im[p3] * ti[t + 3], di = re[p3] * ti[t + 3] + im[p3] * tr[t + 3];
                double er = re[p4] * tr[t + 4] - im[p4] * ti[t + 4], ei = re[p4] * ti[t + 4] + im[p4] * tr[t + 4];
                double s1r = br + er, s1i = bi + ei, d1r = br - er, d1i = bi - ei;
                double s2r = cr + dr, s2i = ci + di, d2r = cr - dr, d2i = ci - di;
                double m1r = ar + C51 * s1r + C52 * s2r, m1i = ai + C51 * s1i + C52 * s2i;
                double m2r = ar + C52 * s1r + C51 * s2r, m2i = ai + C52 * s1i + C51 * s2i;
                // i * (S51 * d1 + S52 * d2) and i * (S52 * d1 - S51 * d2)
                double n1r = -(S51 * d1i + S52 * d2i), n1i = S51 * d1r + S52 * d2r;
                double n2r = -(S52 * d1i - S51 * d2i), n2i = S52 * d1r - S51 * d2r;
                re[p0] = ar + s1r + s2r; im[p0] = ai + s1i + s2i;
                re[p1] = m1r + n1r; im[p1] = m1i + n1i;
                re[p4] = m1r - n1r; im[p4] = m1i - n1i;
                re[p2] = m2r + n2r; im[p2] = m2i + n2i;
                re[p3] = m2r - n2r; im[p3] = m2i - n2i;
            }
        }
    }

    private void radixGeneric(int r, int m, int len, double[] tr, double[] ti) {
        for (int b = 0; b < h; b += len) {
            for (int j = 0; j < m; j++) {
                for (int q = 0; q < r; q++) {
                    int p = b + j + q * m, t = j * r + q;
                    genRe[q] = re[p] * tr[t] - im[p] * ti[t];
                    genIm[q] = re[p] * ti[t] + im[p] * tr[t];
                }
                for (int k = 0; k < r; k++) {
                    double sr = 0, si = 0;
                    for (int q = 0; q < r; q++) {
                        double a = -2 * Math.PI * ((long) q * k % r) / r;
                        double c = Math.cos(a), s = Math.sin(a);
                        sr += genRe[q] * c - genIm[q] * s;
                        si += genRe[q] * s + genIm[q] * c;
                    }
                    re[b + j + k * m] = sr;
                    im[b + j + k * m] = si;
                }
            }
        }
    }
}
