package lmu.ops;

import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.backend.Backends;
import lmu.backend.FusedKernels;
import lmu.tensor.Shape;
import lmu.tensor.Tensor;

/**
 * s = x + r and y = LayerNorm(s)·w + b in one pass, through the device's {@link FusedKernels}:
 * the joint of a residual connection and the layer norm after it. Both s (the residual stream a
 * pre-LN block carries on) and y are outputs; backward takes the gradients of both in one call
 * (dx = dr = ds + LNᵀ(dy)) so the residual's gradient is never summed in a separate pass. The same
 * function and gradients as {@code LayerNorm(Add(x, r))} with s kept.
 *
 * <pre>{@code
 * Tensor[] sy = ResidualLayerNorm.apply(x, r, w, b, 1e-5);   // sy[0] = s, sy[1] = y
 * }</pre>
 */
public final class ResidualLayerNorm extends Function {
    private final double eps;

    private ResidualLayerNorm(double eps) {
        this.eps = eps;
    }

    /**
     * @param x input, shape (…, C)
     * @param r residual, shape of x
     * @param weight scale, shape (C), or null
     * @param bias shift, shape (C), or null
     * @param eps added to the variance, &gt; 0
     * @return {s, y}, both of x's shape
     * @throws IllegalArgumentException if the shapes differ, weight or bias is not (C), or eps ≤ 0
     */
    public static Tensor[] apply(Tensor x, Tensor r, Tensor weight, Tensor bias, double eps) {
        if (!(eps > 0)) throw new IllegalArgumentException("ResidualLayerNorm: eps must be > 0, got " + eps);
        if (x.rank() == 0 || !java.util.Arrays.equals(x.shape(), r.shape())) {
            throw new IllegalArgumentException("ResidualLayerNorm: x and r must have one shape (…, C), got "
                    + Shape.str(x.shape()) + " and " + Shape.str(r.shape()));
        }
        int c = x.dim(-1);
        Tensor[] wb = {weight, bias};
        for (int i = 0; i < 2; i++) {
            if (wb[i] != null && (wb[i].rank() != 1 || wb[i].dim(0) != c)) {
                throw new IllegalArgumentException("ResidualLayerNorm: " + (i == 0 ? "weight" : "bias") + " must have shape ("
                        + c + "), got " + Shape.str(wb[i].shape()));
            }
        }
        Tensor[] ys = new ResidualLayerNorm(eps).applyAll(new Tensor[] {x, r, weight, bias});
        return new Tensor[] {ys[1], ys[0]};
    }

    /** The forward's result is y; s is the extra output 1. */
    @Override
    protected Tensor forward(Ctx ctx, Tensor... in) {
        Tensor[] out = Backends.kernels(in[0], FusedKernels.class).residualLayerNorm(in[0], in[1], in[2], in[3], eps);
        ctx.output(out[FusedKernels.NORM_SUM]);
        ctx.save(out[FusedKernels.NORM_SUM], out[FusedKernels.NORM_MEAN], out[FusedKernels.NORM_RSTD], in[2]);
        return out[FusedKernels.NORM_OUT];
    }

    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        Tensor ds = ctx.outputGrad(1);
        boolean needDx = ctx.needsInputGrad(0) || ctx.needsInputGrad(1);
        boolean needParams = ctx.needsInputGrad(2) || ctx.needsInputGrad(3);
        Tensor[] g = dOut == null ? new Tensor[] {ds, null, null} // only s received a gradient: it passes through
                : Backends.kernels(dOut, FusedKernels.class).residualLayerNormBackward(dOut, ds, ctx.tensor(0), ctx.tensor(1),
                        ctx.tensor(2), ctx.tensor(3), needDx, needParams);
        Tensor dx = g[0];
        return new Tensor[] {ctx.needsInputGrad(0) ? dx : null, ctx.needsInputGrad(1) ? dx : null,
            ctx.needsInputGrad(2) ? g[1] : null, ctx.needsInputGrad(3) ? g[2] : null};
    }
}
