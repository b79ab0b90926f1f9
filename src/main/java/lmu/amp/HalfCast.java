package lmu.amp;

import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.Tensor;

/**
 * A real conversion of a device tensor between F32 and a 16-bit format (F16, BF16), through its
 * backend's {@link Backend#cast}: to a 16-bit format rounds to nearest even, widening is exact. The
 * gradient is converted back to the input's dtype. The CPU backend has no 16-bit storage (it
 * emulates it with {@link HalfRound}), so this op is for device tensors only.
 */
final class HalfCast extends Function {
    private final DType to;
    private final Tensor converted; // x already converted (same values), or null

    private HalfCast(DType to, Tensor converted) {
        this.to = to;
        this.converted = converted;
    }

    /**
     * @param x any shape, dtype F32, F16 or BF16, on a device (not the CPU)
     * @param to F32, F16 or BF16
     * @return x converted, same shape; x itself when it already has dtype {@code to}
     * @throws IllegalArgumentException if x is on the CPU or a dtype is F64
     */
    static Tensor apply(Tensor x, DType to) {
        if (to == DType.F64 || x.dtype() == DType.F64) {
            throw new IllegalArgumentException("HalfCast: converts between F32, F16 and BF16, got " + x.dtype() + " to " + to);
        }
        if (x.device().equals(Device.CPU)) {
            throw new IllegalArgumentException("HalfCast: the CPU has no 16-bit storage (HalfRound emulates it), x is on the CPU");
        }
        if (x.dtype() == to) return x;
        return new HalfCast(to, null).apply(new Tensor[] {x});
    }

    /**
     * As {@link #apply} when {@code converted} already holds x converted (an earlier conversion of
     * the same tensor): a new graph node on the same storage, nothing computed or allocated.
     *
     * @param converted an earlier result of {@code apply(x, to)}
     */
    static Tensor reuse(Tensor x, Tensor converted) {
        if (converted.numel() != x.numel() || !converted.device().equals(x.device())) {
            throw new IllegalArgumentException("HalfCast: a conversion of " + x + " cannot be " + converted);
        }
        return new HalfCast(converted.dtype(), converted).apply(new Tensor[] {x});
    }

    @Override
    public String name() {
        return "HalfCast(" + to.name().toLowerCase(java.util.Locale.ROOT) + ")";
    }

    @Override
    protected Tensor forward(Ctx ctx, Tensor... in) {
        ctx.save(in[0].dtype());
        if (converted != null) return new Tensor(converted.storage(), in[0].shape(), in[0].device());
        Backend be = Backends.of(in[0]);
        Tensor y = be.empty(to, in[0].shape());
        be.cast(y, in[0]);
        return y;
    }

    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        DType from = (DType) ctx.saved(0);
        if (dOut.dtype() == from) return new Tensor[] {dOut};
        Backend be = Backends.of(dOut);
        Tensor dx = be.empty(from, dOut.shape());
        be.cast(dx, dOut);
        return new Tensor[] {dx};
    }
}
