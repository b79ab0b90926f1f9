package lmu.ops;

import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.tensor.Tensor;
import lmu.util.Checks;

/**
 * Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1−p). The
 * mask is a pure function of (seed, element index), so backward regenerates it instead of storing it.
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
        be.dropout(y, in[0], p, seed);
        return y;
    }

    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        Backend be = Backends.of(dOut);
        Tensor dx = be.empty(dOut.dtype(), dOut.shape());
        be.dropout(dx, dOut, p, seed);
        return new Tensor[] {dx};
    }
}
