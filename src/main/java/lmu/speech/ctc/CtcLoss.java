package lmu.speech.ctc;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import lmu.util.Parallel;

/**
 * CTC loss (Graves et al. 2006) with log-softmax fused in: it takes raw <b>logits</b>, not
 * log-probabilities, and its gradient is taken with respect to those logits. (Log-probabilities
 * also give the right loss and, through the caller's log-softmax, the right gradient, since
 * log-softmax is idempotent; the second log-softmax is merely redundant work.)
 *
 * <h2>Layout</h2>
 *
 * Logits are one row-major array; the last dimension (V, blank at index 0) is contiguous. The engine's
 * models produce {@link Layout#BATCH_MAJOR} {@code (B, T, V)}: element {@code [b][t][v]} sits at
 * {@code (b * T + t) * V + v}. PyTorch's {@code ctc_loss} takes time-major {@code (T, B, V)}; that is
 * {@link Layout#TIME_MAJOR}, element {@code [t][b][v]} at {@code (t * B + b) * V + v}. The gradient
 * array always has the same layout and length as the logits. Targets are padded, shape {@code (B, L)}
 * row-major ({@code targets[b * L + i]}, {@code L = targets.length / B}); only the first
 * {@code targetLengths[b]} entries of a row are read, the padding may hold anything.
 *
 * <h2>Loss and reductions</h2>
 *
 * Per utterance the loss is {@code -log p(y_b | x_b)} over its first {@code inputLengths[b]} frames.
 * {@link Reduction#MEAN} divides each loss by its target length (at least 1) and averages over the
 * batch, exactly as PyTorch's {@code reduction='mean'}; {@link Reduction#SUM} adds them; {@link
 * Reduction#NONE} keeps them per utterance.
 *
 * <h2>Infeasible utterances</h2>
 *
 * An alignment needs at least {@code L_b + R_b} frames, R_b being the number of adjacent equal labels
 * (a blank must separate them). An utterance with fewer frames has probability 0: its loss is
 * {@code +inf} and its gradient NaN (as in PyTorch), or both 0 with {@code zeroInfinity}. Either way
 * the {@link Result} lists it in {@link Result#infeasible()} with a readable {@link
 * Result#infeasibleReport()}, and a warning is logged; {@link #checkFeasible} throws instead, for data
 * pipelines that want to reject such utterances up front.
 *
 * <h2>Numerics</h2>
 *
 * Input and output are float32 ({@code float[]}) or float64 ({@code double[]}); both run the same
 * double-precision code. The forward–backward recursions run in probability space with each time
 * step rescaled to sum 1 (Rabiner's scaling), which needs no {@code exp}/{@code log} per lattice cell;
 * if a rescaled row or the state occupancy ever falls below {@code 1e-250} (probabilities that
 * differ by more than ~575 nats, or NaN input), that utterance is recomputed by the log-space
 * recursion, which is also available on its own through {@link #withLogSpace(boolean)} as the
 * reference. Utterances run in parallel.
 *
 * <pre>
 * jshell> var ctc = new CtcLoss(CtcLoss.Layout.BATCH_MAJOR, CtcLoss.Reduction.MEAN, false);
 * jshell> float[] dLogits = new float[logits.length];
 * jshell> var r = ctc.forwardBackward(logits, new int[] {B, T, V}, inLens, targets, tgtLens, dLogits, null);
 * jshell> r.loss()
 * </pre>
 */
public final class CtcLoss {

    /** Memory layout of the logits and their gradient. */
    public enum Layout {
        /** Shape (B, T, V): what the engine's models produce. */
        BATCH_MAJOR("(B, T, V)"),
        /** Shape (T, B, V): PyTorch's layout for {@code ctc_loss}. */
        TIME_MAJOR("(T, B, V)");

        private final String shape;

        Layout(String shape) {
            this.shape = shape;
        }

        /** The shape in dimension letters, e.g. {@code "(B, T, V)"}. */
        public String shape() {
            return shape;
        }
    }

    /** How per-utterance losses are combined. */
    public enum Reduction {
        /** Each loss divided by its target length (clamped to at least 1), then the batch mean. */
        MEAN,
        /** Sum over the batch. */
        SUM,
        /** One loss per utterance. */
        NONE
    }

    /** A rescaled row below this is taken as underflow and the utterance goes to the log-space path. */
    static final double TINY = 1e-250;

    private static final System.Logger LOG = System.getLogger(CtcLoss.class.getName());
    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    private final Layout layout;
    private final Reduction reduction;
    private final boolean zeroInfinity;
    private final boolean logSpace;

