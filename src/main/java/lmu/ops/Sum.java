package lmu.ops;

import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.tensor.Shape;
import lmu.tensor.Tensor;

/** Sum over the given axes (all axes when null); {@link Mean} divides by the count. */
public class Sum extends Function {
    private final int[] axes;
    private final boolean keepDim;
    private final boolean mean;

    Sum(int[] axes, boolean keepDim, boolean mean) {
        this.axes = axes;
        this.keepDim = keepDim;
        this.mean = mean;
    }

    /**
     * @param axes axes to reduce (negative counts from the end), or null for all
     * @param keepDim keep reduced axes with size 1
     */
    public static Tensor apply(Tensor x, int[] axes, boolean keepDim) {
        return new Sum(axes, keepDim, false).apply(new Tensor[] {x});
    }

    private boolean[] reduced(int rank) {
        boolean[] r = new boolean[rank];
        if (axes == null) {
            java.util.Arrays.fill(r, true);
        } else {
            for (int a : axes) {
                int ax = Shape.axis(a, rank, name());
                if (r[ax]) throw new IllegalArgumentException(name() + ": axis " + a + " given twice");
                r[ax] = true;
            }
        }
        return r;
    }

    @Override
    protected Tensor forward(Ctx ctx, Tensor... in) {
        Tensor x = in[0];
        int[] s = x.shape();
        boolean[] r = reduced(s.length);
        int[] kept = s.clone();
        int count = 1;
        int outRank = 0;
        for (int i = 0; i < s.length; i++) {
            if (r[i]) {
                count *= s[i];
                kept[i] = 1;
            } else {
                outRank++;
            }
        }
        Backend be = Backends.of(x);
        Tensor out = be.empty(x.dtype(), kept);
        if (s.length > 0) be.sumAxes(out, x, r);
        else be.cast(out, x);
        double scale = mean ? 1.0 / Math.max(count, 1) : 1.0;
        if (mean) be.unary(lmu.backend.UnaryOp.SCALE, out, out, scale);
        ctx.save(x.shape(), kept, scale);
        if (keepDim) return out;
        int[] squeezed = new int[outRank];
        for (int i = 0, j = 0; i < s.length; i++) if (!r[i]) squeezed[j++] = s[i];
        return new Tensor(out.storage(), squeezed, out.device());
    }

    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        int[] shape = (int[]) ctx.saved(0);
        int[] kept = (int[]) ctx.saved(1);
        double scale = (Double) ctx.saved(2);
        Backend be = Backends.of(dOut);
        Tensor dx = be.empty(dOut.dtype(), shape);
        be.expand(dx, new Tensor(dOut.storage(), kept, dOut.device()), scale);
        return new Tensor[] {dx};
    }
}
