package lmu.nn.lmu;

import lmu.util.Parallel;

/**
 * The recurrent LMU cell run over a padded batch, forward and backward through time, on float64
 * arrays (see {@link LmuConfig} for the equations and {@link LmuParameters} for the weights).
 *
 * <p>Layouts, row-major: x (B, T, C), h (B, T, hidden), m (B, T, K·d) with channel k*d + i.
 * Frames t ≥ lengths[b] are padding: they are never read, h and m there are zero, and the state
 * is not advanced (a sequence ends at its own length). Sequences are independent, so forward runs
 * them in parallel; backward does too, each worker accumulating into its own gradient buffers that
 * are summed at the end.
 */
public final class LmuRecurrent {
    private LmuRecurrent() {}

    /** What forward keeps for backward: outputs h and memory states m. */
    public record Saved(double[] h, double[] m) {}

    /**
     * Runs the cell over every sequence.
     *
     * @param p parameters (their config fixes the sizes)
     * @param ss discretised system of p.config()'s order and θ
     * @param x input, shape (B, T, C); padded frames ignored
     * @param lengths valid frames per sequence, shape (B), each in [0, T]
     * @return h, shape (B, T, hidden), and m, shape (B, T, K·d), zero at padded frames
     * @throws IllegalArgumentException on a size or length mismatch
     */
    public static Saved forward(LmuParameters p, LegendreStateSpace ss, double[] x, int batch, int frames,
            int[] lengths) {
        LmuConfig c = p.config();
        LmuShapes.checkInput("LmuRecurrent", c, ss, x, batch, frames, lengths);
        int hid = c.hiddenSize(), w = c.memoryWidth();
        double[] h = new double[batch * frames * hid];
        double[] m = new double[batch * frames * w];
        Parallel.forRange(batch, b -> forwardSequence(p, ss, x, b, frames, lengths[b], h, m));
        return new Saved(h, m);
    }

    private static void forwardSequence(LmuParameters p, LegendreStateSpace ss, double[] x, int b, int frames,
            int len, double[] h, double[] m) {
        LmuConfig c = p.config();
        int in = c.inputSize(), hid = c.hiddenSize(), k = c.memoryD(), d = c.order(), w = c.memoryWidth();
        double[] aBar = ss.aBarShared(), bBar = ss.bBarShared();
        double[] hPrev = new double[hid], mPrev = new double[w];
        double[] u = new double[k], a = new double[hid];
        for (int t = 0; t < len; t++) {
            int xo = (b * frames + t) * in, ho = (b * frames + t) * hid, mo = (b * frames + t) * w;
            // u = x e_x + h e_h + m e_m + b_u
            if (p.bu != null) System.arraycopy(p.bu, 0, u, 0, k);
            else java.util.Arrays.fill(u, 0);
            axpyRows(x, xo, in, p.ex, k, u);
            if (p.eh != null) axpyRows(hPrev, 0, hid, p.eh, k, u);
            if (p.em != null) axpyRows(mPrev, 0, w, p.em, k, u);
            // m = Ā m_prev + B̄ u, per channel
            for (int ch = 0; ch < k; ch++) {
                int base = ch * d;
                for (int i = 0; i < d; i++) {
                    double s = bBar[i] * u[ch];
                    int row = i * d;
                    for (int j = 0; j < d; j++) s += aBar[row + j] * mPrev[base + j];
                    m[mo + base + i] = s;
                }
            }
            // h = f(x W_x + h W_h + m W_m + b_h)
            if (p.bh != null) System.arraycopy(p.bh, 0, a, 0, hid);
            else java.util.Arrays.fill(a, 0);
            if (p.wx != null) axpyRows(x, xo, in, p.wx, hid, a);
            if (p.wh != null) axpyRows(hPrev, 0, hid, p.wh, hid, a);
            axpyRows(m, mo, w, p.wm, hid, a);
            for (int j = 0; j < hid; j++) h[ho + j] = c.activation().apply(a[j]);
            System.arraycopy(h, ho, hPrev, 0, hid);
            System.arraycopy(m, mo, mPrev, 0, w);
        }
    }

    /**
     * Backward through time.
     *
     * @param p parameters used in forward
     * @param ss system used in forward
     * @param x input of forward, shape (B, T, C)
     * @param lengths as in forward
     * @param saved what forward returned
     * @param dh gradient of the loss with respect to h, shape (B, T, hidden); padded frames ignored
     * @param grads receives parameter gradients with {@code +=} (same config as p)
     * @return dx, shape (B, T, C), zero at padded frames (fresh array: assign, don't accumulate)
     * @throws IllegalArgumentException on a size mismatch
     */
    public static double[] backward(LmuParameters p, LegendreStateSpace ss, double[] x, int batch, int frames,
            int[] lengths, Saved saved, double[] dh, LmuParameters grads) {
        LmuConfig c = p.config();
        LmuShapes.checkInput("LmuRecurrent", c, ss, x, batch, frames, lengths);
        LmuShapes.checkSize("LmuRecurrent", "dh", "(B, T, hidden)", dh, batch, frames, c.hiddenSize());
        if (grads == null || grads.config() != c && !grads.config().equals(c)) {
            throw new IllegalArgumentException("LmuRecurrent: grads must be built for " + c);
        }
        double[] dx = new double[batch * frames * c.inputSize()];
        int workers = Math.max(1, Math.min(batch, Parallel.threads()));
        LmuParameters[] partial = new LmuParameters[workers];
        Parallel.forRange(workers, wk -> {
            LmuParameters g = grads.zerosLike();
            for (int b = wk; b < batch; b += workers) backwardSequence(p, ss, x, b, frames, lengths[b], saved, dh, g, dx);
            partial[wk] = g;
        });
        for (LmuParameters g : partial) grads.addInPlace(g);
        return dx;
    }