    /**
     * @param layout layout of the logits and gradient
     * @param reduction how losses are combined
     * @param zeroInfinity whether infeasible utterances get loss 0 and gradient 0 (else +inf and NaN)
     */
    public CtcLoss(Layout layout, Reduction reduction, boolean zeroInfinity) {
        this(layout, reduction, zeroInfinity, false);
    }

    private CtcLoss(Layout layout, Reduction reduction, boolean zeroInfinity, boolean logSpace) {
        if (layout == null || reduction == null) {
            throw new IllegalArgumentException("CtcLoss: layout and reduction must not be null, got " + layout + ", " + reduction);
        }
        this.layout = layout;
        this.reduction = reduction;
        this.zeroInfinity = zeroInfinity;
        this.logSpace = logSpace;
    }

    /** The engine default: (B, T, V), mean reduction, infinite losses kept. */
    public static CtcLoss batchMajor() {
        return new CtcLoss(Layout.BATCH_MAJOR, Reduction.MEAN, false);
    }

    /** A copy with another reduction. */
    public CtcLoss withReduction(Reduction r) {
        return new CtcLoss(layout, r, zeroInfinity, logSpace);
    }

    /** A copy with another {@code zeroInfinity} setting. */
    public CtcLoss withZeroInfinity(boolean z) {
        return new CtcLoss(layout, reduction, z, logSpace);
    }

    /**
     * A copy that always runs the log-space recursion (one log-sum-exp per lattice cell). Same
     * results to rounding, several times slower: meant as a reference.
     */
    public CtcLoss withLogSpace(boolean on) {
        return new CtcLoss(layout, reduction, zeroInfinity, on);
    }

    public Layout layout() {
        return layout;
    }

    public Reduction reduction() {
        return reduction;
    }

    public boolean zeroInfinity() {
        return zeroInfinity;
    }

    // ------------------------------------------------------------------------------------------
    // entry points

    /**
     * Loss only.
     *
     * @param logits unnormalised scores, shape {@code shape} in this loss's {@link Layout}
     * @param shape dimensions of {@code logits} in layout order: {@code {B, T, V}} or {@code {T, B, V}}
     * @param inputLengths valid frames per utterance, shape (B), each in [0, T]
     * @param targets padded labels, shape (B, L), labels in [1, V)
     * @param targetLengths labels per utterance, shape (B), each in [0, L]
     * @return per-utterance and reduced losses, and the infeasible utterances
     * @throws IllegalArgumentException on a shape, length or label error, naming the argument
     */
    public Result forward(float[] logits, int[] shape, int[] inputLengths, int[] targets, int[] targetLengths) {
        Problem p = validate(logits == null ? -1 : logits.length, shape, inputLengths, targets, targetLengths);
        return run(new FloatIo(p, logits, null, null, reduction), p, inputLengths, targets, targetLengths, false);
    }

    /**
     * Loss and its gradient with respect to the logits, in one pass.
     *
     * @param logits unnormalised scores, shape {@code shape} in this loss's {@link Layout}
     * @param shape dimensions of {@code logits} in layout order: {@code {B, T, V}} or {@code {T, B, V}}
     * @param inputLengths valid frames per utterance, shape (B), each in [0, T]
     * @param targets padded labels, shape (B, L), labels in [1, V)
     * @param targetLengths labels per utterance, shape (B), each in [0, L]
     * @param dLogits receives (overwritten, not added to) d(loss)/d(logits), same layout and length as
     *     {@code logits}; frames past an utterance's input length get 0
     * @param gradOut upstream gradient: null means 1; length 1 for MEAN and SUM, length B for NONE
     * @return per-utterance and reduced losses, and the infeasible utterances
     * @throws IllegalArgumentException on a shape, length or label error, naming the argument
     */
    public Result forwardBackward(float[] logits, int[] shape, int[] inputLengths, int[] targets, int[] targetLengths,
            float[] dLogits, float[] gradOut) {
        Problem p = validate(logits == null ? -1 : logits.length, shape, inputLengths, targets, targetLengths);
        checkGradArgs(p, dLogits == null ? -1 : dLogits.length, gradOut == null ? -1 : gradOut.length);
        return run(new FloatIo(p, logits, dLogits, gradOut, reduction), p, inputLengths, targets, targetLengths, true);
    }

