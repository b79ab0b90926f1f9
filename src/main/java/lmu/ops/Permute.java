package lmu.ops;

import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.tensor.Shape;
import lmu.tensor.Tensor;

/** Reorders axes (a copy): out.shape[i] = x.shape[axes[i]]. */
public final class Permute extends Function {
    private final int[] axes;

    private Permute(int[] axes) {
        this.axes = axes;
    }

    public static Tensor apply(Tensor x, int... axes) {
        return new Permute(axes).apply(new Tensor[] {x});
    }

    /** Swaps two axes. */
    public static Tensor transpose(Tensor x, int a, int b) {
        int r = x.rank();
        int[] p = new int[r];
        for (int i = 0; i < r; i++) p[i] = i;
        int aa = Shape.axis(a, r, "Transpose"), bb = Shape.axis(b, r, "Transpose");
        p[aa] = bb;
        p[bb] = aa;
        return apply(x, p);
    }

    private static int[] normalise(int[] axes, int rank, String op) {
        if (axes.length != rank) {
            throw new IllegalArgumentException(op + ": " + axes.length + " axes given for a rank-" + rank + " tensor");
        }
        int[] p = new int[rank];
        boolean[] seen = new boolean[rank];
        for (int i = 0; i < rank; i++) {
            p[i] = Shape.axis(axes[i], rank, op);
            if (seen[p[i]]) throw new IllegalArgumentException(op + ": axis " + axes[i] + " repeated in " + Shape.str(axes));
            seen[p[i]] = true;
        }
        return p;
    }

    @Override
    protected Tensor forward(Ctx ctx, Tensor... in) {
        Tensor x = in[0];
        int[] p = normalise(axes, x.rank(), name());
        int[] s = x.shape();
        int[] out = new int[p.length];
        for (int i = 0; i < p.length; i++) out[i] = s[p[i]];
        Backend be = Backends.of(x);
        Tensor y = be.empty(x.dtype(), out);
        be.permute(y, x, p);
        ctx.save(p);
        return y;
    }

    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        int[] p = (int[]) ctx.saved(0);
        int[] inv = new int[p.length];
        for (int i = 0; i < p.length; i++) inv[p[i]] = i;
        int[] s = dOut.shape();
        int[] shape = new int[p.length];
        for (int i = 0; i < p.length; i++) shape[i] = s[inv[i]];
        Backend be = Backends.of(dOut);
        Tensor dx = be.empty(dOut.dtype(), shape);
        be.permute(dx, dOut, inv);
        return new Tensor[] {dx};
    }
}
