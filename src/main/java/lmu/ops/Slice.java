package lmu.ops;

import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.tensor.Shape;
import lmu.tensor.Tensor;

/** Positions [start, end) along one axis (a copy). */
public final class Slice extends Function {
    private final int axis, start, end;

    private Slice(int axis, int start, int end) {
        this.axis = axis;
        this.start = start;
        this.end = end;
    }

    public static Tensor apply(Tensor x, int axis, int start, int end) {
        return new Slice(axis, start, end).apply(new Tensor[] {x});
    }

    @Override
    protected Tensor forward(Ctx ctx, Tensor... in) {
        Tensor x = in[0];
        int ax = Shape.axis(axis, x.rank(), name());
        if (start < 0 || end > x.dim(ax) || start > end) {
            throw new IllegalArgumentException("Slice: range [" + start + ", " + end + ") outside axis " + axis + " of size "
                    + x.dim(ax) + " in " + Shape.str(x.shape()));
        }
        int[] s = x.shape();
        s[ax] = end - start;
        Backend be = Backends.of(x);
        Tensor y = be.empty(x.dtype(), s);
        be.copyAlongAxis(y, 0, x, start, end - start, ax, false);
        ctx.save(x.shape(), ax);
        return y;
    }

    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        int ax = (Integer) ctx.saved(1);
        Backend be = Backends.of(dOut);
        Tensor dx = be.empty(dOut.dtype(), (int[]) ctx.saved(0));
        be.copyAlongAxis(dx, start, dOut, 0, end - start, ax, false);
        return new Tensor[] {dx};
    }
}
