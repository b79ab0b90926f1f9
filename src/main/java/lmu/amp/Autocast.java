package lmu.amp;

import java.util.Map;
import java.util.WeakHashMap;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.Tensor;

/**
 * The precision policy in force on the current thread. Ops that run in half precision on a GPU
 * (matrix products, the attention products, convolutions, the fused LMU layer) pass their operands
 * and their result through {@link #half} (matrix products through {@link #operand} and {@link
 * #result}); everything else computes and stores fp32 as usual. On the CPU all three round to the
 * half format with {@link HalfRound} (so the product itself accumulates in fp32 from
 * half-precision operands, as a tensor-core product does, and its result is stored in half
 * precision); F64 tensors (gradient checks) are never touched.
 *
 * <p>On a GPU the storage is real: {@link #operand} converts an F32 device tensor to an F16/BF16
 * tensor (which the product saves for backward, so these activations take 2 bytes per element),
 * the product accumulates in fp32 and writes its result in fp32 (the conversion fused into the
 * product), and {@link #result} makes the backward pass convert the result's gradient to the half
 * format, so the backward products run on half operands too and the operand gradients come back
 * in half precision (widened to fp32 by the operand's conversion). {@link #half} leaves device
 * tensors as they are: ops without a half-precision kernel on the device (convolutions, the fused
 * LMU layer) compute in fp32 there.
 *
 * <p>A scope per thread, so data-parallel ranks on their own threads each set their own:
 *
 * <pre>{@code
 * try (Autocast ac = Autocast.enable(Precision.FP16)) {
 *     out = model.forward(features, lengths);   // graph records the roundings
 * }
 * loss.backward();                              // gradients rounded where the activations were
 * }</pre>
 */
public final class Autocast implements AutoCloseable {
    private static final ThreadLocal<Precision> CURRENT = ThreadLocal.withInitial(() -> Precision.OFF);
    /**
     * Device operands already converted in this scope, by source tensor (identity, weak keys): an
     * activation that feeds several products (the input of the q, k and v projections) is converted
     * and stored once. Dropped when a policy scope opens over OFF and when the policy returns to OFF
     * (scopes nested inside one, such as an OFF scope inside an FP16 one, keep it).
     */
    private static final ThreadLocal<Map<Tensor, Tensor>> OPERANDS = ThreadLocal.withInitial(WeakHashMap::new);

    private final Precision previous;
    private boolean closed;

    private Autocast(Precision previous) {
        this.previous = previous;
    }

    /**
     * Sets the policy of this thread until {@link #close} (scopes nest; closing restores the outer one).
     *
     * @throws IllegalArgumentException if precision is null
     */
    public static Autocast enable(Precision precision) {
        if (precision == null) throw new IllegalArgumentException("Autocast: precision is null");
        Precision prev = CURRENT.get();
        CURRENT.set(precision);
        if (prev == Precision.OFF) OPERANDS.get().clear();
        return new Autocast(prev);
    }

    /** The policy of this thread (OFF outside any scope). */
    public static Precision current() {
        return CURRENT.get();
    }

    /**
     * x as the policy stores a matrix-product operand or result: rounded to fp16/bf16 (gradient
     * rounded the same way) for an F32 CPU tensor under FP16/BF16, x itself otherwise.
     *
     * @param x any shape; may be null (absent optional operand), which is returned as is
     */
    public static Tensor half(Tensor x) {
        Precision p = CURRENT.get();
        if (p == Precision.OFF || x == null || x.dtype() != DType.F32 || !x.device().equals(Device.CPU)) return x;
        return HalfRound.apply(x, p);
    }

    /**
     * x as the policy stores a matrix-product operand: on the CPU as {@link #half}; on a device, an
     * F32 tensor converted to the policy's 16-bit format under FP16/BF16 (gradient converted back to
     * F32); an activation (a non-leaf) met again in the same scope reuses its first conversion's
     * storage, so it is stored once whatever the number of products it feeds. x itself when the
     * policy is off, x is null or x is not F32.
     *
     * @param x any shape
     */
    public static Tensor operand(Tensor x) {
        Precision p = CURRENT.get();
        if (p == Precision.OFF || x == null || x.dtype() != DType.F32) return x;
        if (x.device().equals(Device.CPU)) return HalfRound.apply(x, p);
        // leaves (parameters, inputs) are converted afresh: an optimizer step may change them in place
        if (x.node() == null) return HalfCast.apply(x, p.storage());
        Map<Tensor, Tensor> done = OPERANDS.get();
        Tensor prev = done.get(x);
        Tensor h = prev != null && prev.dtype() == p.storage() ? HalfCast.reuse(x, prev) : HalfCast.apply(x, p.storage());
        if (prev == null) done.put(x, h);
        return h;
    }

    /**
     * x as the policy stores a matrix-product result: on the CPU as {@link #half}; on a device
     * under FP16/BF16, a 16-bit x is widened to F32, and an F32 x (the product wrote fp32) is
     * returned as is with its gradient converted to the 16-bit format in backward. x itself when
     * the policy is off, x is null or F64.
     *
     * @param x any shape
     */
    public static Tensor result(Tensor x) {
        Precision p = CURRENT.get();
        if (p == Precision.OFF || x == null || x.dtype() == DType.F64) return x;
        if (x.device().equals(Device.CPU)) return x.dtype() == DType.F32 ? HalfRound.apply(x, p) : x;
        if (x.dtype() != DType.F32) return HalfCast.apply(x, DType.F32);
        return HalfGradient.apply(x, p.storage());
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        CURRENT.set(previous);
        if (previous == Precision.OFF) OPERANDS.get().clear();
    }
}
