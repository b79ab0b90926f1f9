package lmu.ops;

import lmu.tensor.Tensor;

/** Mean over the given axes (all axes when null). */
public final class Mean extends Sum {
    private Mean(int[] axes, boolean keepDim) {
        super(axes, keepDim, true);
    }

    public static Tensor apply(Tensor x, int[] axes, boolean keepDim) {
        return new Mean(axes, keepDim).apply(new Tensor[] {x});
    }
}
