package lmu.ops;

import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.tensor.Shape;
import lmu.tensor.Tensor;

/** Pads one axis with {@code before} and {@code after} positions of a constant value. */
public final class Pad extends Function {
    private final int axis, before, after;
    private final double value;

    private Pad(int axis, int before, int after, double value) {
        this.axis = axis;
        this.before = before;
        this.after = after;
        this.value = value;
    }

    public static Tensor apply(Tensor x, int axis, int before, int after, double value) {
        return new Pad(axis, before, after, value).apply(new Tensor[] {x});
    }

    @Override
    protected Tensor forward(Ctx ctx, Tensor... in) {
        Tensor x = in[0];
        if (before < 0 || after < 0) throw new IllegalArgumentException("Pad: before/after must be >= 0, got " + before + "/" + after);
        int ax = Shape.axis(axis, x.rank(), name());
        int[] s = x.shape();
        s[ax] += before + after;
        Backend be = Backends.of(x);
        Tensor y = be.empty(x.dtype(), s);
        if (value != 0) be.fill(y, value);
        be.copyAlongAxis(y, before, x, 0, x.dim(ax), ax, false);
        ctx.save(x.shape(), ax);
        return y;
    }

    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        int[] shape = (int[]) ctx.saved(0);
        int ax = (Integer) ctx.saved(1);
        Backend be = Backends.of(dOut);
        Tensor dx = be.empty(dOut.dtype(), shape);
        be.copyAlongAxis(dx, 0, dOut, before, shape[ax], ax, false);
        return new Tensor[] {dx};
    }
}