    /** {@link #forward(float[], int[], int[], int[], int[])} in float64. */
    public Result forward(double[] logits, int[] shape, int[] inputLengths, int[] targets, int[] targetLengths) {
        Problem p = validate(logits == null ? -1 : logits.length, shape, inputLengths, targets, targetLengths);
        return run(new DoubleIo(p, logits, null, null, reduction), p, inputLengths, targets, targetLengths, false);
    }

    /**
     * {@link #forwardBackward(float[], int[], int[], int[], int[], float[], float[])} in float64, for
     * finite-difference checks.
     */
    public Result forwardBackward(double[] logits, int[] shape, int[] inputLengths, int[] targets, int[] targetLengths,
            double[] dLogits, double[] gradOut) {
        Problem p = validate(logits == null ? -1 : logits.length, shape, inputLengths, targets, targetLengths);
        checkGradArgs(p, dLogits == null ? -1 : dLogits.length, gradOut == null ? -1 : gradOut.length);
        return run(new DoubleIo(p, logits, dLogits, gradOut, reduction), p, inputLengths, targets, targetLengths, true);
    }

    // ------------------------------------------------------------------------------------------
    // feasibility

    /**
     * Minimum number of frames that can emit {@code labels[off .. off+len)}: the label count plus the
     * number of adjacent equal labels.
     */
    public static int requiredFrames(int[] labels, int off, int len) {
        return len + repeats(labels, off, len);
    }

    private static int repeats(int[] labels, int off, int len) {
        int r = 0;
        for (int i = 1; i < len; i++) {
            if (labels[off + i] == labels[off + i - 1]) r++;
        }
        return r;
    }

    /**
     * Throws unless every utterance has enough frames for its labels.
     *
     * @param inputLengths frames per utterance, shape (B)
     * @param targets padded labels, shape (B, L)
     * @param targetLengths labels per utterance, shape (B)
     * @throws IllegalArgumentException naming each infeasible utterance with its input length, label
     *     length and number of adjacent repeats
     */
    public static void checkFeasible(int[] inputLengths, int[] targets, int[] targetLengths) {
        if (inputLengths == null || targets == null || targetLengths == null) {
            throw new IllegalArgumentException("CtcLoss: inputLengths, targets and targetLengths must not be null");
        }
        int b = inputLengths.length;
        if (targetLengths.length != b || b == 0 || targets.length % b != 0) {
            throw new IllegalArgumentException("CtcLoss: expected inputLengths (B), targets (B, L), targetLengths (B) with B > 0, got lengths "
                    + inputLengths.length + ", " + targets.length + ", " + targetLengths.length);
        }
        int l = targets.length / b;
        List<String> bad = new ArrayList<>();
        for (int i = 0; i < b; i++) {
            if (targetLengths[i] < 0 || targetLengths[i] > l) {
                throw new IllegalArgumentException("CtcLoss: targetLengths[" + i + "] = " + targetLengths[i] + " outside [0, L=" + l + "]");
            }
            if (inputLengths[i] < requiredFrames(targets, i * l, targetLengths[i])) {
                bad.add(describeInfeasible(i, inputLengths[i], targetLengths[i], repeats(targets, i * l, targetLengths[i])));
            }
        }
        if (!bad.isEmpty()) {
            throw new IllegalArgumentException("CtcLoss: " + bad.size() + " infeasible utterance(s): " + String.join("; ", bad));
        }
    }

    static String describeInfeasible(int b, int frames, int labels, int repeats) {
        return "utterance " + b + ": input length " + frames + " < label length " + labels + " + " + repeats
                + " adjacent repeats = " + (labels + repeats) + " frames needed";
    }

    // ------------------------------------------------------------------------------------------
    // validation

    private record Problem(int t, int b, int v, int l, int strideB, int strideT) {
        int base(int utt, int frame) {
            return utt * strideB + frame * strideT;
        }
    }

