package lmu.amp;

import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.F32Storage;
import lmu.tensor.Tensor;
import lmu.util.Parallel;

/**
 * Emulated half-precision storage: y = round(x) to fp16 or bf16 (as float32 values), and in
 * backward dx = round(dy), because a half-precision activation also receives a half-precision
 * gradient. The op is the identity up to rounding, so its exact derivative is 1 almost everywhere;
 * what it adds is the rounding error (and the overflow to infinity) a GPU run in that format has.
 * CPU tensors of dtype F32 only.
 */
public final class HalfRound extends Function {
    private static final int GRAIN = 1 << 15;
    private final Precision precision;

    private HalfRound(Precision precision) {
        this.precision = precision;
    }

    /**
     * @param x any shape, dtype F32, on the CPU
     * @param precision FP16 or BF16 (OFF returns x itself)
     * @return x rounded to the format, same shape
     * @throws IllegalArgumentException if x is not an F32 CPU tensor
     */
    public static Tensor apply(Tensor x, Precision precision) {
        if (precision == null) throw new IllegalArgumentException("HalfRound: precision is null");
        if (precision == Precision.OFF) return x;
        check(x);
        return new HalfRound(precision).apply(new Tensor[] {x});
    }

    private static void check(Tensor x) {
        if (x.dtype() != DType.F32) {
            throw new IllegalArgumentException("HalfRound: input must have dtype F32, got " + x.dtype());
        }
        if (!x.device().equals(Device.CPU)) {
            throw new IllegalArgumentException("HalfRound: emulation runs on the CPU only, input is on " + x.device());
        }
    }

    @Override
    public String name() {
        return "HalfRound(" + precision.configName() + ")";
    }

    @Override
    protected Tensor forward(Ctx ctx, Tensor... in) {
        return rounded(in[0]);
    }

    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        check(dOut);
        return new Tensor[] {rounded(dOut)};
    }

    private Tensor rounded(Tensor x) {
        float[] src = x.f32();
        float[] dst = new float[src.length];
        if (src.length < GRAIN) {
            precision.round(src, 0, dst, 0, src.length);
        } else {
            Parallel.forRange(src.length, GRAIN, (from, to) -> precision.round(src, from, dst, from, to - from));
        }
        return new Tensor(new F32Storage(dst), x.shape());
    }
}
