package lmu.nn;

import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Checks;

/** Layer normalisation over the last axis with learned scale (init 1) and shift (init 0). */
public final class LayerNorm extends Module {
    private final Tensor weight;
    private final Tensor bias;
    private final double eps;

    public LayerNorm(int channels, double eps) {
        this(channels, eps, DType.F32);
    }

    /** @param dtype parameter type (F32; F64 for gradient checks) */
    public LayerNorm(int channels, double eps, DType dtype) {
        Checks.positive("LayerNorm channels", channels);
        this.weight = param("weight", Tensor.full(dtype, 1, channels));
        this.bias = param("bias", Tensor.zeros(dtype, channels));
        this.eps = eps;
    }

    /** @param x input, shape (…, C) */
    public Tensor forward(Tensor x) {
        return lmu.ops.LayerNorm.apply(x, weight, bias, eps);
    }

    /**
     * The residual sum and its norm in one fused pass ({@link lmu.ops.ResidualLayerNorm}).
     *
     * @param x input, shape (…, C)
     * @param r residual added to x, shape of x
     * @return {s = x + r, y = norm(s)}, both of x's shape
     * @throws IllegalArgumentException if the shapes differ or the last axis is not C
     */
    public Tensor[] forwardResidual(Tensor x, Tensor r) {
        return lmu.ops.ResidualLayerNorm.apply(x, r, weight, bias, eps);
    }
}
