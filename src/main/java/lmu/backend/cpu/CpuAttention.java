package lmu.backend.cpu;

import lmu.util.Parallel;
import lmu.util.Rng;

/**
 * Fused multi-head scaled dot-product attention on the CPU, forward and backward, one (batch,
 * head) pair per task: the reference for the CUDA attention kernel.
 *
 * <pre>
 * S = scale · Q_bh · K_bhᵀ, keys s ≥ lengths[b] set to maskValue     (T, T)
 * P = softmax(S) row by row (max subtracted)                          saved for backward
 * P' = P ∘ keep / (1 − p), keep[i] = (Rng.bits(seed, i) >>> 11) ≥ ⌈p·2^53⌉
 * O_bh = P' · V_bh                                                    (T, d)
 * </pre>
 *
 * <p>Layouts, row-major: q, k, v and the output are (B, T, C) with C = H·d, head h in columns
 * [h·d, (h+1)·d) (the linear layers' output, no head permutes); P is (B·H, T, T) with pair
 * bh = b·H + h at offset bh·T·T, and the dropout counter i of element (bh, t, s) is
 * {@code (bh·T + t)·T + s}, exactly the element index of the unfused (B·H, T, T) weight tensor, so
 * the fused op draws the same mask as {@code Dropout} applied to the softmax output. The products
 * run on {@link Gemm}, single-threaded inside the parallel loop over B·H. Forward keeps the drawn
 * mask as bits (T²/8 bytes per pair) so backward does not draw it again.
 */
public final class CpuAttention {
    private CpuAttention() {}

    private static final ThreadLocal<float[][]> SCRATCH_F = ThreadLocal.withInitial(() -> new float[7][0]);
    private static final ThreadLocal<double[][]> SCRATCH_D = ThreadLocal.withInitial(() -> new double[2][0]);

    private static float[] scratchF(int slot, int n) {
        float[][] s = SCRATCH_F.get();
        if (s[slot].length < n) s[slot] = new float[n];
        return s[slot];
    }

    private static double[] scratchD(int slot, int n) {
        double[][] s = SCRATCH_D.get();
        if (s[slot].length < n) s[slot] = new double[n];
        return s[slot];
    }

    /** dst (T, d), contiguous = the head's column block of src (T rows from {@code base}, row stride c). */
    private static float[] gather(int slot, float[] src, int base, int c, int frames, int d) {
        float[] dst = scratchF(slot, frames * d);
        for (int t = 0; t < frames; t++) System.arraycopy(src, base + t * c, dst, t * d, d);
        return dst;
    }

    /** The inverse of {@link #gather}: writes the (T, d) block back into dst's head columns. */
    private static void scatter(float[] src, float[] dst, int base, int c, int frames, int d) {
        for (int t = 0; t < frames; t++) System.arraycopy(src, t * d, dst, base + t * c, d);
    }

    /** Dropout threshold on the top 53 bits: element kept when bits ≥ threshold. */
    private static long threshold(double p) {
        return (long) Math.ceil(p * 0x1.0p53);
    }

    private static boolean keep(long seed, long i, long threshold) {
        return (Rng.bits(seed, i) >>> 11) >= threshold;
    }

    /** Length of the keep-mask array for {@code pairs} (batch, head) pairs of T×T weights: whole words per pair. */
    public static int keepWords(int pairs, int frames) {
        return pairs * wordsPerPair(frames);
    }

    private static int wordsPerPair(int frames) {
        return (int) (((long) frames * frames + 63) / 64);
    }

    /**
     * Draws the keep mask that {@link #forward} with the same p and seed draws, into a new array of
     * {@link #keepWords} words (same bit layout), so that a backward need not keep forward's.
     *
     * @param pairs B·H
     * @param p dropout probability in (0, 1)
     */
    public static long[] drawKeep(int pairs, int frames, double p, long seed) {
        long[] bits = new long[keepWords(pairs, frames)];
        int tt = frames * frames, wpp = wordsPerPair(frames);
        long thr = threshold(p);
        Parallel.forRange(pairs, 1, (from, to) -> {
            for (int bh = from; bh < to; bh++) {
                long pOff = (long) bh * tt;
                for (int w = 0; w < wpp; w++) {
                    long word = 0;
                    int end = Math.min(tt, w * 64 + 64);
                    for (int i = w * 64; i < end; i++) {
                        if (keep(seed, pOff + i, thr)) word |= 1L << i;
                    }
                    bits[bh * wpp + w] = word;
                }
            }
        });
        return bits;
    }

