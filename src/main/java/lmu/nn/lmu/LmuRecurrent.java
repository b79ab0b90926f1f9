package lmu.nn.lmu;

import lmu.util.Parallel;

/**
 * The recurrent LMU cell run over a padded batch, forward and backward through time, on float64
 * arrays (see {@link LmuConfig} for the equations and {@link LmuParameters} for the weights).
 *
 * <p>Layouts, row-major: x (B, T, C), h (B, T, hidden), m (B, T, K·d) with channel k*d + i.
 * Frames t ≥ lengths[b] are padding: they are never read, h and m there are zero, and the state
 * is not advanced (a sequence ends at its own length).
 *
 * <p>The work is split as the device kernels split it ({@link lmu.backend.LmuKernels}): forward
 * takes the step-independent products ux = x·e_x + b_u and ax = x·W_x + b_h for all frames at once
 * (matrix products), then runs the recurrence ({@link #cellForward}); backward runs the recurrence
 * backward for the per-frame gradients dz and du ({@link #cellBackward}), and every parameter
 * gradient and dx follow as matrix products. Sequences are independent, so the recurrences run
 * them in parallel.
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
        int in = c.inputSize(), hid = c.hiddenSize(), k = c.memoryD();
        int rows = batch * frames;
        x = LmuParallel.maskPadding(x, batch, frames, in, lengths);
        // the step-independent products: ux = x e_x + b_u, ax = x W_x + b_h
        double[] ux = new double[rows * k];
        Matmul.multiplyAccumulate(x, p.ex, ux, rows, in, k);
        addRowBias(ux, p.bu, rows, k);
        double[] ax = new double[rows * hid];
        if (p.wx != null) Matmul.multiplyAccumulate(x, p.wx, ax, rows, in, hid);
        addRowBias(ax, p.bh, rows, hid);
        return cellForward(ss, c.activation(), ux, ax, p.eh, p.em, p.wh, p.wm, batch, frames, hid, k, lengths);
    }

    /**
     * The recurrence alone, from the step-independent parts ux and ax (see {@link
     * lmu.backend.LmuKernels#recurrentForward} for the equations).
     *
     * @param ss discretised system (order d)
     * @param f activation
     * @param ux x e_x + b_u, shape (B, T, K)
     * @param ax x W_x + b_h, shape (B, T, hidden)
     * @param eh (hidden, K) or null; em (K·d, K) or null; wh (hidden, hidden) or null; wm (K·d, hidden)
     * @param lengths valid frames per sequence, shape (B), each in [0, T]
     * @return h (B, T, hidden) and m (B, T, K·d), zero at padded frames
     * @throws IllegalArgumentException on a size or length mismatch
     */
    public static Saved cellForward(LegendreStateSpace ss, Activation f, double[] ux, double[] ax, double[] eh,
            double[] em, double[] wh, double[] wm, int batch, int frames, int hidden, int channels, int[] lengths) {
        Cell cell = new Cell(ss, f, eh, em, wh, wm, hidden, channels);
        cell.check(batch, frames, lengths);
        LmuShapes.checkSize("LmuRecurrent", "ux", "(B, T, K)", ux, batch, frames, channels);
        LmuShapes.checkSize("LmuRecurrent", "ax", "(B, T, hidden)", ax, batch, frames, hidden);
        double[] h = new double[batch * frames * hidden];
        double[] m = new double[batch * frames * cell.w];
        double[] aBarT = Matmul.transpose(ss.aBarShared(), cell.d, cell.d);
        Parallel.forRange(batch, b -> cell.forwardSequence(aBarT, ux, ax, b, frames, lengths[b], h, m));
        return new Saved(h, m);
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
        int in = c.inputSize(), hid = c.hiddenSize(), k = c.memoryD(), w = c.memoryWidth();
        int rows = batch * frames;
        x = LmuParallel.maskPadding(x, batch, frames, in, lengths);
        CellGradients cg = cellBackward(ss, c.activation(), dh, saved.h(), p.eh, p.em, p.wh, p.wm, batch, frames, hid, k,
                lengths);
        double[] dz = cg.dz(), du = cg.du();
        // every weight gradient is a product of a forward quantity with dz or du (both zero at padded frames)
        if (grads.bh != null) addColumnSums(dz, grads.bh, rows, hid);
        if (grads.bu != null) addColumnSums(du, grads.bu, rows, k);
        Matmul.multiplyTransposedAAccumulate(saved.m(), dz, grads.wm, rows, w, hid);
        if (grads.wx != null) Matmul.multiplyTransposedAAccumulate(x, dz, grads.wx, rows, in, hid);
        Matmul.multiplyTransposedAAccumulate(x, du, grads.ex, rows, in, k);
        if (grads.wh != null || grads.eh != null) {
            double[] hPrev = previousFrame(saved.h(), batch, frames, hid);
            if (grads.wh != null) Matmul.multiplyTransposedAAccumulate(hPrev, dz, grads.wh, rows, hid, hid);
            if (grads.eh != null) Matmul.multiplyTransposedAAccumulate(hPrev, du, grads.eh, rows, hid, k);
        }
        if (grads.em != null) {
            Matmul.multiplyTransposedAAccumulate(previousFrame(saved.m(), batch, frames, w), du, grads.em, rows, w, k);
        }
        double[] dx = new double[rows * in];
        Matmul.multiplyTransposedBAccumulate(du, p.ex, dx, rows, k, in);
        if (p.wx != null) Matmul.multiplyTransposedBAccumulate(dz, p.wx, dx, rows, hid, in);
        return dx;
    }

    /** Gradients of the recurrence alone: dz (B, T, hidden) and du (B, T, K), zero at padded frames. */
    public record CellGradients(double[] dz, double[] du) {}

    /**
     * Backward through time of {@link #cellForward} (see {@link
     * lmu.backend.LmuKernels#recurrentBackward}): dz = dL/d(ax) and du = dL/d(ux) at every frame.
     *
     * @param dh gradient with respect to h, shape (B, T, hidden); padded frames ignored
     * @param h the forward's h, shape (B, T, hidden)
     * @throws IllegalArgumentException on a size or length mismatch
     */
    public static CellGradients cellBackward(LegendreStateSpace ss, Activation f, double[] dh, double[] h, double[] eh,
            double[] em, double[] wh, double[] wm, int batch, int frames, int hidden, int channels, int[] lengths) {
        Cell cell = new Cell(ss, f, eh, em, wh, wm, hidden, channels);
        cell.check(batch, frames, lengths);
        LmuShapes.checkSize("LmuRecurrent", "dh", "(B, T, hidden)", dh, batch, frames, hidden);
        LmuShapes.checkSize("LmuRecurrent", "h", "(B, T, hidden)", h, batch, frames, hidden);
        double[] dz = new double[batch * frames * hidden];
        double[] du = new double[batch * frames * channels];
        Cell.Transposed tr = cell.transposed();
        Parallel.forRange(batch, b -> cell.backwardSequence(tr, dh, h, b, frames, lengths[b], dz, du));
        return new CellGradients(dz, du);
    }

    /** a shifted one frame later within each sequence: out[b, t] = a[b, t − 1], out[b, 0] = 0. */
    static double[] previousFrame(double[] a, int batch, int frames, int width) {
        double[] out = new double[a.length];
        for (int b = 0; b < batch; b++) {
            int base = b * frames * width;
            System.arraycopy(a, base, out, base + width, (frames - 1) * width);
        }
        return out;
    }

    private static void addRowBias(double[] a, double[] bias, int rows, int n) {
        if (bias == null) return;
        for (int r = 0; r < rows; r++) for (int j = 0; j < n; j++) a[r * n + j] += bias[j];
    }

    private static void addColumnSums(double[] a, double[] out, int rows, int n) {
        for (int r = 0; r < rows; r++) for (int j = 0; j < n; j++) out[j] += a[r * n + j];
    }

    /** The step-dependent weights and sizes of one recurrence, with its per-sequence loops. */
    private static final class Cell {
        final LegendreStateSpace ss;
        final Activation f;
        final double[] eh, em, wh, wm;
        final int hid, k, d, w;

        Cell(LegendreStateSpace ss, Activation f, double[] eh, double[] em, double[] wh, double[] wm, int hidden,
                int channels) {
            if (ss == null || f == null) throw new IllegalArgumentException("LmuRecurrent: system and activation must be set");
            if (hidden <= 0 || channels <= 0) {
                throw new IllegalArgumentException("LmuRecurrent: hidden and channels must be > 0, got " + hidden + ", "
                        + channels);
            }
            this.ss = ss;
            this.f = f;
            this.eh = eh;
            this.em = em;
            this.wh = wh;
            this.wm = wm;
            this.hid = hidden;
            this.k = channels;
            this.d = ss.order();
            this.w = channels * d;
            weight("eh", "(hidden, K)", eh, false, hid * k);
            weight("em", "(K*d, K)", em, false, w * k);
            weight("wh", "(hidden, hidden)", wh, false, hid * hid);
            weight("wm", "(K*d, hidden)", wm, true, w * hid);
        }

        private static void weight(String name, String layout, double[] a, boolean required, int n) {
            if (a == null && !required) return;
            if (a == null || a.length != n) {
                throw new IllegalArgumentException("LmuRecurrent: " + name + " must have shape " + layout + " (" + n
                        + " values), got " + (a == null ? "null" : a.length + " values"));
            }
        }

        void check(int batch, int frames, int[] lengths) {
            if (batch <= 0 || frames <= 0) {
                throw new IllegalArgumentException("LmuRecurrent: batch and frames must be > 0, got B=" + batch + ", T="
                        + frames);
            }
            if (lengths == null || lengths.length != batch) {
                throw new IllegalArgumentException("LmuRecurrent: lengths must have shape (B) = [" + batch + "], got "
                        + (lengths == null ? "null" : "[" + lengths.length + "]"));
            }
            for (int b = 0; b < batch; b++) {
                if (lengths[b] < 0 || lengths[b] > frames) {
                    throw new IllegalArgumentException("LmuRecurrent: lengths[" + b + "] must be in [0, " + frames
                            + "], got " + lengths[b]);
                }
            }
        }

        void forwardSequence(double[] aBarT, double[] ux, double[] ax, int b, int frames, int len, double[] h,
                double[] m) {
            double[] bBar = ss.bBarShared();
            double[] hPrev = new double[hid], mPrev = new double[w];
            double[] u = new double[k], a = new double[hid];
            for (int t = 0; t < len; t++) {
                int row = b * frames + t, ho = row * hid, mo = row * w;
                // u = ux + h e_h + m e_m
                System.arraycopy(ux, row * k, u, 0, k);
                if (eh != null) axpyRows(hPrev, 0, hid, eh, k, u);
                if (em != null) axpyRows(mPrev, 0, w, em, k, u);
                // m = Ā m_prev + B̄ u, per channel, as Σ_j m_prev[j]·(row j of Āᵀ) so the inner loop is an axpy
                for (int ch = 0; ch < k; ch++) {
                    int base = mo + ch * d;
                    for (int i = 0; i < d; i++) m[base + i] = bBar[i] * u[ch];
                    for (int j = 0; j < d; j++) {
                        double v = mPrev[ch * d + j];
                        if (v == 0) continue;
                        int r = j * d;
                        for (int i = 0; i < d; i++) m[base + i] += v * aBarT[r + i];
                    }
                }
                // h = f(ax + h W_h + m W_m)
                System.arraycopy(ax, ho, a, 0, hid);
                if (wh != null) axpyRows(hPrev, 0, hid, wh, hid, a);
                axpyRows(m, mo, w, wm, hid, a);
                for (int j = 0; j < hid; j++) h[ho + j] = f.apply(a[j]);
                System.arraycopy(h, ho, hPrev, 0, hid);
                System.arraycopy(m, mo, mPrev, 0, w);
            }
        }

        /**
         * Transposed copies of the weights, (fan_out, fan_in), so that every product in backward is
         * an axpy over a contiguous row (vectorised by the JIT) rather than a dot-product reduction.
         */
        record Transposed(double[] eh, double[] em, double[] wh, double[] wm) {}

        Transposed transposed() {
            return new Transposed(eh == null ? null : Matmul.transpose(eh, hid, k),
                    em == null ? null : Matmul.transpose(em, w, k), wh == null ? null : Matmul.transpose(wh, hid, hid),
                    Matmul.transpose(wm, w, hid));
        }

        void backwardSequence(Transposed tr, double[] dh, double[] h, int b, int frames, int len, double[] dzOut,
                double[] duOut) {
            double[] aBar = ss.aBarShared(), bBar = ss.bBarShared();
            double[] gh = new double[hid], gm = new double[w];
            double[] dm = new double[w];
            for (int t = len - 1; t >= 0; t--) {
                int row = b * frames + t, ho = row * hid, uo = row * k;
                // dz = (dh + gh) f'(h), written in place in the output
                for (int j = 0; j < hid; j++) dzOut[ho + j] = (dh[ho + j] + gh[j]) * f.derivativeFromOutput(h[ho + j]);
                // dm = gm + W_m dz
                System.arraycopy(gm, 0, dm, 0, w);
                axpyRows(dzOut, ho, hid, tr.wm(), w, dm);
                // du_k = Σ_i B̄_i dm_{k,i}
                for (int ch = 0; ch < k; ch++) {
                    double s = 0;
                    for (int i = 0; i < d; i++) s += bBar[i] * dm[ch * d + i];
                    duOut[uo + ch] = s;
                }
                // gh = W_h dz + e_h du
                java.util.Arrays.fill(gh, 0);
                if (tr.wh() != null) axpyRows(dzOut, ho, hid, tr.wh(), hid, gh);
                if (tr.eh() != null) axpyRows(duOut, uo, k, tr.eh(), hid, gh);
                // gm = Āᵀ dm (per channel) + e_m du
                for (int ch = 0; ch < k; ch++) {
                    int base = ch * d;
                    java.util.Arrays.fill(gm, base, base + d, 0);
                    for (int i = 0; i < d; i++) {
                        double v = dm[base + i];
                        if (v == 0) continue;
                        int r = i * d;
                        for (int j = 0; j < d; j++) gm[base + j] += aBar[r + j] * v;
                    }
                }
                if (tr.em() != null) axpyRows(duOut, uo, k, tr.em(), w, gm);
            }
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
}
