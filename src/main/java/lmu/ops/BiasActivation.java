package lmu.ops;

import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.backend.Backends;
import lmu.backend.FusedKernels;
import lmu.backend.FusedKernels.Activation;
import lmu.tensor.Shape;
import lmu.tensor.Tensor;

/**
 * y = act(x + b) with b broadcast over rows, one pass forward and one backward (dx and the bias's
 * column sums together), through the device's {@link FusedKernels}. The same function and
 * gradients as {@code act(Add(x, b))}; it keeps only what the activation's derivative needs
 * (y for RELU and TANH, x for GELU, nothing for IDENTITY) besides the bias.
 */
public final class BiasActivation extends Function {
    private final Activation act;

    private BiasActivation(Activation act) {
        this.act = act;
    }

    /**
     * @param x input, shape (…, C)
     * @param bias shape (C), or null (the activation alone)
     * @param act IDENTITY, RELU, GELU or TANH
     * @return act(x + bias), shape of x
     * @throws IllegalArgumentException if x has no axis or bias is not (C)
     */
    public static Tensor apply(Tensor x, Tensor bias, Activation act) {
        if (act == null) throw new IllegalArgumentException("BiasActivation: activation is null");
        if (x.rank() == 0) throw new IllegalArgumentException("BiasActivation: input must have at least one axis, got []");
        if (bias != null && (bias.rank() != 1 || bias.dim(0) != x.dim(-1))) {
            throw new IllegalArgumentException("BiasActivation: bias must have shape (" + x.dim(-1) + "), got "
                    + Shape.str(bias.shape()));
        }
        return new BiasActivation(act).apply(new Tensor[] {x, bias});
    }

    @Override
    public String name() {
        return "BiasActivation(" + act + ")";
    }

    @Override
    protected Tensor forward(Ctx ctx, Tensor... in) {
        Tensor x = in[0], b = in[1];
        Tensor y = Backends.kernels(x, FusedKernels.class).biasActivation(act, x, b);
        boolean input = act.backwardUsesInput();
        ctx.save(input ? x : null, b, act == Activation.RELU || act == Activation.TANH ? y : null);
        return y;
    }

    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        boolean needDx = ctx.needsInputGrad(0), needDb = ctx.needsInputGrad(1);
        boolean identity = act == Activation.IDENTITY; // dx = dOut, shared (gradients are never modified in place)
        Tensor[] g = identity && !needDb ? new Tensor[2] : Backends.kernels(dOut, FusedKernels.class)
                .biasActivationBackward(act, dOut, ctx.tensor(0), ctx.tensor(1), ctx.tensor(2), needDx, needDb);
        return new Tensor[] {needDx ? (identity ? dOut : g[0]) : null, needDb ? g[1] : null};
    }
}
