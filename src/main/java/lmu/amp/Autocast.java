package lmu.amp;

import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.Tensor;

/**
 * The precision policy in force on the current thread. Ops that run in half precision on a GPU
 * (matrix products, the attention products, convolutions, the fused LMU layer) pass their operands
 * and their result through {@link #half}; everything else computes and stores fp32 as usual. On
 * the CPU {@link #half} rounds to the half format with {@link HalfRound} (so the product itself
 * accumulates in fp32 from half-precision operands, as a tensor-core product does, and its result
 * is stored in half precision); F64 tensors (gradient checks) are never touched.
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

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        CURRENT.set(previous);
    }
}
