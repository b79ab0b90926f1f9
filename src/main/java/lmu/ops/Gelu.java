package lmu.ops;

import lmu.backend.UnaryOp;
import lmu.tensor.Tensor;

/** Elementwise GELU, tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
public final class Gelu extends ElementwiseUnary {
    private Gelu() {
        super(UnaryOp.GELU, 0);
    }

    public static Tensor apply(Tensor x) {
        return new Gelu().apply(new Tensor[] {x});
    }
}
