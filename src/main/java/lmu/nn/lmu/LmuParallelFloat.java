package lmu.nn.lmu;

import java.util.Arrays;
import lmu.backend.cpu.FastMath;
import lmu.backend.cpu.Gemm;
import lmu.util.Parallel;

/**
 * {@link LmuParallel} in float32, for float32 layers: the same equations, with the causal
 * convolution as matrix products against the impulse response instead of float64 FFTs.
 *
 * <pre>
 * u = x·e_x + b_u                                   (B·T, K)
 * m[b, t, k, ·] = Σ_{j ≤ t} u[b, t − j, k] · H[j, ·]  as  U_b · H,  U_b[(t, k), j] = u[b, t − j, k]
 * h = f(x·W_x + m·W_m + b_h)                         (B·T, hidden)
 * </pre>
 *
 * <p>The convolution is {@link LegendreConvolution#forwardFloat} (block Toeplitz products against
 * H rounded to float32) and its backward {@link LegendreConvolution#backwardFloat}. The float64
 * path stays the reference (gradient checks, {@link LmuParallel}); this one agrees with it to
 * float32 rounding (about 1e-6 relative, tested). Padded frames (t ≥ lengths[b]) are never read;
 * h, m and dx there are zero.
 *
 * <p>Layouts, row-major float32: x (B, T, C), u (B, T, K), m (B, T, K·d) with channel k·d + i,
 * h (B, T, hidden); parameters as in {@link LmuParameters} ({@code ex} (C, K), {@code wx}
 * (C, hidden), {@code wm} (K·d, hidden), biases (K) and (hidden)).
 */
final class LmuParallelFloat {
    private LmuParallelFloat() {}

    /** Parameters of a parallelizable layer as float32 arrays; wx, bu, bh may be null. */
    record Weights(float[] ex, float[] bu, float[] wx, float[] wm, float[] bh) {}

    /** What forward keeps: x with padded frames zeroed, m, and h. */
    record Saved(float[] x, float[] m, float[] h) {}

    /** Gradients (fresh arrays; null where the parameter is absent) and dx. */
    record Grads(float[] dx, float[] ex, float[] bu, float[] wx, float[] wm, float[] bh) {}

    /**
     * @param x input, shape (B, T, C)
     * @param lengths valid frames, shape (B), each in [0, min(T, ir.maxLength())]
     * @return x (padding zeroed), m (B, T, K·d), h (B, T, hidden)
     */
    static Saved forward(LmuConfig c, LegendreImpulseResponse ir, Weights p, float[] x, int batch, int frames, int[] lengths) {
        int in = c.inputSize(), hid = c.hiddenSize(), k = c.memoryD(), d = c.order(), w = k * d;
        int rows = batch * frames;
        float[] xm = maskPadding(x, batch, frames, in, lengths);
        float[] u = new float[rows * k];
        Gemm.sgemm(false, false, rows, k, in, 1f, xm, 0, in, p.ex(), 0, k, 0f, u, 0, k);
        if (p.bu() != null) for (int r = 0; r < rows; r++) for (int ch = 0; ch < k; ch++) u[r * k + ch] += p.bu()[ch];
        float[] m = LegendreConvolution.forwardFloat(ir, u, batch, frames, k, lengths);
        float[] h = new float[rows * hid];
        Gemm.sgemm(false, false, rows, hid, w, 1f, m, 0, w, p.wm(), 0, hid, 0f, h, 0, hid);
        if (p.wx() != null) Gemm.sgemm(false, false, rows, hid, in, 1f, xm, 0, in, p.wx(), 0, hid, 1f, h, 0, hid);
        Activation f = c.activation();
        float[] bh = p.bh();
        Parallel.forRange(rows, 64, (from, to) -> {
            for (int r = from; r < to; r++) {
                int o = r * hid;
                if (r % frames >= lengths[r / frames]) {
                    Arrays.fill(h, o, o + hid, 0f);
                    continue;
                }
                for (int j = 0; j < hid; j++) h[o + j] = activation(f, h[o + j] + (bh != null ? bh[j] : 0f));
            }
        });
        return new Saved(xm, m, h);
    }