    private static void backwardSequence(LmuParameters p, LegendreStateSpace ss, double[] x, int b, int frames,
            int len, Saved saved, double[] dh, LmuParameters g, double[] dx) {
        LmuConfig c = p.config();
        int in = c.inputSize(), hid = c.hiddenSize(), k = c.memoryD(), d = c.order(), w = c.memoryWidth();
        double[] aBar = ss.aBarShared(), bBar = ss.bBarShared();
        double[] h = saved.h(), m = saved.m();
        double[] gh = new double[hid], gm = new double[w];
        double[] dz = new double[hid], dm = new double[w], du = new double[k];
        double[] zeroH = new double[hid], zeroM = new double[w];
        for (int t = len - 1; t >= 0; t--) {
            int xo = (b * frames + t) * in, ho = (b * frames + t) * hid, mo = (b * frames + t) * w;
            double[] hPrevArr = t > 0 ? h : zeroH;
            int hPrevOff = t > 0 ? ho - hid : 0;
            double[] mPrevArr = t > 0 ? m : zeroM;
            int mPrevOff = t > 0 ? mo - w : 0;
            for (int j = 0; j < hid; j++) {
                dz[j] = (dh[ho + j] + gh[j]) * c.activation().derivativeFromOutput(h[ho + j]);
            }
            if (g.bh != null) for (int j = 0; j < hid; j++) g.bh[j] += dz[j];
            if (g.wx != null) outer(x, xo, in, dz, hid, g.wx);
            if (g.wh != null) outer(hPrevArr, hPrevOff, hid, dz, hid, g.wh);
            outer(m, mo, w, dz, hid, g.wm);
            // dm = gm + W_m dz
            for (int q = 0; q < w; q++) dm[q] = gm[q] + dotRow(p.wm, q * hid, dz, hid);
            // du_k = Σ_i B̄_i dm_{k,i}
            for (int ch = 0; ch < k; ch++) {
                double s = 0;
                for (int i = 0; i < d; i++) s += bBar[i] * dm[ch * d + i];
                du[ch] = s;
            }
            if (g.bu != null) for (int ch = 0; ch < k; ch++) g.bu[ch] += du[ch];
            outer(x, xo, in, du, k, g.ex);
            if (g.eh != null) outer(hPrevArr, hPrevOff, hid, du, k, g.eh);
            if (g.em != null) outer(mPrevArr, mPrevOff, w, du, k, g.em);
            // dx = W_x dz + e_x du
            for (int q = 0; q < in; q++) {
                double s = dotRow(p.ex, q * k, du, k);
                if (p.wx != null) s += dotRow(p.wx, q * hid, dz, hid);
                dx[xo + q] = s;
            }
            // gh = W_h dz + e_h du
            for (int q = 0; q < hid; q++) {
                double s = 0;
                if (p.wh != null) s += dotRow(p.wh, q * hid, dz, hid);
                if (p.eh != null) s += dotRow(p.eh, q * k, du, k);
                gh[q] = s;
            }
            // gm = Āᵀ dm (per channel) + e_m du
            for (int ch = 0; ch < k; ch++) {
                int base = ch * d;
                java.util.Arrays.fill(gm, base, base + d, 0);
                for (int i = 0; i < d; i++) {
                    double v = dm[base + i];
                    if (v == 0) continue;
                    int row = i * d;
                    for (int j = 0; j < d; j++) gm[base + j] += aBar[row + j] * v;
                }
            }
            if (p.em != null) for (int q = 0; q < w; q++) gm[q] += dotRow(p.em, q * k, du, k);
        }
    }

    /** out (n) += v[off .. off+rows) · wt (rows, n). */
    static void axpyRows(double[] v, int off, int rows, double[] wt, int n, double[] out) {
        for (int r = 0; r < rows; r++) {
            double s = v[off + r];
            if (s == 0) continue;
            int base = r * n;
            for (int j = 0; j < n; j++) out[j] += s * wt[base + j];
        }
    }

    /** g (rows, n) += v[off .. off+rows) ⊗ dz (n). */
    private static void outer(double[] v, int off, int rows, double[] dz, int n, double[] g) {
        for (int r = 0; r < rows; r++) {
            double s = v[off + r];
            if (s == 0) continue;
            int base = r * n;
            for (int j = 0; j < n; j++) g[base + j] += s * dz[j];
        }
    }

    private static double dotRow(double[] wt, int base, double[] v, int n) {
        double s = 0;
        for (int j = 0; j < n; j++) s += wt[base + j] * v[j];
        return s;
    }
}
