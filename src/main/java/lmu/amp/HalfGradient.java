package lmu.amp;

import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.tensor.DType;
import lmu.tensor.Tensor;

/**
 * The identity in forward (the output shares x's storage) whose backward converts the gradient to
 * a 16-bit format: placed after a matrix product that wrote its result in fp32 from half-precision
 * operands, so that the products of its backward pass also run on half-precision operands (and the
 * gradient is rounded where the CPU emulation rounds it). Device tensors only.
 */
final class HalfGradient extends Function {
    private final DType format;

    private HalfGradient(DType format) {
        this.format = format;
    }

    /**
     * @param x any shape, on a device
     * @param format F16 or BF16
     * @return x (a new tensor on the same storage)
     */
    static Tensor apply(Tensor x, DType format) {
        if (format != DType.F16 && format != DType.BF16) {
            throw new IllegalArgumentException("HalfGradient: format must be F16 or BF16, got " + format);
        }
        return new HalfGradient(format).apply(new Tensor[] {x});
    }

    @Override
    public String name() {
        return "HalfGradient(" + format.name().toLowerCase(java.util.Locale.ROOT) + ")";
    }

    @Override
    protected Tensor forward(Ctx ctx, Tensor... in) {
        return new Tensor(in[0].storage(), in[0].shape(), in[0].device());
    }

    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        if (dOut.dtype() == format) return new Tensor[] {dOut};
        Backend be = Backends.of(dOut);
        Tensor dx = be.empty(format, dOut.shape());
        be.cast(dx, dOut);
        return new Tensor[] {dx};
    }
}
