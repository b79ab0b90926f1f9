package lmu.ops;

import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.tensor.Shape;
import lmu.tensor.Tensor;

/** where(mask, value, x), mask broadcast to x's shape; masked positions get no gradient. */
public final class MaskedFill extends Function {
    private final boolean[] mask;
    private final int[] maskShape;
    private final double value;

    private MaskedFill(boolean[] mask, int[] maskShape, double value) {
        this.mask = mask;
        this.maskShape = maskShape;
        this.value = value;
    }

    /**
     * @param mask row-major flags of shape {@code maskShape}, broadcastable to x's shape
     */
    public static Tensor apply(Tensor x, boolean[] mask, int[] maskShape, double value) {
        if (mask.length != Shape.numel(maskShape)) {
            throw new IllegalArgumentException("MaskedFill: mask has " + mask.length + " entries but mask shape "
                    + Shape.str(maskShape) + " needs " + Shape.numel(maskShape));
        }
        int[] b = Shape.broadcast(x.shape(), maskShape, "MaskedFill");
        if (!java.util.Arrays.equals(b, x.shape())) {
            throw new IllegalArgumentException("MaskedFill: mask shape " + Shape.str(maskShape) + " does not broadcast to input "
                    + Shape.str(x.shape()));
        }
        return new MaskedFill(mask, maskShape, value).apply(new Tensor[] {x});
    }

    @Override
    protected Tensor forward(Ctx ctx, Tensor... in) {
        Backend be = Backends.of(in[0]);
        Tensor y = be.empty(in[0].dtype(), in[0].shape());
        be.maskedFill(y, in[0], mask, maskShape, value);
        return y;
    }

    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        Backend be = Backends.of(dOut);
        Tensor dx = be.empty(dOut.dtype(), dOut.shape());
        be.maskedFill(dx, dOut, mask, maskShape, 0);
        return new Tensor[] {dx};
    }
}
