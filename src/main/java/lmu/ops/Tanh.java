package lmu.ops;

import lmu.backend.UnaryOp;
import lmu.tensor.Tensor;

/** Elementwise tanh(x). */
public final class Tanh extends ElementwiseUnary {
    private Tanh() {
        super(UnaryOp.TANH, 0);
    }

    public static Tensor apply(Tensor x) {
        return new Tanh().apply(new Tensor[] {x});
    }
}
