package lmu.bench;

import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;

/** Helpers of the op benchmarks: seeded inputs and the checks their setups run before timing. */
final class OpBench {
    private OpBench() {}

    /** Standard normal float32 tensor of the shape, from {@code new Rng(seed)}. */
    static Tensor randn(long seed, int... shape) {
        return Tensor.randn(new Rng(seed), DType.F32, 1, shape);
    }

    /** Throws unless every value is finite (a broken kernel must not be timed). */
    static void finite(String what, Tensor t) {
        for (float v : t.toFloatArray()) {
            if (!Float.isFinite(v)) throw new IllegalStateException(what + ": non-finite output " + v);
        }
    }

    /** Throws unless |actual − expected| ≤ tol. */
    static void near(String what, double actual, double expected, double tol) {
        if (!(Math.abs(actual - expected) <= tol)) {
            throw new IllegalStateException(what + ": got " + actual + ", expected " + expected + " ± " + tol);
        }
    }

    /** Parses "8x400x384" into its sizes. */
    static int[] shape(String s) {
        String[] p = s.split("x");
        int[] d = new int[p.length];
        for (int i = 0; i < p.length; i++) d[i] = Integer.parseInt(p[i]);
        return d;
    }
}
