package lmu.tensor;

/**
 * Conversions between float32 and the 16-bit storage formats, rounding to nearest even: IEEE fp16
 * (1 sign, 5 exponent, 10 mantissa bits; overflow to infinity, subnormals kept) and bfloat16 (the
 * top 16 bits of a float32). The device kernels of {@code kernels/cast.cu} use the same bit
 * arithmetic, so a value converted on the host and on a GPU gives the same 16 bits.
 */
public final class HalfFloats {
    private HalfFloats() {}

    /**
     * The 16-bit pattern of {@code f} in a half format.
     *
     * @param dtype F16 or BF16
     * @throws IllegalArgumentException for any other dtype
     */
    public static short encode(DType dtype, float f) {
        return requireHalf(dtype, "encode") == DType.F16 ? floatToF16(f) : floatToBf16(f);
    }

    /**
     * The float32 value of a 16-bit pattern of a half format (exact).
     *
     * @param dtype F16 or BF16
     * @throws IllegalArgumentException for any other dtype
     */
    public static float decode(DType dtype, short h) {
        return requireHalf(dtype, "decode") == DType.F16 ? f16ToFloat(h) : bf16ToFloat(h);
    }

    /**
     * Converts {@code src[srcOff, srcOff + n)} to 16-bit patterns in {@code dst[dstOff, dstOff + n)}.
     *
     * @param dtype F16 or BF16
     * @throws IllegalArgumentException for another dtype or a range outside an array
     */
    public static void encode(DType dtype, float[] src, int srcOff, short[] dst, int dstOff, int n) {
        boolean f16 = requireHalf(dtype, "encode") == DType.F16;
        checkRange("encode", src.length, srcOff, dst.length, dstOff, n);
        if (f16) {
            for (int i = 0; i < n; i++) dst[dstOff + i] = floatToF16(src[srcOff + i]);
        } else {
            for (int i = 0; i < n; i++) dst[dstOff + i] = floatToBf16(src[srcOff + i]);
        }
    }

    /**
     * Converts 16-bit patterns {@code src[srcOff, srcOff + n)} to float32 in {@code dst[dstOff, dstOff + n)}.
     *
     * @param dtype F16 or BF16
     * @throws IllegalArgumentException for another dtype or a range outside an array
     */
    public static void decode(DType dtype, short[] src, int srcOff, float[] dst, int dstOff, int n) {
        boolean f16 = requireHalf(dtype, "decode") == DType.F16;
        checkRange("decode", src.length, srcOff, dst.length, dstOff, n);
        if (f16) {
            for (int i = 0; i < n; i++) dst[dstOff + i] = f16ToFloat(src[srcOff + i]);
        } else {
            for (int i = 0; i < n; i++) dst[dstOff + i] = bf16ToFloat(src[srcOff + i]);
        }
    }

    private static DType requireHalf(DType dtype, String op) {
        if (dtype != DType.F16 && dtype != DType.BF16) {
            throw new IllegalArgumentException("HalfFloats." + op + ": dtype must be F16 or BF16, got " + dtype);
        }
        return dtype;
    }

    private static void checkRange(String op, int srcLength, int srcOff, int dstLength, int dstOff, int n) {
        if (n < 0 || srcOff < 0 || dstOff < 0 || (long) srcOff + n > srcLength || (long) dstOff + n > dstLength) {
            throw new IllegalArgumentException("HalfFloats." + op + ": " + n + " values from offset " + srcOff + " of " + srcLength
                    + " to offset " + dstOff + " of " + dstLength + " (expected: both ranges inside their arrays)");
        }
    }

    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40); // keep it a quiet NaN
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    public static float bf16ToFloat(short h) {
        return Float.intBitsToFloat((h & 0xFFFF) << 16);
    }

    public static short floatToF16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xFF;
        int mant = bits & 0x7FFFFF;
        if (exp == 0xFF) return (short) (sign | 0x7C00 | (mant != 0 ? 0x200 : 0)); // inf / NaN
        int e = exp - 127 + 15;
        if (e >= 0x1F) return (short) (sign | 0x7C00); // overflow
        if (e <= 0) {
            if (e < -10) return (short) sign; // underflows to zero
            mant |= 0x800000; // implicit bit
            int shift = 14 - e;
            int half = mant >>> shift;
            int rem = mant & ((1 << shift) - 1);
            int mid = 1 << (shift - 1);
            if (rem > mid || (rem == mid && (half & 1) == 1)) half++;
            return (short) (sign | half);
        }
        int half = (e << 10) | (mant >>> 13);
        int rem = mant & 0x1FFF;
        if (rem > 0x1000 || (rem == 0x1000 && (half & 1) == 1)) half++; // may carry into the exponent: correct
        return (short) (sign | half);
    }

    public static float f16ToFloat(short h) {
        int bits = h & 0xFFFF;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1F;
        int mant = bits & 0x3FF;
        if (exp == 0x1F) return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        if (exp == 0) {
            if (mant == 0) return Float.intBitsToFloat(sign);
            return (sign != 0 ? -1 : 1) * mant * 0x1.0p-24f; // subnormal
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }
}
