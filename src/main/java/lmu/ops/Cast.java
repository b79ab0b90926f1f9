package lmu.ops;

import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.tensor.DType;
import lmu.tensor.Tensor;

/** Conversion between compute dtypes; the gradient is converted back. */
public final class Cast extends Function {
    private final DType to;

    private Cast(DType to) {
        this.to = to;
    }

    public static Tensor apply(Tensor x, DType to) {
        if (!to.isCompute()) throw new IllegalArgumentException("Cast: " + to + " is storage-only on this backend");
        return new Cast(to).apply(new Tensor[] {x});
    }

    @Override
    protected Tensor forward(Ctx ctx, Tensor... in) {
        Backend be = Backends.of(in[0]);
        Tensor y = be.empty(to, in[0].shape());
        be.cast(y, in[0]);
        ctx.save(in[0].dtype());
        return y;
    }

    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        Backend be = Backends.of(dOut);
        Tensor dx = be.empty((DType) ctx.saved(0), dOut.shape());
        be.cast(dx, dOut);
        return new Tensor[] {dx};
    }
}
