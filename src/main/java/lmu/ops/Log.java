package lmu.ops;

import lmu.backend.UnaryOp;
import lmu.tensor.Tensor;

/** Elementwise natural logarithm. */
public final class Log extends ElementwiseUnary {
    private Log() {
        super(UnaryOp.LOG, 0);
    }

    public static Tensor apply(Tensor x) {
        return new Log().apply(new Tensor[] {x});
    }
}
