package lmu.ops;

import lmu.backend.UnaryOp;
import lmu.tensor.Tensor;

/** Elementwise e^x. */
public final class Exp extends ElementwiseUnary {
    private Exp() {
        super(UnaryOp.EXP, 0);
    }

    public static Tensor apply(Tensor x) {
        return new Exp().apply(new Tensor[] {x});
    }
}
