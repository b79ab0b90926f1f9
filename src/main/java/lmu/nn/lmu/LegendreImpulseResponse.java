package lmu.nn.lmu;

import java.util.concurrent.ConcurrentHashMap;
import lmu.util.Checks;
import org.jtransforms.fft.DoubleFFT_1D;

/**
 * Impulse response H[t] = Ā^t B̄ (t = 0, 1, …) of a discretised Legendre system, shape (T, d),
 * with its spectra for FFT convolution, computed once per length bucket and cached.
 *
 * <p>A bucket is the next power of two L ≥ T (at least 1); it holds H for t &lt; L, row-major
 * (element (t, i) at {@code t * d + i}), and the real FFT of each column H[·, i] zero-padded to
 * N = 2L (JTransforms packed layout, see {@link Bucket#spectra}), which is long enough for a
 * linear (not circular) convolution of any signal of length ≤ L with H. Buckets are immutable and
 * the cache is a {@link ConcurrentHashMap}, so the object is safe to share between threads.
 */
public final class LegendreImpulseResponse {
    private final LegendreStateSpace system;
    private final int maxLength;
    private final ConcurrentHashMap<Integer, Bucket> buckets = new ConcurrentHashMap<>();

    /** Cached response for lengths up to {@link #length}. */
    public static final class Bucket {
        /** L, a power of two. */
        public final int length;
        /** H, shape (L, d), row-major. */
        final double[] h;
        /**
         * spectra[i] = real FFT of H[·, i] zero-padded to N = 2L, JTransforms packed layout:
         * [Re X0, Re X(N/2), Re X1, Im X1, …, Re X(N/2−1), Im X(N/2−1)].
         */
        final double[][] spectra;
        /** H rounded to float32, same layout as {@link #h}; made on first use. */
        private volatile float[] hFloat;

        Bucket(int length, double[] h, double[][] spectra) {
            this.length = length;
            this.h = h;
            this.spectra = spectra;
        }
    }

    /**
     * @param system the discretised system
     * @param maxLength longest sequence that will be asked for, in frames
     * @throws IllegalArgumentException if maxLength is not positive
     */
    public LegendreImpulseResponse(LegendreStateSpace system, int maxLength) {
        if (system == null) throw new IllegalArgumentException("LegendreImpulseResponse system : null");
        this.system = system;
        this.maxLength = Checks.positive("LegendreImpulseResponse maxLength", maxLength);
    }

    public LegendreStateSpace system() {
        return system;
    }

    public int order() {
        return system.order();
    }

    public int maxLength() {
        return maxLength;
    }

    /** Smallest bucket length (a power of two) that holds t frames. */
    static int bucketLength(int t) {
        return t <= 1 ? 1 : Integer.highestOneBit(t - 1) << 1;
    }

    /**
     * The bucket for sequences of up to t frames.
     *
     * @throws IllegalArgumentException if t is not in [1, maxLength]
     */
    public Bucket bucket(int t) {
        if (t < 1 || t > maxLength) {
            throw new IllegalArgumentException(
                    "LegendreImpulseResponse: length must be in [1, " + maxLength + "] (maxLength), got " + t);
        }
        return buckets.computeIfAbsent(bucketLength(t), this::build);
    }

    /**
     * H for the first t frames as a fresh array.
     *
     * @return shape (t, d), row-major
     */
    public double[] response(int t) {
        Bucket b = bucket(t);
        double[] out = new double[t * order()];
        System.arraycopy(b.h, 0, out, 0, out.length);
        return out;
    }

    /**
     * H rounded to float32 for at least the first t frames (the whole bucket, shape (L, d) with
     * L ≥ t, row-major), cached: callers must not modify it.
     *
     * @throws IllegalArgumentException if t is not in [1, maxLength]
     */
    public float[] responseFloat(int t) {
        Bucket b = bucket(t);
        float[] f = b.hFloat;
        if (f == null) {
            f = new float[b.h.length];
            for (int i = 0; i < f.length; i++) f[i] = (float) b.h[i];
            b.hFloat = f;
        }
        return f;
    }

    private Bucket build(int length) {
        int d = order();
        double[] aBar = system.aBarShared();
        double[] h = new double[length * d];
        System.arraycopy(system.bBarShared(), 0, h, 0, d);
        for (int t = 1; t < length; t++) {
            int prev = (t - 1) * d, cur = t * d;
            for (int i = 0; i < d; i++) {
                double s = 0;
                int row = i * d;
                for (int j = 0; j < d; j++) s += aBar[row + j] * h[prev + j];
                h[cur + i] = s;
            }
        }
        int n = 2 * length;
        DoubleFFT_1D fft = FftPlans.get(n);
        double[][] spectra = new double[d][];
        for (int i = 0; i < d; i++) {
            double[] col = new double[n];
            for (int t = 0; t < length; t++) col[t] = h[t * d + i];
            fft.realForward(col);
            spectra[i] = col;
        }
        return new Bucket(length, h, spectra);
    }
}
