package lmu.backend.cpu;

import lmu.backend.BinaryOp;
import lmu.backend.FusedKernels;
import lmu.backend.UnaryOp;
import lmu.util.Parallel;
import lmu.util.Rng;

/**
 * float32 fast paths of the hottest {@link CpuBackend} kernels, on raw arrays: the same math as the
 * generic versions (which the float64 gradient checks exercise), checked against them by
 * {@code CpuFloatKernelsTest}. Reductions accumulate in double.
 */
final class CpuFloatKernels {
    private static final int GRAIN = 1 << 14;
    private static final float GELU_SCALE = (float) Math.sqrt(2 / Math.PI);

    private CpuFloatKernels() {}

    /** Rows of length n in parallel, at least ~GRAIN elements per task. */
    private static void rows(int rows, int n, Parallel.RangeBody body) {
        Parallel.forRange(rows, Math.max(1, GRAIN / Math.max(1, n)), body);
    }

    /** Softmax or log-softmax of each of {@code rows} contiguous rows of length n. */
    static void softmaxRows(float[] out, float[] x, int rows, int n, boolean log) {
        rows(rows, n, (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                int base = r * n;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) max = Math.max(max, x[base + j]);
                if (max == Float.NEGATIVE_INFINITY) max = 0; // a fully masked row: no inf - inf
                double sum = 0;
                if (log) {
                    for (int j = 0; j < n; j++) sum += FastMath.expNonPositive(x[base + j] - max);
                    float lse = (float) (max + Math.log(sum));
                    for (int j = 0; j < n; j++) out[base + j] = x[base + j] - lse;
                } else {
                    for (int j = 0; j < n; j++) {
                        float e = FastMath.expNonPositive(x[base + j] - max);
                        out[base + j] = e;
                        sum += e;
                    }
                    float inv = sum == 0 ? 0 : (float) (1 / sum);
                    for (int j = 0; j < n; j++) out[base + j] *= inv;
                }
            }
        });
    }

    static void softmaxBackwardRows(float[] dx, float[] y, float[] dy, int rows, int n, boolean log) {
        rows(rows, n, (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                int base = r * n;
                double s = 0;
                if (log) {
                    for (int j = 0; j < n; j++) s += dy[base + j];
                    float fs = (float) s;
                    for (int j = 0; j < n; j++) dx[base + j] = dy[base + j] - (float) Math.exp(y[base + j]) * fs;
                } else {
                    for (int j = 0; j < n; j++) s += dy[base + j] * y[base + j];
                    float fs = (float) s;
                    for (int j = 0; j < n; j++) dx[base + j] = y[base + j] * (dy[base + j] - fs);
                }
            }
        });
    }

    /** Inverted dropout with the counter-based mask of {@link Rng#uniform(long, long)}. */
    static void dropout(float[] out, float[] x, double p, long seed) {
        float scale = (float) (1 / (1 - p));
        // keep element i when uniform(seed, i) >= p, i.e. when its top 53 bits >= p·2^53
        long threshold = (long) Math.ceil(p * 0x1.0p53);
        Parallel.forRange(out.length, GRAIN, (lo, hi) -> {
            for (int i = lo; i < hi; i++) out[i] = (Rng.bits(seed, i) >>> 11) >= threshold ? x[i] * scale : 0f;
        });
    }

    /** Words of the keep-bit mask of {@link #dropoutKeepBits} for n elements. */
    static int dropoutWords(int n) {
        return (int) (((long) n + 63) / 64);
    }

    /**
     * {@link #dropout} that also records the mask: bit i of {@code bits[i / 64]} set when element i
     * is kept (work split on whole words, so no two threads write one word).
     */
    static void dropoutKeepBits(float[] out, float[] x, double p, long seed, long[] bits) {
        float scale = (float) (1 / (1 - p));
        long threshold = (long) Math.ceil(p * 0x1.0p53);
        int n = out.length;
        Parallel.forRange(dropoutWords(n), Math.max(1, GRAIN / 64), (lo, hi) -> {
            for (int w = lo; w < hi; w++) {
                long word = 0;
                int end = Math.min(n, w * 64 + 64);
                for (int i = w * 64; i < end; i++) {
                    if ((Rng.bits(seed, i) >>> 11) >= threshold) {
                        word |= 1L << i;
                        out[i] = x[i] * scale;
                    } else {
                        out[i] = 0f;
                    }
                }
                bits[w] = word;
            }
        });
    }

    /** out = x · scale where the recorded mask keeps an element, else 0 (the backward of {@link #dropoutKeepBits}). */
    static void dropoutApplyBits(float[] out, float[] x, double p, long[] bits) {
        float scale = (float) (1 / (1 - p));
        int n = out.length;
        Parallel.forRange(dropoutWords(n), Math.max(1, GRAIN / 64), (lo, hi) -> {
            for (int w = lo; w < hi; w++) {
                long word = bits[w];
                int end = Math.min(n, w * 64 + 64);
                for (int i = w * 64; i < end; i++) out[i] = (word & (1L << i)) != 0 ? x[i] * scale : 0f;
            }
        });
    }

    static void unary(UnaryOp op, float[] out, float[] x, float c) {
        Parallel.forRange(out.length, GRAIN, (lo, hi) -> {
            switch (op) {
                case SCALE -> { for (int i = lo; i < hi; i++) out[i] = x[i] * c; }
                case ADD_SCALAR -> { for (int i = lo; i < hi; i++) out[i] = x[i] + c; }
                case RELU -> { for (int i = lo; i < hi; i++) out[i] = x[i] > 0 ? x[i] : 0f; }
                case GELU -> {
                    for (int i = lo; i < hi; i++) {
                        float v = x[i];
                        out[i] = 0.5f * v * (1 + (float) Math.tanh(GELU_SCALE * (v + 0.044715f * v * v * v)));
                    }
                }
                case TANH -> { for (int i = lo; i < hi; i++) out[i] = FastMath.tanh(x[i]); }
                case SIGMOID -> { for (int i = lo; i < hi; i++) out[i] = (float) (1 / (1 + Math.exp(-x[i]))); }
                case EXP -> { for (int i = lo; i < hi; i++) out[i] = (float) Math.exp(x[i]); }
                case LOG -> { for (int i = lo; i < hi; i++) out[i] = (float) Math.log(x[i]); }
            }
        });
    }

    /** out = a ∘ b where b (length k) repeats over a's leading elements (k divides a.length). */
    static void binaryRepeating(BinaryOp op, float[] out, float[] a, float[] b) {
        if (b.length == a.length) {
            elementwise(op, out, a, b);
            return;
        }
        int k = b.length;
        Parallel.forRange(a.length / k, Math.max(1, GRAIN / k), (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                int base = r * k;
                switch (op) {
                    case ADD -> { for (int j = 0; j < k; j++) out[base + j] = a[base + j] + b[j]; }
                    case SUB -> { for (int j = 0; j < k; j++) out[base + j] = a[base + j] - b[j]; }
                    case MUL -> { for (int j = 0; j < k; j++) out[base + j] = a[base + j] * b[j]; }
                    case DIV -> { for (int j = 0; j < k; j++) out[base + j] = a[base + j] / b[j]; }
                }
            }
        });
    }

    /** out = a ∘ b for arrays of equal length, in parallel chunks. */
    static void elementwise(BinaryOp op, float[] out, float[] a, float[] b) {
        Parallel.forRange(a.length, GRAIN, (lo, hi) -> {
            switch (op) {
                case ADD -> { for (int i = lo; i < hi; i++) out[i] = a[i] + b[i]; }
                case SUB -> { for (int i = lo; i < hi; i++) out[i] = a[i] - b[i]; }
                case MUL -> { for (int i = lo; i < hi; i++) out[i] = a[i] * b[i]; }
                case DIV -> { for (int i = lo; i < hi; i++) out[i] = a[i] / b[i]; }
            }
        });
    }

    /** acc += g, in parallel chunks. */
    static void addInPlace(float[] acc, float[] g) {
        Parallel.forRange(acc.length, GRAIN, (lo, hi) -> {
            for (int i = lo; i < hi; i++) acc[i] += g[i];
        });
    }

    /** out[j] = Σ_r x[r·k + j] over {@code rows} rows of length k. */
    static void sumLeadingRows(float[] out, float[] x, int rows, int k) {
        int parts = Math.max(1, Math.min(Parallel.threads(), (int) ((long) rows * k / GRAIN)));
        double[][] partial = new double[parts][k];
        Parallel.forRange(parts, 1, (lo, hi) -> {
            for (int p = lo; p < hi; p++) {
                double[] acc = partial[p];
                int from = (int) ((long) rows * p / parts), to = (int) ((long) rows * (p + 1) / parts);
                for (int r = from; r < to; r++) {
                    int base = r * k;
                    for (int j = 0; j < k; j++) acc[j] += x[base + j];
                }
            }
        });
        for (int j = 0; j < k; j++) {
            double s = 0;
            for (double[] acc : partial) s += acc[j];
            out[j] = (float) s;
        }
    }

    static void layerNorm(float[] out, float[] mean, float[] rstd, float[] x, float[] w, float[] b, int c, float eps) {
        rows(x.length / c, c, (lo, hi) -> {
            for (int r = lo; r < hi; r++) layerNormRow(out, mean, rstd, x, w, b, c, eps, r);
        });
    }

    /**
     * s = x + res and out = layer norm of s, row by row (the sum rounded to float32 first, as an
     * add followed by {@link #layerNorm} computes it).
     */
    static void residualLayerNorm(float[] s, float[] out, float[] mean, float[] rstd, float[] x, float[] res, float[] w,
            float[] b, int c, float eps) {
        rows(x.length / c, c, (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                int base = r * c;
                for (int j = 0; j < c; j++) s[base + j] = x[base + j] + res[base + j];
                layerNormRow(out, mean, rstd, s, w, b, c, eps, r);
            }
        });
    }

    private static void layerNormRow(float[] out, float[] mean, float[] rstd, float[] x, float[] w, float[] b, int c,
            float eps, int r) {
        int base = r * c;
        double s = 0;
        for (int j = 0; j < c; j++) s += x[base + j];
        float mu = (float) (s / c);
        double var = 0;
        for (int j = 0; j < c; j++) {
            float d = x[base + j] - mu;
            var += d * d;
        }
        float inv = (float) (1 / Math.sqrt(var / c + eps));
        for (int j = 0; j < c; j++) out[base + j] = (x[base + j] - mu) * inv * w[j] + b[j];
        mean[r] = mu;
        rstd[r] = inv;
    }

    /** dx written; dw and db accumulated (+=). */
    static void layerNormBackward(float[] dx, float[] dw, float[] db, float[] dy, float[] x, float[] mean, float[] rstd,
            float[] w, int c) {
        layerNormBackward(dx, null, dw, db, dy, x, mean, rstd, w, c);
    }

    /**
     * dx written (= ds + the layer norm's gradient, ds null for none; dx null for not computed); dw
     * and db accumulated (+=), either may be null.
     */
    static void layerNormBackward(float[] dx, float[] ds, float[] dw, float[] db, float[] dy, float[] x, float[] mean,
            float[] rstd, float[] w, int c) {
        int rowsN = x.length / c;
        int parts = Math.max(1, Math.min(Parallel.threads(), (int) ((long) rowsN * c / GRAIN)));
        double[][] accW = new double[parts][c], accB = new double[parts][c];
        Parallel.forRange(parts, 1, (plo, phi) -> {
            for (int p = plo; p < phi; p++) {
                int from = (int) ((long) rowsN * p / parts), to = (int) ((long) rowsN * (p + 1) / parts);
                double[] aw = accW[p], ab = accB[p];
                for (int r = from; r < to; r++) {
                    int base = r * c;
                    float mu = mean[r], inv = rstd[r];
                    double sumG = 0, sumGx = 0;
                    for (int j = 0; j < c; j++) {
                        float xh = (x[base + j] - mu) * inv;
                        float g = dy[base + j] * w[j];
                        sumG += g;
                        sumGx += g * xh;
                        aw[j] += dy[base + j] * xh;
                        ab[j] += dy[base + j];
                    }
                    if (dx == null) continue;
                    float mg = (float) (sumG / c), mgx = (float) (sumGx / c);
                    for (int j = 0; j < c; j++) {
                        float xh = (x[base + j] - mu) * inv;
                        float v = inv * (dy[base + j] * w[j] - mg - xh * mgx);
                        dx[base + j] = ds == null ? v : ds[base + j] + v;
                    }
                }
            }
        });
        for (int j = 0; j < c; j++) {
            double sw = 0, sb = 0;
            for (int p = 0; p < parts; p++) {
                sw += accW[p][j];
                sb += accB[p][j];
            }
            if (dw != null) dw[j] += (float) sw;
            if (db != null) db[j] += (float) sb;
        }
    }

    /** A row of c floats for this thread (dx not kept: the gradient only feeds the column sums). */
    private static float[] rowScratch(ThreadLocal<float[]> scratch, int c) {
        float[] a = scratch.get();
        if (a == null) scratch.set(a = new float[c]);
        return a;
    }

    /** c copies of −0f: adding −0f leaves every float as it is (+0 and −0 included), so "no bias" runs the bias loop. */
    private static float[] negativeZeros(int c) {
        float[] z = new float[c];
        java.util.Arrays.fill(z, -0f);
        return z;
    }

    /** y[r, j] = act(x[r, j] + b[j]) over rows of length c, b null for none; the float math of {@link #unary}. */
    static void biasActivation(FusedKernels.Activation act, float[] y, float[] x, float[] b, int c) {
        float[] bias = b == null ? negativeZeros(c) : b;
        rows(x.length / c, c, (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                int base = r * c;
                switch (act) { // one loop per activation: the switch stays out of the element loop
                    case IDENTITY -> { for (int j = 0; j < c; j++) y[base + j] = x[base + j] + bias[j]; }
                    case RELU -> {
                        for (int j = 0; j < c; j++) {
                            float z = x[base + j] + bias[j];
                            y[base + j] = z > 0 ? z : 0f;
                        }
                    }
                    case GELU -> {
                        for (int j = 0; j < c; j++) {
                            float z = x[base + j] + bias[j];
                            y[base + j] = 0.5f * z * (1 + (float) Math.tanh(GELU_SCALE * (z + 0.044715f * z * z * z)));
                        }
                    }
                    case TANH -> { for (int j = 0; j < c; j++) y[base + j] = FastMath.tanh(x[base + j] + bias[j]); }
                }
            }
        });
    }

    /**
     * dx = act'(x + b)·dy (dx null: not computed; IDENTITY reads dy as dx) and db[j] = Σ_r dx[r, j]
     * (db null: not computed), with the row split and double sums of {@link #sumLeadingRows}. The
     * derivative as {@code CpuBackend.unaryBackward} computes it, in double from the float inputs:
     * GELU from z = x + b, RELU from y &gt; 0, TANH as 1 − y².
     */
    static void biasActivationBackward(FusedKernels.Activation act, float[] dx, float[] db, float[] dy, float[] x,
            float[] b, float[] y, int c) {
        int rowsN = dy.length / c;
        int parts = db == null ? Math.max(1, Parallel.threads()) : Math.max(1, Math.min(Parallel.threads(), (int) ((long) rowsN * c / GRAIN)));
        double[][] acc = db == null ? null : new double[parts][c];
        float[] bias = b == null ? negativeZeros(c) : b;
        ThreadLocal<float[]> scratch = new ThreadLocal<>();
        Parallel.forRange(parts, 1, (plo, phi) -> {
            for (int p = plo; p < phi; p++) {
                int from = (int) ((long) rowsN * p / parts), to = (int) ((long) rowsN * (p + 1) / parts);
                double[] a = acc == null ? null : acc[p];
                for (int r = from; r < to; r++) {
                    int base = r * c;
                    if (act == FusedKernels.Activation.IDENTITY && dx == null) { // dz = dy: only the sums
                        if (a != null) for (int j = 0; j < c; j++) a[j] += dy[base + j];
                        continue;
                    }
                    float[] g = dx != null ? dx : rowScratch(scratch, c);
                    int o = dx != null ? base : 0;
                    switch (act) { // one loop per activation: the switch stays out of the element loop
                        case IDENTITY -> System.arraycopy(dy, base, g, o, c);
                        case RELU -> { for (int j = 0; j < c; j++) g[o + j] = y[base + j] > 0 ? dy[base + j] : 0f; }
                        case GELU -> {
                            for (int j = 0; j < c; j++) g[o + j] = (float) (dy[base + j] * CpuBackend.geluGrad(x[base + j] + bias[j]));
                        }
                        case TANH -> {
                            for (int j = 0; j < c; j++) g[o + j] = (float) (dy[base + j] * (1 - (double) y[base + j] * y[base + j]));
                        }
                    }
                    if (a != null) for (int j = 0; j < c; j++) a[j] += g[o + j];
                }
            }
        });
        if (db == null) return;
        for (int j = 0; j < c; j++) {
            double s = 0;
            for (double[] a : acc) s += a[j];
            db[j] = (float) s;
        }
    }

    /**
     * cols (B·Tout, Cin·K), {@code cols[(b·Tout + to)·Cin·K + ci·K + kk] = x[b, to·stride + kk − padding, ci]}
     * (zero outside the input), from x (B, T, Cin).
     */
    static void im2col(float[] cols, float[] x, int batch, int t, int cin, int k, int stride, int padding, int tOut) {
        int width = cin * k;
        Parallel.forRange(batch * tOut, Math.max(1, GRAIN / width), (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                int b = r / tOut, to = r % tOut, row = r * width;
                for (int kk = 0; kk < k; kk++) {
                    int ti = to * stride + kk - padding;
                    if (ti < 0 || ti >= t) {
                        for (int ci = 0; ci < cin; ci++) cols[row + ci * k + kk] = 0f;
                        continue;
                    }
                    int xo = (b * t + ti) * cin;
                    for (int ci = 0; ci < cin; ci++) cols[row + ci * k + kk] = x[xo + ci];
                }
            }
        });
    }

    /** The adjoint of {@link #im2col}: dx (B, T, Cin) = Σ of the dcols entries that read each element (overwrites dx). */
    static void col2im(float[] dx, float[] dcols, int batch, int t, int cin, int k, int stride, int padding, int tOut) {
        int width = cin * k;
        // one task per sequence: output frames of a sequence scatter into overlapping input frames
        Parallel.forRange(batch, 1, (lo, hi) -> {
            for (int b = lo; b < hi; b++) {
                java.util.Arrays.fill(dx, b * t * cin, (b + 1) * t * cin, 0f);
                for (int to = 0; to < tOut; to++) {
                    int row = (b * tOut + to) * width;
                    for (int kk = 0; kk < k; kk++) {
                        int ti = to * stride + kk - padding;
                        if (ti < 0 || ti >= t) continue;
                        int xo = (b * t + ti) * cin;
                        for (int ci = 0; ci < cin; ci++) dx[xo + ci] += dcols[row + ci * k + kk];
                    }
                }
            }
        });
    }
}
