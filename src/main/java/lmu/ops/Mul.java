package lmu.ops;

import lmu.backend.BinaryOp;
import lmu.tensor.Tensor;

/** Elementwise a · b (elementwise) with broadcasting. */
public final class Mul extends BroadcastBinary {
    private Mul() {
        super(BinaryOp.MUL);
    }

    public static Tensor apply(Tensor a, Tensor b) {
        return new Mul().apply(new Tensor[] {a, b});
    }
}