    private static boolean kept(long[] bits, int word0, int i) {
        return (bits[word0 + (i >>> 6)] & (1L << i)) != 0;
    }

    /**
     * Draws the keep mask of one pair into {@code bits} (from word {@code word0}) and writes
     * {@code weights[i] = keep ? probs[pOff + i] · keepScale : 0} for its T·T elements.
     */
    private static void dropF(float[] weights, float[] probs, int pOff, int tt, long seed, long thr, float keepScale,
            long[] bits, int word0) {
        for (int w = 0; w * 64 < tt; w++) {
            long word = 0;
            int end = Math.min(tt, w * 64 + 64);
            for (int i = w * 64; i < end; i++) {
                if (keep(seed, (long) pOff + i, thr)) {
                    word |= 1L << i;
                    weights[i] = probs[pOff + i] * keepScale;
                } else {
                    weights[i] = 0f;
                }
            }
            bits[word0 + w] = word;
        }
    }

    private static void dropD(double[] weights, double[] probs, int pOff, int tt, long seed, long thr, double keepScale,
            long[] bits, int word0) {
        for (int w = 0; w * 64 < tt; w++) {
            long word = 0;
            int end = Math.min(tt, w * 64 + 64);
            for (int i = w * 64; i < end; i++) {
                if (keep(seed, (long) pOff + i, thr)) {
                    word |= 1L << i;
                    weights[i] = probs[pOff + i] * keepScale;
                } else {
                    weights[i] = 0;
                }
            }
            bits[word0 + w] = word;
        }
    }

    /**
     * float32 forward.
     *
     * @param out output O, shape (B, T, C), overwritten
     * @param probs receives P, shape (B·H, T, T), overwritten
     * @param q queries, shape (B, T, C)
     * @param k keys, shape (B, T, C)
     * @param v values, shape (B, T, C)
     * @param lengths valid keys per sequence, length B, or null for all T
     * @param p dropout probability on P in [0, 1); 0 for none
     * @param keepBits with p &gt; 0, receives the keep mask ({@link #keepWords} words, bit i of pair bh at
     *     word {@code bh·⌈T²/64⌉ + i/64}) for backward; unused when p is 0
     */
    public static void forward(float[] out, float[] probs, float[] q, float[] k, float[] v, int batch, int frames,
            int heads, int d, double scale, int[] lengths, float maskValue, double p, long seed, long[] keepBits) {
        int c = heads * d, tt = frames * frames;
        long thr = threshold(p);
        float keepScale = (float) (1 / (1 - p));
        Parallel.forRange(batch * heads, 1, (from, to) -> {
            for (int bh = from; bh < to; bh++) {
                int b = bh / heads, h = bh % heads, len = lengths == null ? frames : lengths[b];
                int base = b * frames * c + h * d, pOff = bh * tt;
                // the head's blocks as contiguous (T, d) copies: each product then stages its operands in one piece
                float[] qh = gather(2, q, base, c, frames, d), kh = gather(3, k, base, c, frames, d);
                float[] vh = gather(4, v, base, c, frames, d), oh = scratchF(5, frames * d);
                Gemm.sgemm(false, true, frames, frames, d, (float) scale, qh, 0, d, kh, 0, d, 0f, probs, pOff, frames);
                for (int t = 0; t < frames; t++) {
                    int row = pOff + t * frames;
                    for (int s = len; s < frames; s++) probs[row + s] = maskValue;
                    softmaxRow(probs, row, frames);
                }
                float[] weights = probs;
                int wOff = pOff;
                if (p > 0) {
                    weights = scratchF(0, tt);
                    wOff = 0;
                    dropF(weights, probs, pOff, tt, seed, thr, keepScale, keepBits, bh * wordsPerPair(frames));
                }
                Gemm.sgemm(false, false, frames, d, frames, 1f, weights, wOff, frames, vh, 0, d, 0f, oh, 0, d);
                scatter(oh, out, base, c, frames, d);
            }
        });
    }

