package lmu.ops;

import lmu.backend.BinaryOp;
import lmu.tensor.Tensor;

/** Elementwise a − b with broadcasting. */
public final class Sub extends BroadcastBinary {
    private Sub() {
        super(BinaryOp.SUB);
    }

    public static Tensor apply(Tensor a, Tensor b) {
        return new Sub().apply(new Tensor[] {a, b});
    }
}
