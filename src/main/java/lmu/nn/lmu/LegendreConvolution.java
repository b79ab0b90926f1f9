package lmu.nn.lmu;

import java.util.Arrays;
import lmu.backend.cpu.Gemm;
import lmu.util.Checks;
import lmu.util.Parallel;
import org.jtransforms.fft.DoubleFFT_1D;

/**
 * Causal convolution of the parallel LMU: the memory of every input channel k,
 * m[b, t, k, ·] = Σ_{s ≤ t} H[t − s] · u[b, s, k], computed at once for all frames from the impulse
 * response H (see {@link LegendreImpulseResponse}); H is fixed, so only u gets a gradient.
 *
 * <p>Layouts (row-major float64): u (B, T, K) with K = memory_d, element (b, t, k) at {@code (b*T
 * + t)*K + k}; m (B, T, K·d) with channel index {@code k*d + i} (memory channel k, Legendre
 * coefficient i), element at {@code (b*T + t)*K*d + k*d + i}. Sequences are padded: frames
 * t ≥ lengths[b] of u are ignored (never read), the same frames of m are zero, and in backward the
 * gradient at those frames of m is ignored and du there is zero.
 *
 * <p>Two methods: {@link Method#DIRECT}, O(T²·d) per (b, k) with contiguous inner loops, and
 * {@link Method#FFT}, O(d·N log N) with N = 2·bucket(T) (one forward real FFT of u and d inverse
 * ones; backward sums the d spectra of the output gradient times conj(Ĥ) and needs a single
 * inverse). {@link Method#AUTO} takes DIRECT for sequences of at most {@link #DIRECT_MAX_LENGTH}
 * frames and FFT above, each sequence on its own. Work is spread over B·K tasks on the common
 * fork-join pool.
 *
 * <p>A float32 form ({@link #forwardFloat}, {@link #backwardFloat}) computes the same sums as
 * matrix products against H rounded to float32, per sequence b and block of {@link #FLOAT_BLOCK}
 * frames [t0, t1): a lower-triangular Toeplitz panel U (rows (t, k), columns j &lt; t1,
 * U[(t, k), j] = u[b, t − j, k]) times the first t1 rows of H, so only about half of the T×T lags
 * are multiplied; backward forms G = dm·Hᵀ for the same blocks and sums its diagonals,
 * du[b, t − j, k] += G[(t, k), j]. It agrees with the float64 methods to float32 rounding.
 */
public final class LegendreConvolution {
    /** How the convolution is computed. */
    public enum Method {
        /** DIRECT up to {@link #DIRECT_MAX_LENGTH} frames, FFT above, chosen per sequence. */
        AUTO,
        /** Sum over s ≤ t, O(T²·d). */
        DIRECT,
        /** Zero-padded real FFT of length 2·bucket(T), O(d·T log T). */
        FFT
    }

    /**
     * Longest sequence for which AUTO picks the direct method. Measured with {@code LmuBenchmark
     * conv} (order 192, memory_d 1, batch 8, forward + backward, process CPU time on a shared
     * 2-core machine): direct/FFT cost ratio 0.35 at 16 frames, about 0.9 at 24–48, 2.8 at 64, 3.3
     * at 128, 3.7 at 200, 4.0 at 400, 14 at 800, 16 at 1600 (a second run: 1.0 at 48, 2.2 at 64;
     * bench/results/lmu-cpu-20261125.txt). The crossover lies between 48 and 64.
     */
    public static final int DIRECT_MAX_LENGTH = 48;

    /** Frames per block of the float32 form's triangular products. */
    static final int FLOAT_BLOCK = 64;

