package lmu.ops;

import lmu.backend.BinaryOp;
import lmu.tensor.Tensor;

/** Elementwise a + b with broadcasting. */
public final class Add extends BroadcastBinary {
    private Add() {
        super(BinaryOp.ADD);
    }

    public static Tensor apply(Tensor a, Tensor b) {
        return new Add().apply(new Tensor[] {a, b});
    }
}
