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
    private final Tensor seeds; // a device-side seed table, or null: the seed is the host value above
    private final int slot;

    private Dropout(double p, long seed, Tensor seeds, int slot) {
        this.p = p;
        this.seed = seed;
        this.seeds = seeds;
        this.slot = slot;
    }

    /** Returns x itself when p is 0. */
    public static Tensor apply(Tensor x, double p, long seed) {
        Checks.inRange("dropout p", p, 0, 1);
        if (p == 1) throw new IllegalArgumentException("dropout p : 1.0 (expected: < 1, nothing would be kept)");
        if (p == 0) return x;
        return new Dropout(p, seed, null, 0).apply(new Tensor[] {x});
    }

    /**
     * Dropout whose mask seed is read from slot {@code slot} of a device-side {@link
     * lmu.backend.SeedTable} when the kernels run (forward and backward), so a captured step draws
     * new masks when the table is rewritten; the same mask as {@link #apply(Tensor, double, long)}
     * with the seed the slot holds. Returns x itself when p is 0.
     *
     * @param x input, any shape, on the table's device
     * @param seeds the seed table, float32
     * @throws IllegalArgumentException when p is outside [0, 1) or the table is on another device
     */
    public static Tensor apply(Tensor x, double p, Tensor seeds, int slot) {
        Checks.inRange("dropout p", p, 0, 1);
        if (p == 1) throw new IllegalArgumentException("dropout p : 1.0 (expected: < 1, nothing would be kept)");
        if (!seeds.device().equals(x.device())) {
            throw new IllegalArgumentException("Dropout: the seed table must be on " + x.device() + " like x, got " + seeds.device());
        }
        if (p == 0) return x;
        return new Dropout(p, 0, seeds, slot).apply(new Tensor[] {x});
    }

    @Override
    protected Tensor forward(Ctx ctx, Tensor... in) {
        Backend be = Backends.of(in[0]);
        Tensor y = be.empty(in[0].dtype(), in[0].shape());
        if (seeds != null) {
            be.dropout(y, in[0], p, seeds, slot);
        } else if (be instanceof CpuBackend cpu && in[0].dtype() == DType.F32) {
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
        if (seeds != null) be.dropout(dx, dOut, p, seeds, slot);
        else if (be instanceof CpuBackend cpu && dOut.dtype() == DType.F32) cpu.dropoutBackward(dx, dOut, p, (long[]) ctx.saved(0));
        else be.dropout(dx, dOut, p, seed);
        return new Tensor[] {dx};
    }
}
