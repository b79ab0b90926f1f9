package lmu.backend;

import lmu.nn.lmu.Activation;
import lmu.nn.lmu.LegendreConvolution.Method;
import lmu.nn.lmu.LegendreImpulseResponse;
import lmu.nn.lmu.LegendreStateSpace;
import lmu.tensor.Tensor;

/**
 * The fused pieces of the LMU layer (see {@link lmu.nn.lmu.LmuConfig} for the equations) on one
 * device: the causal Legendre convolution of the parallel mode and the recurrent cell run through
 * time, forward and backward. Everything that does not depend on the previous step (the products
 * with e_x and W_x, biases, the weight gradients) is left to the generic ops, so these are the only
 * parts a device needs a kernel of its own for.
 *
 * <p>Tensors are row-major, on the implementation's device, all of one dtype (float32; the CPU also
 * takes float64); weights are (fan_in, fan_out) as in {@link lmu.nn.lmu.LmuParameters}. The system
 * ({@link LegendreImpulseResponse}, {@link LegendreStateSpace}) is a host object fixed for a layer:
 * an implementation may keep a device copy of it per instance. Sequences are padded: frames
 * t ≥ lengths[b] are never read, and every returned tensor is zero there. Returned tensors are new
 * (assign, don't accumulate).
 *
 * <pre>{@code
 * LmuKernels k = Backends.kernels(u, LmuKernels.class);
 * Tensor m = k.convolutionForward(ir, u, lengths);        // u (B, T, K) -> m (B, T, K·d)
 * }</pre>
 */
public interface LmuKernels {
    /** Index of h in the result of {@link #recurrentForward}. */
    int FORWARD_H = 0;
    /** Index of m in the result of {@link #recurrentForward}. */
    int FORWARD_M = 1;
    /** Index of dz in the result of {@link #recurrentBackward}. */
    int BACKWARD_DZ = 0;
    /** Index of du in the result of {@link #recurrentBackward}. */
    int BACKWARD_DU = 1;

    /**
     * {@code m[b, t, k·d + i] = Σ_{s ≤ t} H[t − s, i] · u[b, s, k]} for t &lt; lengths[b].
     *
     * @param ir impulse response H of the layer's system (order d)
     * @param u input, shape (B, T, K)
     * @param lengths valid frames per sequence, shape (B), each in [0, min(T, ir.maxLength())]
     * @return m, shape (B, T, K·d), channel k·d + i
     * @throws IllegalArgumentException if u is not (B, T, K) on this device or lengths do not fit
     */
    default Tensor convolutionForward(LegendreImpulseResponse ir, Tensor u, int[] lengths) {
        return convolutionForward(ir, u, lengths, Method.AUTO);
    }

    /**
     * {@link #convolutionForward(LegendreImpulseResponse, Tensor, int[])} computed in the given
     * form, as {@link lmu.nn.lmu.LmuLayer#setConvolutionMethod} asks: AUTO lets the implementation
     * choose per length, DIRECT and FFT force the direct (Toeplitz) sum or the FFT form. The forms
     * compute the same sums (they differ in rounding only).
     *
     * @param ir impulse response H of the layer's system (order d)
     * @param u input, shape (B, T, K)
     * @param lengths valid frames per sequence, shape (B), each in [0, min(T, ir.maxLength())]
     * @param method AUTO, DIRECT or FFT
     * @return m, shape (B, T, K·d), channel k·d + i
     * @throws IllegalArgumentException if u is not (B, T, K) on this device, lengths do not fit,
     *     method is null, or the device cannot take the forced form at this T
     */
    Tensor convolutionForward(LegendreImpulseResponse ir, Tensor u, int[] lengths, Method method);

    /**
     * Gradient of {@link #convolutionForward}: {@code du[b, s, k] = Σ_{s ≤ t < len} Σ_i H[t − s, i] · dm[b, t, k·d + i]}.
     *
     * @param ir impulse response used in forward
     * @param dm gradient with respect to m, shape (B, T, K·d); padded frames ignored
     * @param lengths as in forward
     * @return du, shape (B, T, K)
     * @throws IllegalArgumentException if dm is not (B, T, K·d) with d = ir.order() or lengths do not fit
     */
    default Tensor convolutionBackward(LegendreImpulseResponse ir, Tensor dm, int[] lengths) {
        return convolutionBackward(ir, dm, lengths, Method.AUTO);
    }

    /**
     * {@link #convolutionBackward(LegendreImpulseResponse, Tensor, int[])} in the given form (see
     * {@link #convolutionForward(LegendreImpulseResponse, Tensor, int[], Method)}).
     *
     * @param ir impulse response used in forward
     * @param dm gradient with respect to m, shape (B, T, K·d); padded frames ignored
     * @param lengths as in forward
     * @param method AUTO, DIRECT or FFT
     * @return du, shape (B, T, K)
     * @throws IllegalArgumentException as the forward
     */
    Tensor convolutionBackward(LegendreImpulseResponse ir, Tensor dm, int[] lengths, Method method);