    /** Softmax of one row in place, as {@code CpuFloatKernels.softmaxRows}: float max, double sum, {@link FastMath#expNonPositive}. */
    private static void softmaxRow(float[] x, int base, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) max = Math.max(max, x[base + j]);
        if (max == Float.NEGATIVE_INFINITY) max = 0;
        double sum = 0;
        for (int j = 0; j < n; j++) {
            float e = FastMath.expNonPositive(x[base + j] - max);
            x[base + j] = e;
            sum += e;
        }
        float inv = sum == 0 ? 0 : (float) (1 / sum);
        for (int j = 0; j < n; j++) x[base + j] *= inv;
    }

    /**
     * float32 backward; writes (does not accumulate) dq, dk, dv where they are non-null.
     *
     * @param dOut gradient of O, shape (B, T, C)
     * @param probs P saved by forward, shape (B·H, T, T)
     * @param keepBits the keep mask forward drew (unused when p is 0)
     */
    public static void backward(float[] dq, float[] dk, float[] dv, float[] dOut, float[] probs, float[] q, float[] k,
            float[] v, int batch, int frames, int heads, int d, double scale, int[] lengths, double p, long[] keepBits) {
        int c = heads * d, tt = frames * frames, wpp = wordsPerPair(frames);
        float keepScale = (float) (1 / (1 - p));
        Parallel.forRange(batch * heads, 1, (from, to) -> {
            for (int bh = from; bh < to; bh++) {
                int b = bh / heads, h = bh % heads, len = lengths == null ? frames : lengths[b];
                int base = b * frames * c + h * d, pOff = bh * tt;
                float[] dp = scratchF(1, tt);
                float[] qh = gather(2, q, base, c, frames, d), kh = gather(3, k, base, c, frames, d);
                float[] vh = gather(4, v, base, c, frames, d), gh = gather(5, dOut, base, c, frames, d);
                float[] res = scratchF(6, frames * d);
                // dP' = dO · Vᵀ
                Gemm.sgemm(false, true, frames, frames, d, 1f, gh, 0, d, vh, 0, d, 0f, dp, 0, frames);
                if (dv != null) {
                    float[] weights = probs;
                    int wOff = pOff;
                    if (p > 0) {
                        weights = scratchF(0, tt);
                        wOff = 0;
                        for (int i = 0; i < tt; i++) weights[i] = kept(keepBits, bh * wpp, i) ? probs[pOff + i] * keepScale : 0f;
                    }
                    // dV = P'ᵀ · dO
                    Gemm.sgemm(true, false, frames, d, frames, 1f, weights, wOff, frames, gh, 0, d, 0f, res, 0, d);
                    scatter(res, dv, base, c, frames, d);
                }
                if (dq == null && dk == null) continue;
                // dP = dP' ∘ keep/(1-p); dS = P ∘ (dP − Σ dP∘P), zero at masked keys
                for (int t = 0; t < frames; t++) {
                    int row = t * frames, prow = pOff + row;
                    if (p > 0) {
                        for (int s = 0; s < frames; s++) dp[row + s] = kept(keepBits, bh * wpp, row + s) ? dp[row + s] * keepScale : 0f;
                    }
                    double sum = 0;
                    for (int s = 0; s < frames; s++) sum += dp[row + s] * probs[prow + s];
                    float fs = (float) sum;
                    for (int s = 0; s < len; s++) dp[row + s] = probs[prow + s] * (dp[row + s] - fs);
                    for (int s = len; s < frames; s++) dp[row + s] = 0f;
                }
                // dQ = scale · dS · K,  dK = scale · dSᵀ · Q
                if (dq != null) {
                    Gemm.sgemm(false, false, frames, d, frames, (float) scale, dp, 0, frames, kh, 0, d, 0f, res, 0, d);
                    scatter(res, dq, base, c, frames, d);
                }
                if (dk != null) {
                    Gemm.sgemm(true, false, frames, d, frames, (float) scale, dp, 0, frames, qh, 0, d, 0f, res, 0, d);
                    scatter(res, dk, base, c, frames, d);
                }
            }
        });
    }

    /** float64 forward: same contract as the float32 one (used by gradient checks). */
    public static void forward(double[] out, double[] probs, double[] q, double[] k, double[] v, int batch, int frames,
            int heads, int d, double scale, int[] lengths, double maskValue, double p, long seed, long[] keepBits) {
        int c = heads * d, tt = frames * frames;
        long thr = threshold(p);
        double keepScale = 1 / (1 - p);
        Parallel.forRange(batch * heads, 1, (from, to) -> {
            for (int bh = from; bh < to; bh++) {
                int b = bh / heads, h = bh % heads, len = lengths == null ? frames : lengths[b];
                int base = b * frames * c + h * d, pOff = bh * tt;
                Gemm.dgemm(false, true, frames, frames, d, scale, q, base, c, k, base, c, 0, probs, pOff, frames);
                for (int t = 0; t < frames; t++) {
                    int row = pOff + t * frames;
                    for (int s = len; s < frames; s++) probs[row + s] = maskValue;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int s = 0; s < frames; s++) max = Math.max(max, probs[row + s]);
                    if (max == Double.NEGATIVE_INFINITY) max = 0;
                    double sum = 0;
                    for (int s = 0; s < frames; s++) sum += probs[row + s] = Math.exp(probs[row + s] - max);
                    double inv = sum == 0 ? 0 : 1 / sum;
                    for (int s = 0; s < frames; s++) probs[row + s] *= inv;
                }
                double[] weights = probs;
                int wOff = pOff;
                if (p > 0) {
                    weights = scratchD(0, tt);
                    wOff = 0;
                    dropD(weights, probs, pOff, tt, seed, thr, keepScale, keepBits, bh * wordsPerPair(frames));
                }
                Gemm.dgemm(false, false, frames, d, frames, 1, weights, wOff, frames, v, base, c, 0, out, base, c);
            }
        });
    }

    /** float64 backward: same contract as the float32 one. */
    public static void backward(double[] dq, double[] dk, double[] dv, double[] dOut, double[] probs, double[] q,
            double[] k, double[] v, int batch, int frames, int heads, int d, double scale, int[] lengths, double p,
            long[] keepBits) {
        int c = heads * d, tt = frames * frames, wpp = wordsPerPair(frames);
        double keepScale = 1 / (1 - p);
        Parallel.forRange(batch * heads, 1, (from, to) -> {
            for (int bh = from; bh < to; bh++) {
                int b = bh / heads, h = bh % heads, len = lengths == null ? frames : lengths[b];
                int base = b * frames * c + h * d, pOff = bh * tt;
                double[] dp = scratchD(1, tt);
                Gemm.dgemm(false, true, frames, frames, d, 1, dOut, base, c, v, base, c, 0, dp, 0, frames);
                if (dv != null) {
                    double[] weights = probs;
                    int wOff = pOff;
                    if (p > 0) {
                        weights = scratchD(0, tt);
                        wOff = 0;
                        for (int i = 0; i < tt; i++) weights[i] = kept(keepBits, bh * wpp, i) ? probs[pOff + i] * keepScale : 0;
                    }
                    Gemm.dgemm(true, false, frames, d, frames, 1, weights, wOff, frames, dOut, base, c, 0, dv, base, c);
                }
                if (dq == null && dk == null) continue;
                for (int t = 0; t < frames; t++) {
                    int row = t * frames, prow = pOff + row;
                    if (p > 0) {
                        for (int s = 0; s < frames; s++) dp[row + s] = kept(keepBits, bh * wpp, row + s) ? dp[row + s] * keepScale : 0;
                    }
                    double sum = 0;
                    for (int s = 0; s < frames; s++) sum += dp[row + s] * probs[prow + s];
                    for (int s = 0; s < len; s++) dp[row + s] = probs[prow + s] * (dp[row + s] - sum);
                    for (int s = len; s < frames; s++) dp[row + s] = 0;
                }
                if (dq != null) Gemm.dgemm(false, false, frames, d, frames, scale, dp, 0, frames, k, base, c, 0, dq, base, c);
                if (dk != null) Gemm.dgemm(true, false, frames, d, frames, scale, dp, 0, frames, q, base, c, 0, dk, base, c);
            }
        });
    }
}
