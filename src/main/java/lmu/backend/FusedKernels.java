package lmu.backend;

import lmu.tensor.Tensor;

/**
 * Elementwise epilogues fused so that each tensor is read and written once instead of once per
 * step: a bias add followed by an activation (the epilogue of every linear layer and of the LMU's
 * products), and a residual add followed by a layer norm (the joint of every encoder sub-block).
 * Each forward has a backward that is one pass as well.
 *
 * <p>Tensors are row-major with C = the last axis, rows = everything before it, all of one dtype on
 * the implementation's device (float32; the CPU also takes float64). Returned tensors are always
 * new, never one of the arguments (a recorded device graph hands out fresh memory for results), so
 * a gradient that equals an argument is not returned at all: the caller uses the argument.
 *
 * <pre>{@code
 * FusedKernels k = Backends.kernels(x, FusedKernels.class);
 * Tensor y = k.biasActivation(FusedKernels.Activation.GELU, x, b);   // x (B, T, C), b (C)
 * }</pre>
 */
public interface FusedKernels {
    /** The activations of {@link #biasActivation}: GELU is the tanh approximation, as {@link UnaryOp#GELU}. */
    enum Activation {
        IDENTITY, RELU, GELU, TANH;

        /** The backward needs the pre-activation z = x + b (GELU) rather than the output y. */
        public boolean backwardUsesInput() {
            return this == GELU;
        }
    }

    /** Index of s in the result of {@link #residualLayerNorm}. */
    int NORM_SUM = 0;
    /** Index of y in the result of {@link #residualLayerNorm}. */
    int NORM_OUT = 1;
    /** Index of the row means in the result of {@link #residualLayerNorm}. */
    int NORM_MEAN = 2;
    /** Index of the reciprocal standard deviations in the result of {@link #residualLayerNorm}. */
    int NORM_RSTD = 3;

    /**
     * {@code y[r, c] = act(x[r, c] + bias[c])}.
     *
     * @param x input, shape (…, C)
     * @param bias shape (C), or null (no bias)
     * @return y, shape of x
     * @throws IllegalArgumentException on a shape, dtype or device mismatch
     */
    Tensor biasActivation(Activation act, Tensor x, Tensor bias);

    /**
     * Gradients of {@link #biasActivation} in one pass: {@code dx = act'(x + bias) · dy} and
     * {@code dbias[c] = Σ_r dx[r, c]}. For IDENTITY dx is dy itself and is not returned (null).
     *
     * @param dy gradient of y, shape (…, C)
     * @param x the forward's input, shape of dy; needed when {@link Activation#backwardUsesInput()}, else may be null
     * @param bias the forward's bias, shape (C), or null
     * @param y the forward's output, shape of dy; needed for RELU and TANH, else may be null
     * @param needDx whether dx is wanted (ignored for IDENTITY)
     * @param needDbias whether dbias is wanted
     * @return {dx or null, dbias or null}
     * @throws IllegalArgumentException on a shape, dtype or device mismatch, or a missing x or y
     */
    Tensor[] biasActivationBackward(Activation act, Tensor dy, Tensor x, Tensor bias, Tensor y, boolean needDx,
            boolean needDbias);

    /**
     * {@code s = x + r} and {@code y = (s − mean)·rstd·w + b} per row (biased variance), in one pass.
     *
     * @param x input, shape (…, C)
     * @param r residual, shape of x
     * @param w scale, shape (C), or null
     * @param b shift, shape (C), or null
     * @return {s (…, C), y (…, C), mean (rows), rstd (rows)} at {@link #NORM_SUM}, {@link #NORM_OUT},
     *     {@link #NORM_MEAN}, {@link #NORM_RSTD}
     * @throws IllegalArgumentException on a shape, dtype or device mismatch, or eps ≤ 0
     */
    Tensor[] residualLayerNorm(Tensor x, Tensor r, Tensor w, Tensor b, double eps);

    /**
     * Gradients of {@link #residualLayerNorm} in one pass: with ds the gradient that reached s from
     * elsewhere (the next residual), {@code dx = dr = ds + LNᵀ(dy)}, dw and db the column sums.
     *
     * @param dy gradient of y, shape (…, C) (when y received none, dx is ds and no kernel is needed)
     * @param ds gradient of s, shape (…, C), or null (s received none)
     * @param s the forward's sum, shape (…, C)
     * @param mean the forward's row means, shape (rows)
     * @param rstd the forward's reciprocal standard deviations, shape (rows)
     * @param w the forward's scale, shape (C), or null
     * @param needDx whether dx is wanted
     * @param needParams whether dw and db are wanted
     * @return {dx or null, dw or null, db or null}
     * @throws IllegalArgumentException on a shape, dtype or device mismatch, or a null dy
     */
    Tensor[] residualLayerNormBackward(Tensor dy, Tensor ds, Tensor s, Tensor mean, Tensor rstd, Tensor w, boolean needDx,
            boolean needParams);
}