    /**
     * The recurrence over time, per sequence, from zero state:
     *
     * <pre>
     * u   = ux[t] + h_{t−1}·e_h + m_{t−1}·e_m     (K)
     * m_t = Ā m_{t−1} + B̄ u   per memory channel  (K·d)
     * h_t = f(ax[t] + h_{t−1}·W_h + m_t·W_m)       (hidden)
     * </pre>
     *
     * @param ss the discretised system (Ā, B̄ of order d)
     * @param f activation
     * @param ux x·e_x + b_u, shape (B, T, K)
     * @param ax x·W_x + b_h, shape (B, T, hidden) (b_h broadcast, or zeros, without W_x)
     * @param eh shape (hidden, K), or null (no hidden-to-memory)
     * @param em shape (K·d, K), or null (no memory-to-memory)
     * @param wh shape (hidden, hidden), or null (no hidden-to-hidden)
     * @param wm shape (K·d, hidden)
     * @param lengths valid frames per sequence, shape (B), each in [0, T]
     * @return {h (B, T, hidden), m (B, T, K·d)} at indices {@link #FORWARD_H}, {@link #FORWARD_M}
     * @throws IllegalArgumentException on a shape, dtype or device mismatch, or lengths that do not fit
     */
    Tensor[] recurrentForward(LegendreStateSpace ss, Activation f, Tensor ux, Tensor ax, Tensor eh, Tensor em, Tensor wh,
            Tensor wm, int[] lengths);

    /**
     * Backward through time of {@link #recurrentForward}: the gradients of the pre-activation
     * (dz = dL/d(ax), which includes everything later frames send back through h) and of the memory
     * input (du = dL/d(ux)) at every frame. The weight gradients follow by products:
     * dW_m = mᵀ·dz, dW_h = h_prevᵀ·dz, de_h = h_prevᵀ·du, de_m = m_prevᵀ·du (h_prev, m_prev: h and m
     * shifted one frame later, zero at t = 0).
     *
     * @param dh gradient with respect to h, shape (B, T, hidden); padded frames ignored
     * @param h the forward's h, shape (B, T, hidden)
     * @return {dz (B, T, hidden), du (B, T, K)} at indices {@link #BACKWARD_DZ}, {@link #BACKWARD_DU}
     * @throws IllegalArgumentException on a shape, dtype or device mismatch, or lengths that do not fit
     */
    Tensor[] recurrentBackward(LegendreStateSpace ss, Activation f, Tensor dh, Tensor h, Tensor eh, Tensor em, Tensor wh,
            Tensor wm, int[] lengths);

    /**
     * {@link #convolutionForward(LegendreImpulseResponse, Tensor, int[], Method)} with the lengths in
     * a device tensor ({@link DeviceLengths}: float32 whole numbers, shape (B)) read when the kernels
     * run, so a captured launch replays with the values written there before the replay. The values
     * are the caller's to check (a check would read them on the host); T must not exceed
     * {@code ir.maxLength()}. The default reads them to the host and calls the host form.
     *
     * @param lengths valid frames per sequence, float32 tensor of shape (B) on this device
     * @throws IllegalArgumentException as the host form, or if lengths is not of shape (B)
     */
    default Tensor convolutionForward(LegendreImpulseResponse ir, Tensor u, Tensor lengths, Method method) {
        String op = "LmuKernels.convolutionForward";
        return convolutionForward(ir, u, DeviceLengths.read(op, lengths, u.dim(0)), method);
    }

    /**
     * {@link #convolutionBackward(LegendreImpulseResponse, Tensor, int[], Method)} with device
     * lengths (see the forward of that form).
     *
     * @param lengths valid frames per sequence, float32 tensor of shape (B) on this device
     * @throws IllegalArgumentException as the host form, or if lengths is not of shape (B)
     */
    default Tensor convolutionBackward(LegendreImpulseResponse ir, Tensor dm, Tensor lengths, Method method) {
        String op = "LmuKernels.convolutionBackward";
        return convolutionBackward(ir, dm, DeviceLengths.read(op, lengths, dm.dim(0)), method);
    }

    /**
     * {@link #recurrentForward(LegendreStateSpace, Activation, Tensor, Tensor, Tensor, Tensor, Tensor,
     * Tensor, int[])} with device lengths (see {@link #convolutionForward(LegendreImpulseResponse,
     * Tensor, Tensor, Method)}).
     *
     * @param lengths valid frames per sequence, float32 tensor of shape (B) on this device
     * @throws IllegalArgumentException as the host form, or if lengths is not of shape (B)
     */
    default Tensor[] recurrentForward(LegendreStateSpace ss, Activation f, Tensor ux, Tensor ax, Tensor eh, Tensor em,
            Tensor wh, Tensor wm, Tensor lengths) {
        String op = "LmuKernels.recurrentForward";
        return recurrentForward(ss, f, ux, ax, eh, em, wh, wm, DeviceLengths.read(op, lengths, ux.dim(0)));
    }

    /**
     * {@link #recurrentBackward(LegendreStateSpace, Activation, Tensor, Tensor, Tensor, Tensor, Tensor,
     * Tensor, int[])} with device lengths (see {@link #convolutionForward(LegendreImpulseResponse,
     * Tensor, Tensor, Method)}).
     *
     * @param lengths valid frames per sequence, float32 tensor of shape (B) on this device
     * @throws IllegalArgumentException as the host form, or if lengths is not of shape (B)
     */
    default Tensor[] recurrentBackward(LegendreStateSpace ss, Activation f, Tensor dh, Tensor h, Tensor eh, Tensor em,
            Tensor wh, Tensor wm, Tensor lengths) {
        String op = "LmuKernels.recurrentBackward";
        return recurrentBackward(ss, f, dh, h, eh, em, wh, wm, DeviceLengths.read(op, lengths, dh.dim(0)));
    }
}