    private Problem validate(int length, int[] shape, int[] inputLengths, int[] targets, int[] targetLengths) {
        if (length < 0) throw new IllegalArgumentException("CtcLoss: logits must not be null");
        if (shape == null || shape.length != 3 || shape[0] <= 0 || shape[1] <= 0 || shape[2] <= 0) {
            throw new IllegalArgumentException("CtcLoss: logits must have shape " + layout.shape() + " with positive dimensions, got "
                    + Arrays.toString(shape));
        }
        long n = (long) shape[0] * shape[1] * shape[2];
        if (n != length) {
            throw new IllegalArgumentException("CtcLoss: logits of shape " + layout.shape() + " = " + Arrays.toString(shape) + " need "
                    + n + " elements, got " + length);
        }
        int t = layout == Layout.BATCH_MAJOR ? shape[1] : shape[0];
        int b = layout == Layout.BATCH_MAJOR ? shape[0] : shape[1];
        int v = shape[2];
        if (inputLengths == null || inputLengths.length != b) {
            throw new IllegalArgumentException("CtcLoss: inputLengths must have shape (B) = (" + b + "), got "
                    + (inputLengths == null ? "null" : "(" + inputLengths.length + ")"));
        }
        if (targetLengths == null || targetLengths.length != b) {
            throw new IllegalArgumentException("CtcLoss: targetLengths must have shape (B) = (" + b + "), got "
                    + (targetLengths == null ? "null" : "(" + targetLengths.length + ")"));
        }
        if (targets == null || targets.length % b != 0) {
            throw new IllegalArgumentException("CtcLoss: targets must have shape (B, L) with B = " + b + ", got "
                    + (targets == null ? "null" : targets.length + " elements, not a multiple of " + b));
        }
        int l = targets.length / b;
        for (int i = 0; i < b; i++) {
            if (inputLengths[i] < 0 || inputLengths[i] > t) {
                throw new IllegalArgumentException("CtcLoss: inputLengths[" + i + "] = " + inputLengths[i] + " outside [0, T=" + t + "]");
            }
            if (targetLengths[i] < 0 || targetLengths[i] > l) {
                throw new IllegalArgumentException("CtcLoss: targetLengths[" + i + "] = " + targetLengths[i] + " outside [0, L=" + l + "]");
            }
            for (int j = 0; j < targetLengths[i]; j++) {
                int y = targets[i * l + j];
                if (y == 0) {
                    throw new IllegalArgumentException("CtcLoss: targets[" + i + "][" + j + "] = 0 is the blank, which cannot be a label");
                }
                if (y < 0 || y >= v) {
                    throw new IllegalArgumentException("CtcLoss: targets[" + i + "][" + j + "] = " + y + " outside the labels [1, V=" + v + ")");
                }
            }
        }
        return layout == Layout.BATCH_MAJOR ? new Problem(t, b, v, l, t * v, v) : new Problem(t, b, v, l, v, b * v);
    }

    private void checkGradArgs(Problem p, int dLength, int gLength) {
        int n = p.t() * p.b() * p.v();
        if (dLength != n) {
            throw new IllegalArgumentException("CtcLoss: dLogits must have the logits' " + n + " elements, got "
                    + (dLength < 0 ? "null" : dLength));
        }
        int want = reduction == Reduction.NONE ? p.b() : 1;
        if (gLength >= 0 && gLength != want) {
            throw new IllegalArgumentException("CtcLoss: gradOut must have shape (" + want + ") for reduction " + reduction + ", got ("
                    + gLength + ")");
        }
    }

    // ------------------------------------------------------------------------------------------
    // batch driver

    private Result run(Io io, Problem p, int[] inputLengths, int[] targets, int[] targetLengths, boolean grad) {
        int nb = p.b();
        double[] losses = new double[nb];
        String[] infeasible = new String[nb];
        boolean[] fellBack = new boolean[nb];
        Parallel.forRange(nb, b -> {
            int tb = inputLengths[b];
            int lb = targetLengths[b];
            int lOff = b * p.l();
            double scale = grad ? io.gradScale(b, lb) : 0;
            if (grad) {
                for (int t = tb; t < p.t(); t++) io.fill(p.base(b, t), 0.0);
            }
            int rep = repeats(targets, lOff, lb);
            if (tb < lb + rep) {
                infeasible[b] = describeInfeasible(b, tb, lb, rep);
                losses[b] = zeroInfinity ? 0.0 : Double.POSITIVE_INFINITY;
                if (grad) {
                    for (int t = 0; t < tb; t++) io.fill(p.base(b, t), zeroInfinity ? 0.0 : Double.NaN);
                }
                return;
            }
            if (tb == 0) { // and lb == 0: the empty labelling over zero frames has probability 1
                losses[b] = 0.0;
                return;
            }
            Workspace ws = WORKSPACE.get();
            ws.prepare(io, b, tb, targets, lOff, lb);
            double loss = logSpace ? Double.NaN : ws.scaled(io, b, grad, scale);
            if (Double.isNaN(loss)) {
                fellBack[b] = !logSpace;
                loss = ws.logSpace(io, b, grad, scale);
            }
            losses[b] = loss;
        });
        int fallbacks = 0;
        for (int b = 0; b < nb; b++) {
            if (fellBack[b]) fallbacks++;
        }
        return result(losses, infeasible, fallbacks, targetLengths);
    }

