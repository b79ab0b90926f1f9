package lmu.ops;

import lmu.backend.UnaryOp;
import lmu.tensor.Tensor;

/** Elementwise max(x, 0). */
public final class Relu extends ElementwiseUnary {
    private Relu() {
        super(UnaryOp.RELU, 0);
    }

    public static Tensor apply(Tensor x) {
        return new Relu().apply(new Tensor[] {x});
    }
}
