package lmu.ops;

import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.backend.cpu.CpuBackend;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Checks;

/**
 * Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1−p). The
 * mask is a pure function of (seed, element index); on the CPU in float32 forward records it as bits
 * (n/8 bytes) for backward, elsewhere backward draws it again.
 */
public final class Dropout extends Function {
    private final double p;
    private final long seed;

    private Dropout(double p, long seed) {
        this.p = p;
        this.seed = seed;
    }

    /** Returns x itself when p is 0. */
    public static Tensor apply(Tensor x, double p, long seed) {
        Checks.inRange("dropout p", p, 0, 1);
        if (p == 1) throw new IllegalArgumentException("dropout p : 1.0 (expected: < 1, nothing would be kept)");
        if (p == 0) return x;
        return new Dropout(p, seed).apply(new Tensor[] {x});
    }

    @Override
    protected Tensor forward(Ctx ctx, Tensor... in) {
        Backend be = Backends.of(in[0]);
        Tensor y = be.empty(in[0].dtype(), in[0].shape());
        if (be instanceof CpuBackend cpu && in[0].dtype() == DType.F32) {
            ctx.save(cpu.dropoutRecording(y, in[0], p, seed)); // backward reads the mask instead of drawing it again
        } else {
            be.dropout(y, in[0], p, seed);
        }
        return y;
    }

    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        Backend be = Backends.of(dOut);
        Tensor dx = be.empty(dOut.dtype(), dOut.shape());
        if (be instanceof CpuBackend cpu && dOut.dtype() == DType.F32) cpu.dropoutBackward(dx, dOut, p, (long[]) ctx.saved(0));
        else be.dropout(dx, dOut, p, seed);
        return new Tensor[] {dx};
    }
}