    /**
     * The {@link Result} of per-utterance losses computed elsewhere (a device's CTC kernel, see
     * {@code lmu.backend.CtcKernels}): infeasible utterances found from the lengths and labels as
     * {@link #forward} finds them, the reduction of this loss, the same warning.
     *
     * @param losses per-utterance losses, shape (B): +inf (0 with zeroInfinity) where infeasible
     * @param inputLengths valid frames per utterance, shape (B)
     * @param targets padded labels, shape (B, L)
     * @param targetLengths labels per utterance, shape (B)
     * @throws IllegalArgumentException if the arrays do not have B, B·L and B entries
     */
    public Result resultOf(double[] losses, int[] inputLengths, int[] targets, int[] targetLengths) {
        int nb = losses == null ? 0 : losses.length;
        if (nb == 0 || inputLengths == null || inputLengths.length != nb || targetLengths == null
                || targetLengths.length != nb || targets == null || targets.length % nb != 0) {
            throw new IllegalArgumentException("CtcLoss.resultOf: expected losses (B), inputLengths (B), targets (B, L), "
                    + "targetLengths (B) with B > 0, got lengths " + (losses == null ? "null" : losses.length) + ", "
                    + (inputLengths == null ? "null" : inputLengths.length) + ", " + (targets == null ? "null" : targets.length)
                    + ", " + (targetLengths == null ? "null" : targetLengths.length));
        }
        int l = targets.length / nb;
        String[] infeasible = new String[nb];
        for (int b = 0; b < nb; b++) {
            int rep = repeats(targets, b * l, targetLengths[b]);
            if (inputLengths[b] < targetLengths[b] + rep) {
                infeasible[b] = describeInfeasible(b, inputLengths[b], targetLengths[b], rep);
            }
        }
        return result(losses.clone(), infeasible, 0, targetLengths);
    }

    /**
     * Checks the arguments of a call as {@link #forward} does, without computing anything (for
     * devices that compute the loss elsewhere and must check before a launch).
     *
     * @param shape dimensions of the logits in layout order: {@code {B, T, V}} or {@code {T, B, V}}
     * @throws IllegalArgumentException on a shape, length or label error, naming the argument
     */
    public void check(int[] shape, int[] inputLengths, int[] targets, int[] targetLengths) {
        long n = shape == null || shape.length != 3 ? -1 : (long) shape[0] * shape[1] * shape[2];
        validate(n >= 0 && n <= Integer.MAX_VALUE ? (int) n : 0, shape, inputLengths, targets, targetLengths);
    }