    private LegendreConvolution() {}

    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[1][0]);

    private static float[] scratch(int n) {
        float[][] s = SCRATCH.get();
        if (s[0].length < n) s[0] = new float[n];
        return s[0];
    }

    /**
     * Forward convolution.
     *
     * @param ir impulse response (order d, maximum length)
     * @param u input, shape (B, T, K)
     * @param batch B
     * @param frames T
     * @param channels K = memory_d
     * @param lengths valid frames per sequence, shape (B), each in [0, min(T, ir.maxLength())]
     * @param method DIRECT, FFT or AUTO
     * @return m, shape (B, T, K·d), channel k*d + i, zero at padded frames
     * @throws IllegalArgumentException on a size or length mismatch
     */
    public static double[] forward(LegendreImpulseResponse ir, double[] u, int batch, int frames, int channels,
            int[] lengths, Method method) {
        check(ir, u == null ? -1 : u.length, "u", batch, frames, channels, 1, lengths);
        int d = ir.order();
        int width = channels * d;
        double[] m = new double[batch * frames * width];
        Parallel.forRange(batch * channels, job -> {
            int b = job / channels, k = job % channels, len = lengths[b];
            if (len == 0) return;
            LegendreImpulseResponse.Bucket bucket = ir.bucket(len);
            if (resolve(method, len) == Method.DIRECT) {
                forwardDirect(bucket.h, u, m, b, k, len, frames, channels, d);
            } else {
                forwardFft(bucket, u, m, b, k, len, frames, channels, d);
            }
        });
        return m;
    }

    /**
     * Backward of {@link #forward}: du[b, s, k] = Σ_{s ≤ t < len} Σ_i H[t − s, i] · dm[b, t, k*d + i].
     *
     * @param ir impulse response used in forward
     * @param dm gradient of the loss with respect to m, shape (B, T, K·d); padded frames ignored
     * @param lengths valid frames per sequence, shape (B)
     * @return du, shape (B, T, K), zero at padded frames (a fresh array: assign, don't accumulate)
     * @throws IllegalArgumentException on a size or length mismatch
     */
    public static double[] backward(LegendreImpulseResponse ir, double[] dm, int batch, int frames, int channels,
            int[] lengths, Method method) {
        int d = ir.order();
        check(ir, dm == null ? -1 : dm.length, "dm", batch, frames, channels, d, lengths);
        double[] du = new double[batch * frames * channels];
        Parallel.forRange(batch * channels, job -> {
            int b = job / channels, k = job % channels, len = lengths[b];
            if (len == 0) return;
            LegendreImpulseResponse.Bucket bucket = ir.bucket(len);
            if (resolve(method, len) == Method.DIRECT) {
                backwardDirect(bucket.h, dm, du, b, k, len, frames, channels, d);
            } else {
                backwardFft(bucket, dm, du, b, k, len, frames, channels, d);
            }
        });
        return du;
    }

    /**
     * {@link #forward} in float32 (block Toeplitz products, see the class comment).
     *
     * @param u input, shape (B, T, K)
     * @param lengths valid frames per sequence, shape (B), each in [0, min(T, ir.maxLength())]
     * @return m, shape (B, T, K·d), zero at padded frames
     * @throws IllegalArgumentException on a size or length mismatch
     */
    public static float[] forwardFloat(LegendreImpulseResponse ir, float[] u, int batch, int frames, int channels,
            int[] lengths) {
        check(ir, u == null ? -1 : u.length, "u", batch, frames, channels, 1, lengths);
        int k = channels, d = ir.order(), w = k * d;
        float[] m = new float[batch * frames * w];
        int maxLen = maxLength(lengths);
        if (maxLen == 0) return m;
        float[] hf = ir.responseFloat(maxLen);
        int blocks = (maxLen + FLOAT_BLOCK - 1) / FLOAT_BLOCK;
        Parallel.forRange(batch * blocks, 1, (from, to) -> {
            for (int job = from; job < to; job++) {
                int b = job / blocks, t0 = (job % blocks) * FLOAT_BLOCK, t1 = Math.min(t0 + FLOAT_BLOCK, lengths[b]);
                if (t0 >= t1) continue;
                int panelRows = (t1 - t0) * k;
                float[] toe = scratch(panelRows * t1);
                for (int t = t0; t < t1; t++) {
                    for (int ch = 0; ch < k; ch++) {
                        int row = ((t - t0) * k + ch) * t1;
                        int src = (b * frames + t) * k + ch;
                        for (int j = 0; j <= t; j++) toe[row + j] = u[src - j * k];
                        Arrays.fill(toe, row + t + 1, row + t1, 0f);
                    }
                }
                Gemm.sgemm(false, false, panelRows, d, t1, 1f, toe, 0, t1, hf, 0, d, 0f, m, (b * frames + t0) * w, d);
            }
        });
        return m;
    }

    /**
     * {@link #backward} in float32 (block products G = dm·Hᵀ summed along their diagonals).
     *
     * @param dm gradient with respect to m, shape (B, T, K·d); padded frames ignored
     * @return du, shape (B, T, K), zero at padded frames (a fresh array)
     * @throws IllegalArgumentException on a size or length mismatch
     */
    public static float[] backwardFloat(LegendreImpulseResponse ir, float[] dm, int batch, int frames, int channels,
            int[] lengths) {
        int k = channels, d = ir == null ? 1 : ir.order(), w = k * d;
        check(ir, dm == null ? -1 : dm.length, "dm", batch, frames, channels, d, lengths);
        float[] du = new float[batch * frames * k];
        int maxLen = maxLength(lengths);
        if (maxLen == 0) return du;
        float[] hf = ir.responseFloat(maxLen);
        // one task per sequence: its blocks all add into the same du rows
        Parallel.forRange(batch, 1, (from, to) -> {
            for (int b = from; b < to; b++) {
                for (int t0 = 0; t0 < lengths[b]; t0 += FLOAT_BLOCK) {
                    int t1 = Math.min(t0 + FLOAT_BLOCK, lengths[b]);
                    int panelRows = (t1 - t0) * k;
                    float[] g = scratch(panelRows * t1);
                    Gemm.sgemm(false, true, panelRows, t1, d, 1f, dm, (b * frames + t0) * w, d, hf, 0, d, 0f, g, 0, t1);
                    for (int t = t0; t < t1; t++) {
                        for (int ch = 0; ch < k; ch++) {
                            int row = ((t - t0) * k + ch) * t1;
                            int dst = (b * frames + t) * k + ch;
                            for (int j = 0; j <= t; j++) du[dst - j * k] += g[row + j];
                        }
                    }
                }
            }
        });
        return du;
    }

    private static int maxLength(int[] lengths) {
        int max = 0;
        for (int len : lengths) max = Math.max(max, len);
        return max;
    }

    static Method resolve(Method method, int length) {
        if (method == Method.AUTO) return length <= DIRECT_MAX_LENGTH ? Method.DIRECT : Method.FFT;
        return method;
    }

    private static void forwardDirect(double[] h, double[] u, double[] m, int b, int k, int len, int frames,
            int channels, int d) {
        int width = channels * d;
        for (int t = 0; t < len; t++) {
            int mo = (b * frames + t) * width + k * d;
            for (int s = 0; s <= t; s++) {
                double w = u[(b * frames + s) * channels + k];
                if (w == 0) continue;
                int ho = (t - s) * d;
                for (int i = 0; i < d; i++) m[mo + i] += w * h[ho + i];
            }
        }
    }

    private static void backwardDirect(double[] h, double[] dm, double[] du, int b, int k, int len, int frames,
            int channels, int d) {
        int width = channels * d;
        for (int s = 0; s < len; s++) {
            double acc = 0;
            for (int t = s; t < len; t++) {
                int go = (b * frames + t) * width + k * d;
                int ho = (t - s) * d;
                for (int i = 0; i < d; i++) acc += h[ho + i] * dm[go + i];
            }
            du[(b * frames + s) * channels + k] = acc;
        }
    }

    private static void forwardFft(LegendreImpulseResponse.Bucket bucket, double[] u, double[] m, int b, int k,
            int len, int frames, int channels, int d) {
        int n = 2 * bucket.length;
        DoubleFFT_1D fft = FftPlans.get(n);
        double[] x = new double[n];
        for (int s = 0; s < len; s++) x[s] = u[(b * frames + s) * channels + k];
        fft.realForward(x);
        double[] y = new double[n];
        int width = channels * d;
        for (int i = 0; i < d; i++) {
            multiplyPacked(x, bucket.spectra[i], y, n, false);
            fft.realInverse(y, true);
            for (int t = 0; t < len; t++) m[(b * frames + t) * width + k * d + i] = y[t];
        }
    }

    private static void backwardFft(LegendreImpulseResponse.Bucket bucket, double[] dm, double[] du, int b, int k,
            int len, int frames, int channels, int d) {
        int n = 2 * bucket.length;
        DoubleFFT_1D fft = FftPlans.get(n);
        double[] g = new double[n];
        double[] acc = new double[n];
        int width = channels * d;
        for (int i = 0; i < d; i++) {
            for (int t = 0; t < len; t++) g[t] = dm[(b * frames + t) * width + k * d + i];
            java.util.Arrays.fill(g, len, n, 0.0);
            fft.realForward(g);
            multiplyAccumulatePackedConj(g, bucket.spectra[i], acc, n);
        }
        fft.realInverse(acc, true);
        for (int s = 0; s < len; s++) du[(b * frames + s) * channels + k] = acc[s];
    }

    /** out = x ⊙ y (or x ⊙ conj y) for real-FFT spectra of even length n in JTransforms packed layout. */
    static void multiplyPacked(double[] x, double[] y, double[] out, int n, boolean conjugateY) {
        out[0] = x[0] * y[0];
        out[1] = x[1] * y[1];
        double sign = conjugateY ? -1 : 1;
        for (int j = 2; j < n; j += 2) {
            double xr = x[j], xi = x[j + 1], yr = y[j], yi = sign * y[j + 1];
            out[j] = xr * yr - xi * yi;
            out[j + 1] = xr * yi + xi * yr;
        }
    }

    /** acc += x ⊙ conj y, packed layout as {@link #multiplyPacked}. */
    private static void multiplyAccumulatePackedConj(double[] x, double[] y, double[] acc, int n) {
        acc[0] += x[0] * y[0];
        acc[1] += x[1] * y[1];
        for (int j = 2; j < n; j += 2) {
            double xr = x[j], xi = x[j + 1], yr = y[j], yi = -y[j + 1];
            acc[j] += xr * yr - xi * yi;
            acc[j + 1] += xr * yi + xi * yr;
        }
    }

    private static void check(LegendreImpulseResponse ir, long size, String name, int batch, int frames,
            int channels, int perChannel, int[] lengths) {
        if (ir == null) throw new IllegalArgumentException("LegendreConvolution: ir is null");
        Checks.positive("LegendreConvolution batch", batch);
        Checks.positive("LegendreConvolution frames", frames);
        Checks.positive("LegendreConvolution channels", channels);
        String layout = perChannel == 1 ? "(B, T, K)" : "(B, T, K*d)";
        long expected = (long) batch * frames * channels * perChannel;
        if (size != expected) {
            throw new IllegalArgumentException("LegendreConvolution: " + name + " must have shape " + layout + " = ["
                    + batch + ", " + frames + ", " + channels * perChannel + "] (" + expected + " values), got "
                    + (size < 0 ? "null" : size + " values"));
        }
        if (lengths == null || lengths.length != batch) {
            throw new IllegalArgumentException("LegendreConvolution: lengths must have shape (B) = [" + batch + "], got "
                    + (lengths == null ? "null" : "[" + lengths.length + "]"));
        }
        int max = Math.min(frames, ir.maxLength());
        for (int b = 0; b < batch; b++) {
            if (lengths[b] < 0 || lengths[b] > max) {
                throw new IllegalArgumentException("LegendreConvolution: lengths[" + b + "] must be in [0, " + max
                        + "] (min of T and maxLength), got " + lengths[b]);
            }
        }
    }
}
