package lmu.ops;

import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.tensor.Shape;
import lmu.tensor.Tensor;

/** Softmax over one axis, computed with the row maximum subtracted (a row of −inf gives zeros, not NaN). */
public class Softmax extends Function {
    private final int axis;
    private final boolean log;

    Softmax(int axis, boolean log) {
        this.axis = axis;
        this.log = log;
    }

    public static Tensor apply(Tensor x, int axis) {
        return new Softmax(axis, false).apply(new Tensor[] {x});
    }

    @Override
    protected Tensor forward(Ctx ctx, Tensor... in) {
        Tensor x = in[0];
        int ax = Shape.axis(axis, x.rank(), name());
        Backend be = Backends.of(x);
        Tensor y = be.empty(x.dtype(), x.shape());
        be.softmax(y, x, ax, log);
        ctx.save(y, ax);
        return y;
    }

    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        Tensor y = ctx.tensor(0);
        Backend be = Backends.of(dOut);
        Tensor dx = be.empty(dOut.dtype(), dOut.shape());
        be.softmaxBackward(dx, y, dOut, (Integer) ctx.saved(1), log);
        return new Tensor[] {dx};
    }
}
