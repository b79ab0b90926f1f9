package lmu.amp;

import java.util.Locale;
import lmu.tensor.DType;

/**
 * The storage format of matrix-product and attention operands in a mixed-precision run. Every
 * other value (softmax, log-softmax, layer norm, CTC, reductions, master weights, optimizer state)
 * stays fp32. {@link #round} gives the value a float32 takes after a round trip through the half
 * format (round to nearest even), which is how the CPU backend emulates half-precision storage.
 */
public enum Precision {
    /** Everything fp32. */
    OFF(DType.F32),
    /** IEEE half: 5 exponent bits (largest finite 65504, smallest subnormal 2^-24), 10 mantissa bits. */
    FP16(DType.F16),
    /** bfloat16: fp32's 8 exponent bits, 7 mantissa bits. */
    BF16(DType.BF16);

    private static final int F16_MIN_NORMAL_BITS = 0x38800000; // 2^-14
    private static final int F16_OVERFLOW_BITS = 0x477FF000; // 65520: halfway past 65504, rounds (to even) to infinity

    private final DType storage;

    Precision(DType storage) {
        this.storage = storage;
    }

    /**
     * Resolves a {@code train.mixed_precision} value.
     *
     * @param mode off, fp16, bf16 or auto (case-insensitive)
     * @param gpu whether the run is on a GPU: auto means fp16 there and off on the CPU
     * @throws IllegalArgumentException for any other mode
     */
    public static Precision resolve(String mode, boolean gpu) {
        String m = mode == null ? "" : mode.toLowerCase(Locale.ROOT);
        return switch (m) {
            case "off" -> OFF;
            case "fp16" -> FP16;
            case "bf16" -> BF16;
            case "auto" -> gpu ? FP16 : OFF;
            default -> throw new IllegalArgumentException("Precision: mixed precision must be off, fp16, bf16 or auto, got '"
                    + mode + "'");
        };
    }

    /** Storage type of half-precision values: F32 when off. */
    public DType storage() {
        return storage;
    }

    /** Whether this precision stores anything in 16 bits. */
    public boolean isHalf() {
        return this != OFF;
    }

    /** Whether gradients need loss scaling to stay representable: fp16 only (bf16 has fp32's range). */
    public boolean needsLossScaling() {
        return this == FP16;
    }

    /** Bytes per element of a half-precision-stored value (4 when off). */
    public int bytes() {
        return storage.bytes();
    }

    /** The name used in configs and on the command line. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** x rounded to this format and back to float32 (x itself when off). */
    public float round(float x) {
        return switch (this) {
            case OFF -> x;
            case FP16 -> roundToF16(x);
            case BF16 -> roundToBf16(x);
        };
    }

    /** Rounds {@code n} values from {@code src[srcOff]} into {@code dst[dstOff]} (the arrays may be the same). */
    public void round(float[] src, int srcOff, float[] dst, int dstOff, int n) {
        switch (this) {
            case OFF -> System.arraycopy(src, srcOff, dst, dstOff, n);
            case FP16 -> {
                for (int i = 0; i < n; i++) dst[dstOff + i] = roundToF16(src[srcOff + i]);
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) dst[dstOff + i] = roundToBf16(src[srcOff + i]);
            }
        }
    }

    /**
     * x rounded to the nearest fp16 value (ties to even), as a float: overflow gives ±infinity,
     * values below 2^-14 become fp16 subnormals (multiples of 2^-24), NaN stays NaN. Equal to
     * {@code HalfFloats.f16ToFloat(HalfFloats.floatToF16(x))}, without the 16-bit detour.
     */
    public static float roundToF16(float x) {
        int bits = Float.floatToRawIntBits(x);
        int abs = bits & 0x7FFFFFFF;
        if (abs >= 0x7F800000) return x; // infinity, NaN
        if (abs >= F16_OVERFLOW_BITS) return Math.copySign(Float.POSITIVE_INFINITY, x);
        if (abs < F16_MIN_NORMAL_BITS) {
            // subnormal range: a multiple of 2^-24; x·2^24 is exact and rint rounds half to even
            return (float) (Math.rint(x * 0x1p24) * 0x1p-24);
        }
        int rounded = bits + 0xFFF + ((bits >>> 13) & 1); // keep 10 mantissa bits, ties to even
        return Float.intBitsToFloat(rounded & 0xFFFFE000);
    }

    /** x rounded to the nearest bfloat16 value (ties to even), as a float; NaN stays NaN. */
    public static float roundToBf16(float x) {
        int bits = Float.floatToRawIntBits(x);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) return x; // NaN
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return Float.intBitsToFloat(rounded & 0xFFFF0000);
    }
}
