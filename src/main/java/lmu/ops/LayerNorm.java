package lmu.ops;

import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.tensor.Shape;
import lmu.tensor.Tensor;

/** Layer normalisation over the last axis: (x − mean) / sqrt(var + eps) · weight + bias (biased variance). */
public final class LayerNorm extends Function {
    private final double eps;

    private LayerNorm(double eps) {
        this.eps = eps;
    }

    /**
     * @param x input, shape (…, C)
     * @param weight scale, shape (C), or null
     * @param bias shift, shape (C), or null
     */
    public static Tensor apply(Tensor x, Tensor weight, Tensor bias, double eps) {
        return new LayerNorm(eps).apply(new Tensor[] {x, weight, bias});
    }

    @Override
    protected Tensor forward(Ctx ctx, Tensor... in) {
        Tensor x = in[0], w = in[1], b = in[2];
        if (x.rank() == 0) throw new IllegalArgumentException("LayerNorm: input must have at least one axis");
        int c = x.dim(-1);
        for (int i = 1; i <= 2; i++) {
            if (in[i] != null && (in[i].rank() != 1 || in[i].dim(0) != c)) {
                throw new IllegalArgumentException("LayerNorm: " + (i == 1 ? "weight" : "bias") + " must have shape (" + c
                        + "), got " + Shape.str(in[i].shape()));
            }
        }
        int rows = c == 0 ? 0 : x.numel() / c;
        Backend be = Backends.of(x);
        Tensor out = be.empty(x.dtype(), x.shape());
        Tensor mean = be.empty(x.dtype(), rows);
        Tensor rstd = be.empty(x.dtype(), rows);
        be.layerNorm(out, mean, rstd, x, w, b, eps);
        ctx.save(x, w, mean, rstd);
        return out;
    }

    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        Tensor x = ctx.tensor(0), w = ctx.tensor(1), mean = ctx.tensor(2), rstd = ctx.tensor(3);
        Backend be = Backends.of(dOut);
        Tensor dx = ctx.needsInputGrad(0) ? be.empty(x.dtype(), x.shape()) : null;
        Tensor dw = ctx.needsInputGrad(1) ? be.empty(x.dtype(), w.shape()) : null;
        Tensor db = ctx.needsInputGrad(2) ? be.empty(x.dtype(), x.dim(-1)) : null;
        be.layerNormBackward(dx, dw, db, dOut, x, mean, rstd, w);
        return new Tensor[] {dx, dw, db};
    }
}