    /**
     * Backward of {@link #forward}.
     *
     * @param dh gradient of h, shape (B, T, hidden); padded frames ignored
     */
    static Grads backward(LmuConfig c, LegendreImpulseResponse ir, Weights p, Saved s, float[] dh, int batch, int frames,
            int[] lengths, boolean needDx) {
        int in = c.inputSize(), hid = c.hiddenSize(), k = c.memoryD(), d = c.order(), w = k * d;
        int rows = batch * frames;
        Activation f = c.activation();
        float[] h = s.h();
        float[] dz = new float[rows * hid];
        Parallel.forRange(rows, 64, (from, to) -> {
            for (int r = from; r < to; r++) {
                if (r % frames >= lengths[r / frames]) continue;
                int o = r * hid;
                for (int j = 0; j < hid; j++) dz[o + j] = dh[o + j] * derivative(f, h[o + j]);
            }
        });
        float[] dbh = p.bh() == null ? null : columnSums(dz, rows, hid);
        float[] dwm = new float[w * hid];
        Gemm.sgemm(true, false, w, hid, rows, 1f, s.m(), 0, w, dz, 0, hid, 0f, dwm, 0, hid);
        float[] dwx = null;
        if (p.wx() != null) {
            dwx = new float[in * hid];
            Gemm.sgemm(true, false, in, hid, rows, 1f, s.x(), 0, in, dz, 0, hid, 0f, dwx, 0, hid);
        }
        float[] dm = new float[rows * w];
        Gemm.sgemm(false, true, rows, w, hid, 1f, dz, 0, hid, p.wm(), 0, hid, 0f, dm, 0, w);
        float[] du = LegendreConvolution.backwardFloat(ir, dm, batch, frames, k, lengths);
        float[] dex = new float[in * k];
        Gemm.sgemm(true, false, in, k, rows, 1f, s.x(), 0, in, du, 0, k, 0f, dex, 0, k);
        float[] dbu = p.bu() == null ? null : columnSums(du, rows, k);
        float[] dx = null;
        if (needDx) {
            dx = new float[rows * in];
            Gemm.sgemm(false, true, rows, in, k, 1f, du, 0, k, p.ex(), 0, k, 0f, dx, 0, in);
            if (p.wx() != null) Gemm.sgemm(false, true, rows, in, hid, 1f, dz, 0, hid, p.wx(), 0, hid, 1f, dx, 0, in);
            for (int b = 0; b < batch; b++) Arrays.fill(dx, (b * frames + lengths[b]) * in, (b + 1) * frames * in, 0f);
        }
        return new Grads(dx, dex, dbu, dwx, dwm, dbh);
    }

    private static float activation(Activation f, float a) {
        return switch (f) {
            case TANH -> FastMath.tanh(a);
            case RELU -> a > 0 ? a : 0f;
            case IDENTITY -> a;
        };
    }

    private static float derivative(Activation f, float y) {
        return switch (f) {
            case TANH -> 1 - y * y;
            case RELU -> y > 0 ? 1f : 0f;
            case IDENTITY -> 1f;
        };
    }

    /** Σ over rows of a (rows, n) array, accumulated in double. */
    private static float[] columnSums(float[] a, int rows, int n) {
        double[] acc = new double[n];
        for (int r = 0; r < rows; r++) for (int j = 0; j < n; j++) acc[j] += a[r * n + j];
        float[] out = new float[n];
        for (int j = 0; j < n; j++) out[j] = (float) acc[j];
        return out;
    }

    /** x itself when nothing is padded, else a copy with padded frames zeroed (NaN there cannot leak). */
    private static float[] maskPadding(float[] x, int batch, int frames, int width, int[] lengths) {
        boolean padded = false;
        for (int len : lengths) padded |= len < frames;
        if (!padded) return x;
        float[] y = x.clone();
        for (int b = 0; b < batch; b++) Arrays.fill(y, (b * frames + lengths[b]) * width, (b + 1) * frames * width, 0f);
        return y;
    }
}
