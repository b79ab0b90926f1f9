package lmu.backend.cpu;

/**
 * Elementary functions for float32 kernels where {@link Math}'s are slow: {@code Math.tanh} is
 * not an intrinsic on JDK 17 (about 6 times the cost of {@code Math.exp} measured on this project's
 * 2-core machine), so float32 tanh goes through one double {@code exp}.
 */
public final class FastMath {
    private FastMath() {}

    /**
     * tanh(a) rounded to float, within 1e-7 relative of the exact value (tested over the float
     * range): a itself for |a| &lt; 4e-4 (where a − a³/3 rounds to a), ±1 beyond ±15, otherwise
     * (e − 1)/(e + 1) with e = exp(2a) in double. NaN gives NaN.
     */
    public static float tanh(float a) {
        if (Math.abs(a) < 4e-4f) return a;
        if (a > 15f) return 1f;
        if (a < -15f) return -1f;
        double e = Math.exp(2.0 * a);
        return (float) ((e - 1) / (e + 1));
    }
}
