package lmu.speech.ctc;

import java.util.Arrays;
import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.backend.BinaryOp;
import lmu.backend.CtcKernels;
import lmu.tensor.Device;
import lmu.tensor.Tensor;

/**
 * {@link CtcLoss} as a differentiable op on a logits tensor, on the logits' device through its
 * {@link CtcKernels}. Forward computes the loss and, when the logits require grad, the gradient too
 * (one fused pass, saved for backward, on the device); backward only scales the saved gradient by
 * the upstream gradient. Lengths and targets are op parameters, not tensors; the per-utterance
 * losses come to the host.
 *
 * <p>Output: a scalar for MEAN and SUM, shape (B) for NONE, in the logits' dtype (F32 or F64 on the
 * CPU, F32 on an accelerator) and on their device. After
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
    private final Tensor[] deviceArgs;
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
        this.deviceArgs = null;
    }

    /**
     * The device form: lengths and labels are tensors of the logits' device (integral float32
     * values), read when the kernels run, and the loss is reduced on the device ({@link
     * CtcKernels#lossAndGradient(CtcLoss, Tensor, Tensor, Tensor, Tensor, boolean)}), so the op can
     * be captured in a CUDA graph and replayed with new lengths and labels written into the same
     * tensors. The values are not checked: check the host arrays with {@link CtcLoss#check} before
     * writing them. {@link #result()} stays null in this form.
     *
     * @param loss layout, reduction and zeroInfinity
     * @param inputLengths valid frames per utterance, shape (B)
     * @param targets padded labels, shape (B, L)
     * @param targetLengths labels per utterance, shape (B)
     * @throws IllegalArgumentException if an argument is null
     */
    public CtcLossFunction(CtcLoss loss, Tensor inputLengths, Tensor targets, Tensor targetLengths) {
        if (loss == null) throw new IllegalArgumentException("CtcLoss: loss configuration must not be null");
        if (inputLengths == null || targets == null || targetLengths == null) {
            throw new IllegalArgumentException("CtcLoss: inputLengths, targets and targetLengths tensors must not be null");
        }
        this.loss = loss;
        this.inputLengths = null;
        this.targets = null;
        this.targetLengths = null;
        this.deviceArgs = new Tensor[] {inputLengths, targets, targetLengths};
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

    /** The result of the last forward; null before it, and always in the device form. */
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
        if (x.rank() != 3) {
            throw new IllegalArgumentException("CtcLoss: logits must have shape " + loss.layout().shape() + ", got "
                    + Arrays.toString(x.shape()));
        }
        boolean grad = ctx.needsInputGrad(0);
        if (deviceArgs != null) {
            CtcKernels.DeviceResult d = Backends.kernels(x, CtcKernels.class)
                    .lossAndGradient(loss, x, deviceArgs[0], deviceArgs[1], deviceArgs[2], grad);
            if (grad) ctx.save(d.dLogits());
            return d.loss();
        }
        CtcKernels.Result k = Backends.kernels(x, CtcKernels.class)
                .lossAndGradient(loss, x, inputLengths, targets, targetLengths, grad);
        CtcLoss.Result r = k.result();
        result = r;
        if (grad) ctx.save(k.dLogits());
        Backend backend = Backends.of(x);
        if (loss.reduction() == CtcLoss.Reduction.NONE) {
            double[] l = r.losses();
            if (x.device().kind() == Device.Kind.CPU) {
                Tensor out = Tensor.zeros(x.dtype(), l.length);
                for (int b = 0; b < l.length; b++) out.set(l[b], b);
                return out;
            }
            float[] f = new float[l.length];
            for (int b = 0; b < l.length; b++) f[b] = (float) l[b];
            return backend.toDevice(Tensor.of(f, l.length));
        }
        if (x.device().kind() == Device.Kind.CPU) return Tensor.full(x.dtype(), r.loss());
        Tensor out = backend.empty(x.dtype());
        backend.fill(out, r.loss());
        return out;
    }

    /** dLogits = saved gradient ∘ dOut, dOut broadcast over frames and symbols (and utterances unless NONE). */
    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        Tensor saved = ctx.tensor(0);
        int[] shape = saved.shape();
        boolean batchMajor = loss.layout() == CtcLoss.Layout.BATCH_MAJOR;
        int[] gShape = loss.reduction() != CtcLoss.Reduction.NONE ? new int[] {1, 1, 1}
                : batchMajor ? new int[] {shape[0], 1, 1} : new int[] {1, shape[1], 1};
        Backend backend = Backends.of(saved);
        Tensor dx = backend.empty(saved.dtype(), shape);
        backend.binary(BinaryOp.MUL, dx, saved, new Tensor(dOut.storage(), gShape, dOut.device()));
        return new Tensor[] {dx};
    }
}
