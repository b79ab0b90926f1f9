package lmu.ops;

import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.tensor.Shape;
import lmu.tensor.Tensor;

/** Maximum over one axis; the gradient flows to the first maximal element. */
public final class Max extends Function {
    private final int axis;
    private final boolean keepDim;

    private Max(int axis, boolean keepDim) {
        this.axis = axis;
        this.keepDim = keepDim;
    }

    public static Tensor apply(Tensor x, int axis, boolean keepDim) {
        return new Max(axis, keepDim).apply(new Tensor[] {x});
    }

    @Override
    protected Tensor forward(Ctx ctx, Tensor... in) {
        Tensor x = in[0];
        int ax = Shape.axis(axis, x.rank(), name());
        if (x.dim(ax) == 0) throw new IllegalArgumentException("Max: axis " + axis + " has size 0 in " + Shape.str(x.shape()));
        int[] kept = x.shape();
        kept[ax] = 1;
        Backend be = Backends.of(x);
        Tensor out = be.empty(x.dtype(), kept);
        int[] argmax = new int[out.numel()];
        be.maxAxis(out, argmax, x, ax);
        ctx.save(x.shape(), argmax, ax);
        if (keepDim) return out;
        int[] sq = new int[kept.length - 1];
        for (int i = 0, j = 0; i < kept.length; i++) if (i != ax) sq[j++] = kept[i];
        return new Tensor(out.storage(), sq, out.device());
    }

    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        int[] shape = (int[]) ctx.saved(0);
        Backend be = Backends.of(dOut);
        Tensor dx = be.empty(dOut.dtype(), shape);
        be.maxAxisBackward(dx, (int[]) ctx.saved(1), dOut, (Integer) ctx.saved(2));
        return new Tensor[] {dx};
    }
}
