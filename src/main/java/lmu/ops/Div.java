package lmu.ops;

import lmu.backend.BinaryOp;
import lmu.tensor.Tensor;

/** Elementwise a / b with broadcasting. */
public final class Div extends BroadcastBinary {
    private Div() {
        super(BinaryOp.DIV);
    }

    public static Tensor apply(Tensor a, Tensor b) {
        return new Div().apply(new Tensor[] {a, b});
    }
}
