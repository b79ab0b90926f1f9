package lmu.ops;

import lmu.backend.UnaryOp;
import lmu.tensor.Tensor;

/** x + c for a constant c. */
public final class AddScalar extends ElementwiseUnary {
    private AddScalar(double c) {
        super(UnaryOp.ADD_SCALAR, c);
    }

    public static Tensor apply(Tensor x, double c) {
        return new AddScalar(c).apply(new Tensor[] {x});
    }
}
