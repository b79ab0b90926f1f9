package lmu.speech.ctc;

import java.util.Arrays;
import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.Tensor;

/**
 * {@link CtcLoss} as a differentiable op on a logits tensor. Forward computes the loss and, when the
 * logits require grad, the gradient too (one fused pass, saved for backward); backward only scales
 * the saved gradient by the upstream gradient. Lengths and targets are op parameters, not tensors.
 *
 * <p>Output: a scalar for MEAN and SUM, shape (B) for NONE, in the logits' dtype (F32 or F64). After
 * {@link #apply} the full {@link CtcLoss.Result} (per-utterance losses, infeasible utterances) is
 * available from {@link #result()}.
 *
 * <pre>
 * jshell> var f = new CtcLossFunction(CtcLoss.batchMajor(), inputLengths, targets, targetLengths);
 * jshell> Tensor loss = f.apply(logits);   // logits (B, T, V)
 * jshell> loss.backward();  f.result().infeasible()
 * </pre>
 */
public final class CtcLossFunction extends Function {
    private final CtcLoss loss;
    private final int[] inputLengths;
    private final int[] targets;
    private final int[] targetLengths;
    private volatile CtcLoss.Result result;

    /**
     * @param loss layout, reduction and zeroInfinity
     * @param inputLengths valid frames per utterance, shape (B)
     * @param targets padded labels, shape (B, L)
     * @param targetLengths labels per utterance, shape (B)
     */
    public CtcLossFunction(CtcLoss loss, int[] inputLengths, int[] targets, int[] targetLengths) {
        if (loss == null) throw new IllegalArgumentException("CtcLoss: loss configuration must not be null");
        this.loss = loss;
        this.inputLengths = inputLengths == null ? null : inputLengths.clone();
        this.targets = targets == null ? null : targets.clone();
        this.targetLengths = targetLengths == null ? null : targetLengths.clone();
    }

    /**
     * One-call form.
     *
     * @param logits unnormalised scores, shape (B, T, V) or (T, B, V) as {@code loss.layout()} says
     * @return the loss: scalar for MEAN and SUM, shape (B) for NONE
     * @throws IllegalArgumentException on a shape, length, label or dtype error
     */
    public static Tensor apply(CtcLoss loss, Tensor logits, int[] inputLengths, int[] targets, int[] targetLengths) {
        return new CtcLossFunction(loss, inputLengths, targets, targetLengths).apply(logits);
    }

    /** The result of the last forward; null before it. */
    public CtcLoss.Result result() {
        return result;
    }

    @Override
    public String name() {
        return "CtcLoss";
    }

    @Override
    protected Tensor forward(Ctx ctx, Tensor... in) {
        if (in.length != 1 || in[0] == null) {
            throw new IllegalArgumentException("CtcLoss: expected one input (logits), got " + in.length);
        }
        Tensor x = in[0];
        if (x.device().kind() != Device.Kind.CPU) {
            throw new IllegalArgumentException("CtcLoss: logits must be on the CPU for this op, got " + x.device());
        }
        if (x.rank() != 3) {
            throw new IllegalArgumentException("CtcLoss: logits must have shape " + loss.layout().shape() + ", got "
                    + Arrays.toString(x.shape()));
        }
        boolean grad = ctx.needsInputGrad(0);
        int[] shape = x.shape();
        CtcLoss.Result r;
        Tensor dx = null;
        if (x.dtype() == DType.F32) {
            float[] d = grad ? new float[x.numel()] : null;
            r = grad ? loss.forwardBackward(x.f32(), shape, inputLengths, targets, targetLengths, d, null)
                    : loss.forward(x.f32(), shape, inputLengths, targets, targetLengths);
            if (grad) dx = Tensor.of(d, shape);
        } else if (x.dtype() == DType.F64) {
            double[] d = grad ? new double[x.numel()] : null;
            r = grad ? loss.forwardBackward(x.f64(), shape, inputLengths, targets, targetLengths, d, null)
                    : loss.forward(x.f64(), shape, inputLengths, targets, targetLengths);
            if (grad) dx = Tensor.of(d, shape);
        } else {
            throw new IllegalArgumentException("CtcLoss: logits must be F32 or F64, got " + x.dtype() + " (convert with Tensor.to(DType.F32))");
        }
        result = r;
        if (grad) ctx.save(dx);
        if (loss.reduction() == CtcLoss.Reduction.NONE) {
            double[] l = r.losses();
            Tensor out = Tensor.zeros(x.dtype(), l.length);
            for (int b = 0; b < l.length; b++) out.set(l[b], b);
            return out;
        }
        return Tensor.full(x.dtype(), r.loss());
    }

    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        Tensor saved = ctx.tensor(0);
        int[] shape = saved.shape();
        Tensor dx = Tensor.zeros(saved.dtype(), shape);
        boolean batchMajor = loss.layout() == CtcLoss.Layout.BATCH_MAJOR;
        int nb = batchMajor ? shape[0] : shape[1];
        int t = batchMajor ? shape[1] : shape[0];
        int v = shape[2];
        boolean perUtterance = loss.reduction() == CtcLoss.Reduction.NONE;
        for (int b = 0; b < nb; b++) {
            double g = perUtterance ? dOut.storage().get(b) : dOut.storage().get(0);
            for (int f = 0; f < t; f++) {
                int base = batchMajor ? (b * t + f) * v : (f * nb + b) * v;
                scaleRow(dx, saved, base, v, g);
            }
        }
        return new Tensor[] {dx};
    }

    private static void scaleRow(Tensor dst, Tensor src, int base, int v, double g) {
        if (src.dtype() == DType.F32) {
            float[] s = src.f32();
            float[] d = dst.f32();
            float gf = (float) g;
            for (int k = base; k < base + v; k++) d[k] = s[k] * gf;
        } else {
            double[] s = src.f64();
            double[] d = dst.f64();
            for (int k = base; k < base + v; k++) d[k] = s[k] * g;
        }
    }
}