    private Result result(double[] losses, String[] infeasible, int fallbacks, int[] targetLengths) {
        int nb = losses.length;
        List<Integer> bad = new ArrayList<>();
        List<String> report = new ArrayList<>();
        for (int b = 0; b < nb; b++) {
            if (infeasible[b] != null) {
                bad.add(b);
                report.add(infeasible[b]);
            }
        }
        String reportText = String.join("; ", report);
        if (!bad.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "CtcLoss: " + bad.size() + " infeasible utterance(s), loss set to "
                    + (zeroInfinity ? "0 (zeroInfinity)" : "+inf") + ": " + reportText);
        }
        double reduced;
        if (reduction == Reduction.NONE) {
            reduced = Double.NaN;
        } else {
            double s = 0;
            for (int b = 0; b < nb; b++) {
                s += reduction == Reduction.MEAN ? losses[b] / Math.max(targetLengths[b], 1) : losses[b];
            }
            reduced = reduction == Reduction.MEAN ? s / nb : s;
        }
        return new Result(reduction, losses, reduced, bad.stream().mapToInt(Integer::intValue).toArray(), reportText, fallbacks);
    }

    /** Losses of one call. */
    public static final class Result {
        private final Reduction reduction;
        private final double[] losses;
        private final double loss;
        private final int[] infeasible;
        private final String infeasibleReport;
        private final int logSpaceFallbacks;

        Result(Reduction reduction, double[] losses, double loss, int[] infeasible, String infeasibleReport, int logSpaceFallbacks) {
            this.reduction = reduction;
            this.losses = losses;
            this.loss = loss;
            this.infeasible = infeasible;
            this.infeasibleReport = infeasibleReport;
            this.logSpaceFallbacks = logSpaceFallbacks;
        }

        /**
         * The reduced loss (MEAN or SUM).
         *
         * @throws IllegalStateException with reduction NONE; use {@link #losses()}
         */
        public double loss() {
            if (reduction == Reduction.NONE) {
                throw new IllegalStateException("CtcLoss.Result: reduction NONE has no reduced loss; use losses()");
            }
            return loss;
        }

        /**
         * Per-utterance {@code -log p(y|x)}, shape (B), before any division by target length; +inf (or
         * 0 with zeroInfinity) for infeasible utterances.
         */
        public double[] losses() {
            return losses.clone();
        }

        /** Indices of the utterances with too few frames for their labels, ascending. */
        public int[] infeasible() {
            return infeasible.clone();
        }

        /** One line per infeasible utterance (index, input length, label length, repeats); empty if none. */
        public String infeasibleReport() {
            return infeasibleReport;
        }

        /** How many utterances underflowed in the rescaled recursion and were recomputed in log space. */
        public int logSpaceFallbacks() {
            return logSpaceFallbacks;
        }
    }

    // ------------------------------------------------------------------------------------------
    // float32 / float64 adapters: the algorithm reads and writes whole frames through these

    private abstract static class Io {
        final Problem p;
        final Reduction reduction;

        Io(Problem p, Reduction reduction) {
            this.p = p;
            this.reduction = reduction;
        }

        /** Copies the V logits at {@code base} into {@code dst[dstOff..]}. */
        abstract void load(int base, double[] dst, int dstOff);

        /** {@code dLogits[base + v] = src[srcOff + v] * scale}. */
        abstract void store(int base, double[] src, int srcOff, double scale);

        /** {@code dLogits[base + v] = value}. */
        abstract void fill(int base, double value);

        abstract double gradOut(int b);

        /** Upstream gradient times d(reduced loss)/d(loss_b). */
        double gradScale(int b, int lb) {
            double r = reduction == Reduction.MEAN ? 1.0 / ((double) Math.max(lb, 1) * p.b()) : 1.0;
            return r * gradOut(b);
        }
    }

    private static final class FloatIo extends Io {
        private final float[] x;
        private final float[] dx;
        private final float[] g;

        FloatIo(Problem p, float[] x, float[] dx, float[] g, Reduction reduction) {
            super(p, reduction);
            this.x = x;
            this.dx = dx;
            this.g = g;
        }

        @Override
        void load(int base, double[] dst, int dstOff) {
            for (int v = 0; v < p.v(); v++) dst[dstOff + v] = x[base + v];
        }

        @Override
        void store(int base, double[] src, int srcOff, double scale) {
            for (int v = 0; v < p.v(); v++) dx[base + v] = (float) (src[srcOff + v] * scale);
        }

        @Override
        void fill(int base, double value) {
            Arrays.fill(dx, base, base + p.v(), (float) value);
        }

        @Override
        double gradOut(int b) {
            return g == null ? 1.0 : g[g.length == 1 ? 0 : b];
        }
    }

    private static final class DoubleIo extends Io {
        private final double[] x;
        private final double[] dx;
        private final double[] g;

        DoubleIo(Problem p, double[] x, double[] dx, double[] g, Reduction reduction) {
            super(p, reduction);
            this.x = x;
            this.dx = dx;
            this.g = g;
        }

        @Override
        void load(int base, double[] dst, int dstOff) {
            System.arraycopy(x, base, dst, dstOff, p.v());
        }

        @Override
        void store(int base, double[] src, int srcOff, double scale) {
            for (int v = 0; v < p.v(); v++) dx[base + v] = src[srcOff + v] * scale;
        }

        @Override
        void fill(int base, double value) {
            Arrays.fill(dx, base, base + p.v(), value);
        }

        @Override
        double gradOut(int b) {
            return g == null ? 1.0 : g[g.length == 1 ? 0 : b];
        }
    }

    // ------------------------------------------------------------------------------------------
    // one utterance

    /**
     * Per-thread buffers for one utterance. Extended label sequence {@code ext} of length S = 2L+1:
     * blanks at even positions, label i at position 2i+1; {@code skip[s]} is 1 where state s may be
     * entered from s-2 (a label different from the label two states back).
     */
    private static final class Workspace {
        int tb;
        int v;
        int s;
        double[] x = new double[0]; // (tb, V) logits
        double[] prob = new double[0]; // (tb, V) softmax
        double[] logZ = new double[0]; // (tb) log-softmax offset: log p = x - logZ
        double[] beta = new double[0]; // (tb, S) rescaled backward variables
        double[] logAlpha = new double[0]; // (tb, S) log-space path only
        double[] logBeta = new double[0];
        double[] alpha = new double[0]; // (S)
        double[] next = new double[0]; // (S)
        double[] skip = new double[0]; // (S) 0 or 1
        double[] row = new double[0]; // (max(S, V))
        int[] ext = new int[0]; // (S)
        Io io;
        int b;

        void prepare(Io io, int b, int tb, int[] targets, int lOff, int lb) {
            this.io = io;
            this.b = b;
            this.tb = tb;
            this.v = io.p.v();
            this.s = 2 * lb + 1;
            if (x.length < tb * v) {
                x = new double[tb * v];
                prob = new double[tb * v];
            }
            if (logZ.length < tb) logZ = new double[tb];
            if (ext.length < s) {
                ext = new int[s];
                skip = new double[s];
                alpha = new double[s];
                next = new double[s];
            }
            if (row.length < Math.max(s, v)) row = new double[Math.max(s, v)];
            for (int i = 0; i < s; i++) {
                ext[i] = (i & 1) == 0 ? 0 : targets[lOff + (i >> 1)];
                skip[i] = (i & 1) == 1 && i >= 3 && ext[i] != ext[i - 2] ? 1.0 : 0.0;
            }
            // log-softmax per frame
            for (int t = 0; t < tb; t++) {
                int o = t * v;
                io.load(io.p.base(b, t), x, o);
                double max = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < v; k++) max = Math.max(max, x[o + k]);
                double sum = 0;
                for (int k = 0; k < v; k++) {
                    double e = Math.exp(x[o + k] - max);
                    prob[o + k] = e;
                    sum += e;
                }
                double inv = 1.0 / sum;
                for (int k = 0; k < v; k++) prob[o + k] *= inv;
                logZ[t] = max + Math.log(sum);
            }
        }

        /**
         * Rescaled forward–backward; NaN when a row underflows (caller then uses log space). Only the
         * states that are both reachable from the start and can still reach the end are computed: at
         * frame t that is s in [max(0, S - 2(T_b - t)), min(S - 1, 2t + 1)]; the others stay 0.
         */
        double scaled(Io io, int b, boolean grad, double scale) {
            final int ns = s;
            if (grad) {
                if (beta.length < tb * ns) beta = new double[tb * ns];
                int last = (tb - 1) * ns;
                Arrays.fill(beta, last, last + ns, 0.0);
                beta[last + ns - 1] = 1.0;
                if (ns > 1) beta[last + ns - 2] = 1.0;
                double[] e = next;
                for (int t = tb - 2; t >= 0; t--) {
                    int lo = Math.max(0, ns - 2 * (tb - t));
                    int hi = Math.min(ns - 1, 2 * t + 1);
                    int po = (t + 1) * ns;
                    int pv = (t + 1) * v;
                    int co = t * ns;
                    int eHi = Math.min(ns - 1, hi + 2);
                    for (int i = lo; i <= eHi; i++) e[i] = beta[po + i] * prob[pv + ext[i]];
                    Arrays.fill(beta, co, co + lo, 0.0);
                    Arrays.fill(beta, co + hi + 1, co + ns, 0.0);
                    double sum = 0;
                    int mid = Math.min(hi, ns - 3);
                    for (int i = lo; i <= mid; i++) {
                        double val = e[i] + e[i + 1] + skip[i + 2] * e[i + 2];
                        beta[co + i] = val;
                        sum += val;
                    }
                    for (int i = Math.max(lo, mid + 1); i <= hi; i++) { // the last two states: no skip
                        double val = i + 1 < ns ? e[i] + e[i + 1] : e[i];
                        beta[co + i] = val;
                        sum += val;
                    }
                    if (!(sum >= TINY)) return Double.NaN;
                    double inv = 1.0 / sum;
                    for (int i = lo; i <= hi; i++) beta[co + i] *= inv;
                }
            }
            double[] a = alpha;
            double[] n = next;
            Arrays.fill(a, 0, ns, 0.0);
            int lo0 = Math.max(0, ns - 2 * tb);
            if (lo0 == 0) a[0] = prob[0];
            if (ns > 1) a[1] = prob[ext[1]];
            double logC = 0;
            for (int t = 0; t < tb; t++) {
                int pv = t * v;
                int lo = Math.max(0, ns - 2 * (tb - t));
                int hi = Math.min(ns - 1, 2 * t + 1);
                if (t > 0) {
                    Arrays.fill(n, 0, lo, 0.0);
                    Arrays.fill(n, hi + 1, ns, 0.0);
                    int i = lo;
                    if (i == 0) {
                        n[0] = a[0] * prob[pv];
                        i = 1;
                    }
                    if (i == 1 && hi >= 1) {
                        n[1] = (a[1] + a[0]) * prob[pv + ext[1]];
                        i = 2;
                    }
                    for (; i <= hi; i++) {
                        n[i] = (a[i] + a[i - 1] + skip[i] * a[i - 2]) * prob[pv + ext[i]];
                    }
                    double[] tmp = a;
                    a = n;
                    n = tmp;
                }
                double sum = 0;
                for (int i = lo; i <= hi; i++) sum += a[i];
                if (!(sum >= TINY)) return Double.NaN;
                double inv = 1.0 / sum;
                for (int i = lo; i <= hi; i++) a[i] *= inv;
                logC += Math.log(sum);
                if (grad) {
                    int co = t * ns;
                    double z = 0;
                    for (int i = lo; i <= hi; i++) z += a[i] * beta[co + i];
                    if (!(z >= TINY)) return Double.NaN;
                    double iz = 1.0 / z;
                    double[] r = row;
                    System.arraycopy(prob, pv, r, 0, v);
                    for (int i = lo; i <= hi; i++) r[ext[i]] -= a[i] * beta[co + i] * iz;
                    io.store(io.p.base(b, t), r, 0, scale);
                }
            }
            double end = a[ns - 1] + (ns > 1 ? a[ns - 2] : 0.0);
            if (!(end >= TINY)) return Double.NaN;
            return -(logC + Math.log(end));
        }

        /** Log-space forward–backward (reference path, and fallback on underflow). */
        double logSpace(Io io, int b, boolean grad, double scale) {
            final int ns = s;
            if (logAlpha.length < tb * ns) {
                logAlpha = new double[tb * ns];
                logBeta = new double[tb * ns];
            }
            double[] la = logAlpha;
            Arrays.fill(la, 0, tb * ns, Double.NEGATIVE_INFINITY);
            la[0] = x[0] - logZ[0];
            if (ns > 1) la[1] = x[ext[1]] - logZ[0];
            for (int t = 1; t < tb; t++) {
                int co = t * ns;
                int po = co - ns;
                int pv = t * v;
                for (int i = 0; i < ns; i++) {
                    double acc = la[po + i];
                    if (i >= 1) acc = logAdd(acc, la[po + i - 1]);
                    if (skip[i] != 0) acc = logAdd(acc, la[po + i - 2]);
                    la[co + i] = acc + (x[pv + ext[i]] - logZ[t]);
                }
            }
            int last = (tb - 1) * ns;
            double logP = ns > 1 ? logAdd(la[last + ns - 1], la[last + ns - 2]) : la[last];
            if (!grad) return -logP;
            double[] lb = logBeta;
            Arrays.fill(lb, 0, tb * ns, Double.NEGATIVE_INFINITY);
            lb[last + ns - 1] = 0.0;
            if (ns > 1) lb[last + ns - 2] = 0.0;
            double[] e = row;
            for (int t = tb - 2; t >= 0; t--) {
                int po = (t + 1) * ns;
                int pv = (t + 1) * v;
                int co = t * ns;
                for (int i = 0; i < ns; i++) e[i] = lb[po + i] + (x[pv + ext[i]] - logZ[t + 1]);
                for (int i = 0; i < ns; i++) {
                    double acc = e[i];
                    if (i + 1 < ns) acc = logAdd(acc, e[i + 1]);
                    if (i + 2 < ns && skip[i + 2] != 0) acc = logAdd(acc, e[i + 2]);
                    lb[co + i] = acc;
                }
            }
            double[] r = new double[v];
            for (int t = 0; t < tb; t++) {
                int co = t * ns;
                System.arraycopy(prob, t * v, r, 0, v);
                for (int i = 0; i < ns; i++) r[ext[i]] -= Math.exp(la[co + i] + lb[co + i] - logP);
                io.store(io.p.base(b, t), r, 0, scale);
            }
            return -logP;
        }
    }

    /** log(exp(a) + exp(b)) without overflow; -inf + -inf = -inf. */
    static double logAdd(double a, double b) {
        if (a == Double.NEGATIVE_INFINITY) return b;
        if (b == Double.NEGATIVE_INFINITY) return a;
        return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
    }
}
