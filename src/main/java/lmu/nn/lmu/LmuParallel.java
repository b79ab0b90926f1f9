package lmu.nn.lmu;

import lmu.nn.lmu.LegendreConvolution.Method;

/**
 * The LMU without feedback into memory or hidden state ({@link LmuConfig#parallelizable()}), all
 * frames at once (Chilkuri &amp; Eliasmith 2021), on float64 arrays:
 *
 * <pre>
 * u = x·e_x + b_u                    (B, T, K)
 * m = causal_conv(H, u)              (B, T, K·d), see {@link LegendreConvolution}
 * h = f(x·W_x + m·W_m + b_h)         (B, T, hidden)
 * </pre>
 *
 * It computes exactly what {@link LmuRecurrent} computes for the same configuration; padded frames
 * (t ≥ lengths[b]) are never read, and h, m there are zero.
 */
public final class LmuParallel {
    private LmuParallel() {}

    /**
     * @param p parameters of a parallelizable config
     * @param ir impulse response of p.config()'s system
     * @param x input, shape (B, T, C)
     * @param lengths valid frames, shape (B)
     * @param method convolution method (AUTO picks per sequence length)
     * @return h (B, T, hidden) and m (B, T, K·d)
     * @throws IllegalArgumentException if the config has feedback or on a size mismatch
     */
    public static LmuRecurrent.Saved forward(LmuParameters p, LegendreImpulseResponse ir, double[] x, int batch,
            int frames, int[] lengths, Method method) {
        LmuConfig c = check(p, ir, x, batch, frames, lengths);
        int in = c.inputSize(), hid = c.hiddenSize(), k = c.memoryD(), w = c.memoryWidth();
        int rows = batch * frames;
        x = maskPadding(x, batch, frames, in, lengths);
        double[] u = new double[rows * k];
        Matmul.multiplyAccumulate(x, p.ex, u, rows, in, k);
        if (p.bu != null) for (int r = 0; r < rows; r++) for (int ch = 0; ch < k; ch++) u[r * k + ch] += p.bu[ch];
        double[] m = LegendreConvolution.forward(ir, u, batch, frames, k, lengths, method);
        double[] a = new double[rows * hid];
        if (p.wx != null) Matmul.multiplyAccumulate(x, p.wx, a, rows, in, hid);
        Matmul.multiplyAccumulate(m, p.wm, a, rows, w, hid);
        Activation f = c.activation();
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < frames; t++) {
                int o = (b * frames + t) * hid;
                if (t >= lengths[b]) {
                    java.util.Arrays.fill(a, o, o + hid, 0);
                    continue;
                }
                for (int j = 0; j < hid; j++) a[o + j] = f.apply(a[o + j] + (p.bh != null ? p.bh[j] : 0));
            }
        }
        return new LmuRecurrent.Saved(a, m);
    }

    /**
     * Backward of {@link #forward}.
     *
     * @param saved what forward returned
     * @param dh gradient with respect to h, shape (B, T, hidden); padded frames ignored
     * @param grads receives parameter gradients with {@code +=}
     * @return dx, shape (B, T, C), zero at padded frames (fresh array)
     */
    public static double[] backward(LmuParameters p, LegendreImpulseResponse ir, double[] x, int batch, int frames,
            int[] lengths, Method method, LmuRecurrent.Saved saved, double[] dh, LmuParameters grads) {
        LmuConfig c = check(p, ir, x, batch, frames, lengths);
        LmuShapes.checkSize("LmuParallel", "dh", "(B, T, hidden)", dh, batch, frames, c.hiddenSize());
        int in = c.inputSize(), hid = c.hiddenSize(), k = c.memoryD(), w = c.memoryWidth();
        int rows = batch * frames;
        x = maskPadding(x, batch, frames, in, lengths);
        double[] h = saved.h();
        Activation f = c.activation();
        double[] dz = new double[rows * hid];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < lengths[b]; t++) {
                int o = (b * frames + t) * hid;
                for (int j = 0; j < hid; j++) dz[o + j] = dh[o + j] * f.derivativeFromOutput(h[o + j]);
            }
        }
        if (grads.bh != null) {
            for (int r = 0; r < rows; r++) for (int j = 0; j < hid; j++) grads.bh[j] += dz[r * hid + j];
        }
        Matmul.multiplyTransposedAAccumulate(saved.m(), dz, grads.wm, rows, w, hid);
        if (grads.wx != null) Matmul.multiplyTransposedAAccumulate(x, dz, grads.wx, rows, in, hid);
        double[] dm = new double[rows * w];
        Matmul.multiplyTransposedBAccumulate(dz, p.wm, dm, rows, hid, w);
        double[] du = LegendreConvolution.backward(ir, dm, batch, frames, k, lengths, method);
        Matmul.multiplyTransposedAAccumulate(x, du, grads.ex, rows, in, k);
        if (grads.bu != null) {
            for (int r = 0; r < rows; r++) for (int ch = 0; ch < k; ch++) grads.bu[ch] += du[r * k + ch];
        }
        double[] dx = new double[rows * in];
        Matmul.multiplyTransposedBAccumulate(du, p.ex, dx, rows, k, in);
        if (p.wx != null) Matmul.multiplyTransposedBAccumulate(dz, p.wx, dx, rows, hid, in);
        for (int b = 0; b < batch; b++) {
            java.util.Arrays.fill(dx, (b * frames + lengths[b]) * in, (b + 1) * frames * in, 0);
        }
        return dx;
    }

    /**
     * x itself when nothing is padded, else a copy with padded frames zeroed, so that whatever they
     * hold (NaN included) cannot reach the weight gradients through a 0·x product.
     */
    static double[] maskPadding(double[] x, int batch, int frames, int width, int[] lengths) {
        boolean padded = false;
        for (int len : lengths) padded |= len < frames;
        if (!padded) return x;
        double[] y = x.clone();
        for (int b = 0; b < batch; b++) {
            java.util.Arrays.fill(y, (b * frames + lengths[b]) * width, (b + 1) * frames * width, 0);
        }
        return y;
    }

    private static LmuConfig check(LmuParameters p, LegendreImpulseResponse ir, double[] x, int batch, int frames,
            int[] lengths) {
        LmuConfig c = p.config();
        if (!c.parallelizable()) {
            throw new IllegalArgumentException("LmuParallel: config must have no hiddenToMemory, memoryToMemory or "
                    + "hiddenToHidden, got " + c);
        }
        if (ir == null) throw new IllegalArgumentException("LmuParallel: ir is null");
        LmuShapes.checkInput("LmuParallel", c, ir.system(), x, batch, frames, lengths);
        return c;
    }
}
