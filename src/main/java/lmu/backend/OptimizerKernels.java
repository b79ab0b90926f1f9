package lmu.backend;

import lmu.tensor.Tensor;

/**
 * Fused kernels of the optimizer step on one device: the Adam/AdamW update, global-norm gradient
 * clipping and the loss scaler's unscale with its finite check. Every tensor is on the backend's
 * device; the moments are float32. Methods that return a host scalar wait for the device (the
 * clipping norm, the overflow flag: the caller decides on them); the update does not.
 * The CPU implementation ({@code lmu.backend.cpu.CpuOptimizerKernels}) is the reference.
 *
 * <pre>{@code
 * OptimizerKernels k = Backends.kernels(p, OptimizerKernels.class);
 * if (k.unscaleAllFinite(grads, 1 / scale)) {
 *     double norm = k.clipGlobalNorm(grads, 1.0);
 *     k.adamUpdate(p, p.grad(), m, v, 1e-3, 0.9, 0.999, 1e-8, 0.01, true, step);
 * }
 * }</pre>
 */
public interface OptimizerKernels {
    /**
     * One Adam step on one parameter, bias-corrected with {@code 1 - beta^step}:
     * <pre>
     *   g = grad (+ weightDecay·p unless decoupled);  m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
     *   p −= lr · ( m/(1−β1^t) / (sqrt(v/(1−β2^t)) + eps)  + weightDecay·p  [decoupled only] )
     * </pre>
     *
     * @param param weights, any shape, updated in place
     * @param grad gradient, same shape as param
     * @param m first moment, float32, param.numel() elements, updated
     * @param v second moment, float32, param.numel() elements, updated
     * @param decoupled AdamW's decoupled weight decay; false adds it to the gradient (Adam's L2 form)
     * @param step the step number t, &ge; 1
     * @throws IllegalArgumentException when the sizes differ or step &lt; 1
     */
    void adamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps,
            double weightDecay, boolean decoupled, long step);

    /**
     * The L2 norm over all of {@code grads} (waits for the device).
     *
     * @param grads gradients, any shapes; may be empty (norm 0)
     * @return the norm; NaN or infinity when any gradient is not finite
     */
    double globalNorm(Tensor[] grads);

    /**
     * Scales every gradient by {@code maxNorm / (norm + 1e-6)} when their global norm is finite and
     * above {@code maxNorm}; leaves them as they are otherwise (waits for the device for the norm).
     *
     * @param grads gradients, any shapes, scaled in place
     * @param maxNorm the largest norm allowed; 0 or less: no clipping
     * @return the global norm before clipping (non-finite values returned, for the caller to skip the step)
     */
    double clipGlobalNorm(Tensor[] grads, double maxNorm);

    /**
     * The loss scaler's unscale: {@code g *= invScale} for every gradient, checking in the same
     * pass that every value is finite (waits for the device for the answer).
     *
     * @param grads gradients holding scaled values, any shapes, scaled in place
     * @param invScale 1 / loss scale
     * @return true when every gradient is finite; on false they are partly unscaled and must be discarded
     */
    boolean unscaleAllFinite(Tensor[] grads, double invScale);

    // ------------------------------------------------------------------ step state on the device

    /** Slot of the step state: the learning rate of this step. */
    int LR = 0;
    /** Slot of the step state: Adam's bias correction {@code 1 - beta1^t} of this step. */
    int BIAS_CORRECTION1 = 1;
    /** Slot of the step state: Adam's bias correction {@code 1 - beta2^t} of this step. */
    int BIAS_CORRECTION2 = 2;
    /** Slot of the step state: 1 / loss scale, read by {@link #unscaleToState}. */
    int INV_LOSS_SCALE = 3;
    /** Slot of the step state: 1 when a gradient was not finite after unscaling, written by {@link #unscaleToState}. */
    int FOUND_INF = 4;
    /** Slot of the step state: the gradients' sum of squares, written by {@link #clipToState}. */
    int SUM_SQUARES = 5;
    /** Floats in a step state tensor (the slots above and spare room). */
    int STEP_STATE_SIZE = 8;

    /**
     * The loss scaler's unscale with the scale and the verdict on the device: {@code FOUND_INF}
     * is set to 0, every gradient multiplied by {@code state[INV_LOSS_SCALE]}, and {@code FOUND_INF}
     * set to 1 when any result is not finite. Nothing waits for the device.
     *
     * @param grads gradients holding scaled values, any shapes, scaled in place
     * @param state the step state, float32, {@link #STEP_STATE_SIZE} elements
     * @throws IllegalArgumentException when state has the wrong size or a tensor is not of this backend
     */
    void unscaleToState(Tensor[] grads, Tensor state);

    /**
     * Global-norm clipping decided on the device: {@code state[SUM_SQUARES] = Σ g²}; when the norm
     * {@code sqrt} of it is finite and above {@code maxNorm} every gradient is multiplied by {@code
     * maxNorm / (norm + 1e-6)}. Nothing waits for the device; the caller reads the norm after the step.
     *
     * @param grads gradients, any shapes, scaled in place
     * @param state the step state, float32, {@link #STEP_STATE_SIZE} elements
     * @param maxNorm the largest norm allowed; 0 or less: only the sum of squares
     * @throws IllegalArgumentException when state has the wrong size or a tensor is not of this backend
     */
    void clipToState(Tensor[] grads, Tensor state, double maxNorm);

    /**
     * {@link #adamUpdate} with the per-step values read from the device: the learning rate and the
     * bias corrections from {@code state[LR]}, {@code state[BIAS_CORRECTION1]}, {@code
     * state[BIAS_CORRECTION2]}; nothing changes when {@code state[FOUND_INF]} is not 0 or {@code
     * state[SUM_SQUARES]} is not finite (the step is skipped on the device). The launch carries only
     * values that stay the same from step to step, so a captured launch can be replayed.
     *
     * @param param weights, any shape, updated in place
     * @param grad gradient, same shape as param
     * @param m first moment, float32, param.numel() elements, updated
     * @param v second moment, float32, param.numel() elements, updated
     * @param state the step state, float32, {@link #STEP_STATE_SIZE} elements
     * @throws IllegalArgumentException when the sizes differ
     */
    void adamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor state, double beta1, double beta2, double eps,
            double weightDecay, boolean decoupled);
}
