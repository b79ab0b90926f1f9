package lmu.ops;

import lmu.backend.UnaryOp;
import lmu.tensor.Tensor;

/** Elementwise 1 / (1 + e^−x). */
public final class Sigmoid extends ElementwiseUnary {
    private Sigmoid() {
        super(UnaryOp.SIGMOID, 0);
    }

    public static Tensor apply(Tensor x) {
        return new Sigmoid().apply(new Tensor[] {x});
    }
}
