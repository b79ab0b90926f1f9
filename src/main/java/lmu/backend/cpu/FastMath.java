package lmu.backend.cpu;

/**
 * Elementary functions for float32 kernels where {@link Math}'s are slow: {@code Math.tanh} is
 * not an intrinsic on JDK 17 (about 6 times the cost of {@code Math.exp} measured on this project's
 * 2-core machine), so float32 tanh goes through one double {@code exp}; the softmax exponentials
 * (arguments ≤ 0 after the row maximum is subtracted) use a short polynomial, 2 to 3 times faster
 * than {@code Math.exp} there.
 */
public final class FastMath {
    private FastMath() {}

    // 2^f on [0, 1): degree-5 fit minimising relative error (7.7e-8) on Chebyshev nodes
    private static final double C0 = 0.9999999269249831, C1 = 0.6931529681766312, C2 = 0.24015452988672104,
            C3 = 0.05582360446230469, C4 = 0.00899258403130715, C5 = 0.0018762329452044757;

    /**
     * e^x for x ≤ 0, rounded to float, within 2e-7 relative (tested): 2^(x·log2 e) split into an
     * integer power (put into the exponent bits) and a fraction f in [0, 1) (a polynomial). Returns 0
     * below −87 (where e^x &lt; 1.7e-38) and for −∞, NaN for NaN. Arguments above 0 are not
     * supported (callers subtract a maximum first).
     */
    public static float expNonPositive(float x) {
        if (!(x > -87f)) return x != x ? x : 0f;
        double t = x * 1.4426950408889634;
        double whole = Math.floor(t);
        double f = t - whole;
        double p = C0 + f * (C1 + f * (C2 + f * (C3 + f * (C4 + f * C5))));
        return Float.intBitsToFloat(Float.floatToRawIntBits((float) p) + ((int) whole << 23));
    }

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
