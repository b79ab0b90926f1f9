package lmu.ops;

import lmu.backend.UnaryOp;
import lmu.tensor.Tensor;

/** x · c for a constant c. */
public final class Scale extends ElementwiseUnary {
    private Scale(double c) {
        super(UnaryOp.SCALE, c);
    }

    public static Tensor apply(Tensor x, double c) {
        return new Scale(c).apply(new Tensor[] {x});
    }
}
