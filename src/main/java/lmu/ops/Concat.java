package lmu.ops;

import java.util.Arrays;
import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.tensor.Shape;
import lmu.tensor.Tensor;

/** Joins tensors along one axis; all other dimensions must agree. */
public final class Concat extends Function {
    private final int axis;

    private Concat(int axis) {
        this.axis = axis;
    }

    public static Tensor apply(int axis, Tensor... xs) {
        if (xs.length == 0) throw new IllegalArgumentException("Concat: needs at least one tensor");
        return new Concat(axis).apply(xs);
    }

    @Override
    protected Tensor forward(Ctx ctx, Tensor... in) {
        int ax = Shape.axis(axis, in[0].rank(), name());
        int[] s = in[0].shape();
        int total = 0;
        int[] sizes = new int[in.length];
        for (int i = 0; i < in.length; i++) {
            int[] si = in[i].shape();
            if (si.length != s.length) {
                throw new IllegalArgumentException("Concat: input " + i + " has rank " + si.length + ", input 0 has rank " + s.length);
            }
            for (int d = 0; d < s.length; d++) {
                if (d != ax && si[d] != s[d]) {
                    throw new IllegalArgumentException("Concat: input " + i + " has shape " + Arrays.toString(si)
                            + ", incompatible with " + Arrays.toString(s) + " along axis " + d);
                }
            }
            sizes[i] = si[ax];
            total += si[ax];
        }
        s[ax] = total;
        Backend be = Backends.of(in[0]);
        Tensor y = be.empty(in[0].dtype(), s);
        int at = 0;
        for (int i = 0; i < in.length; i++) {
            be.copyAlongAxis(y, at, in[i], 0, sizes[i], ax, false);
            at += sizes[i];
        }
        ctx.save(sizes, ax);
        return y;
    }

    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        int[] sizes = (int[]) ctx.saved(0);
        int ax = (Integer) ctx.saved(1);
        Backend be = Backends.of(dOut);
        Tensor[] g = new Tensor[sizes.length];
        int at = 0;
        for (int i = 0; i < sizes.length; i++) {
            if (ctx.needsInputGrad(i)) {
                int[] s = dOut.shape();
                s[ax] = sizes[i];
                g[i] = be.empty(dOut.dtype(), s);
                be.copyAlongAxis(g[i], 0, dOut, at, sizes[i], ax, false);
            }
            at += sizes[i];
        }
        return g;
    }
}
