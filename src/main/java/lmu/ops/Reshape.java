package lmu.ops;

import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.tensor.Shape;
import lmu.tensor.Tensor;

/** Same elements, new shape (shares storage); one dimension may be -1 (inferred). */
public final class Reshape extends Function {
    private final int[] target;

    private Reshape(int[] target) {
        this.target = target;
    }

    public static Tensor apply(Tensor x, int... shape) {
        return new Reshape(shape).apply(new Tensor[] {x});
    }

    static int[] resolve(int[] from, int[] to, String op) {
        int n = Shape.numel(from);
        int[] s = to.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException(op + ": only one dimension may be -1, got " + Shape.str(to));
                infer = i;
            } else if (s[i] < 0) {
                throw new IllegalArgumentException(op + ": negative dimension in " + Shape.str(to));
            } else {
                known *= s[i];
            }
        }
        if (infer >= 0) {
            if (known == 0 || n % known != 0) {
                throw new IllegalArgumentException(op + ": cannot reshape " + Shape.str(from) + " to " + Shape.str(to));
            }
            s[infer] = (int) (n / known);
        }
        if (Shape.numel(s) != n) {
            throw new IllegalArgumentException(op + ": cannot reshape " + Shape.str(from) + " (" + n + " elements) to "
                    + Shape.str(to));
        }
        return s;
    }

    @Override
    protected Tensor forward(Ctx ctx, Tensor... in) {
        Tensor x = in[0];
        ctx.save(x.shape());
        return new Tensor(x.storage(), resolve(x.shape(), target, name()), x.device());
    }

    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        return new Tensor[] {new Tensor(dOut.storage(), (int[]) ctx.saved(0), dOut.device())};
    }
}
