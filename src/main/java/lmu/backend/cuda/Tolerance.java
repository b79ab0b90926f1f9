package lmu.backend.cuda;

/**
 * The one tolerance formula of every CPU-vs-CUDA comparison: a value {@code got} matches the
 * reference {@code ref} when
 *
 * <pre>
 *     |got − ref| ≤ eps · sqrt(max(1, n)) · (1 + |ref|)
 * </pre>
 *
 * where {@code n} is the length of the longest sum that produced the value (1 for elementwise ops,
 * the reduced length for sums and softmax rows, K for matrix products) and {@code eps} depends only
 * on the arithmetic precision. Rounding errors of a length-n sum of O(1) terms grow like sqrt(n)
 * times the unit roundoff; the {@code 1 +} makes the bound absolute near zero and relative for large
 * values. Inputs of the checks are O(1) (unit normal or similar), which is what the absolute part
 * assumes. No per-tensor tolerances anywhere else.
 *
 * @param name the precision's name, shown in reports
 * @param eps the per-precision constant
 */
public record Tolerance(String name, double eps) {
    /**
     * fp32 arithmetic against the CPU's float64-accumulated reference: about 170 units of fp32
     * roundoff (2^-24), room for a few ulp of expf/logf/tanhf amplified by a subtraction.
     */
    public static final Tolerance F32 = new Tolerance("f32", 1e-5);

    /** fp32 matrix products on TF32 tensor cores: inputs rounded to 10 mantissa bits, 4 × 2^-11. */
    public static final Tolerance TF32 = new Tolerance("tf32", 4 * 0x1.0p-11);

    /** fp16 storage or arithmetic with fp32 accumulation: 8 units of fp16 roundoff (2^-11). */
    public static final Tolerance F16 = new Tolerance("f16", 8 * 0x1.0p-11);

    /** bf16 storage or arithmetic with fp32 accumulation: 4 units of bf16 roundoff (2^-8). */
    public static final Tolerance BF16 = new Tolerance("bf16", 4 * 0x1.0p-8);

    /**
     * The tolerance of values stored in {@code dtype} or computed from operands stored in it (the
     * one per-dtype table): F32 → {@link #F32}, F16 → {@link #F16}, BF16 → {@link #BF16}. F64
     * results are held to the fp32 tolerance too (the device never computes in F64; a float64
     * reference is the baseline, not a result).
     */
    public static Tolerance of(lmu.tensor.DType dtype) {
        return switch (dtype) {
            case F32, F64 -> F32;
            case F16 -> F16;
            case BF16 -> BF16;
        };
    }

    /**
     * The tolerance of a product or other op whose operands are stored in {@code operands} and whose
     * result is stored in {@code result}: the coarser of the two (an f16 product with an f32 result
     * is still held to f16's bound, its inputs having been rounded).
     */
    public static Tolerance of(lmu.tensor.DType operands, lmu.tensor.DType result) {
        Tolerance a = of(operands), b = of(result);
        return a.eps >= b.eps ? a : b;
    }

    public Tolerance {
        if (!(eps > 0)) throw new IllegalArgumentException("Tolerance: eps : " + eps + " (expected: > 0)");
    }

    /**
     * The largest error allowed for one value.
     *
     * @param ref the reference value
     * @param n length of the longest sum behind the value, &ge; 1 (values below 1 count as 1)
     */
    public double bound(double ref, int n) {
        return eps * Math.sqrt(Math.max(1, n)) * (1 + Math.abs(ref));
    }

    /**
     * Whether {@code got} matches {@code ref}. NaN matches NaN and an infinity matches the same
     * infinity (ops such as log of 0 or a fully masked log-softmax row produce them on purpose).
     */
    public boolean matches(double got, double ref, int n) {
        if (Double.isNaN(ref) || Double.isInfinite(ref)) return Double.compare(got, ref) == 0 || (Double.isNaN(got) && Double.isNaN(ref));
        if (Double.isNaN(got) || Double.isInfinite(got)) return false;
        return Math.abs(got - ref) <= bound(ref, n);
    }

    @Override
    public String toString() {
        return name + " (eps " + eps + ")";
    }
}
