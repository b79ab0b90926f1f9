package lmu.tensor;

/**
 * Conversions between float32 and the 16-bit storage formats, rounding to nearest even: IEEE fp16
 * (1 sign, 5 exponent, 10 mantissa bits; overflow to infinity, subnormals kept) and bfloat16 (the
 * top 16 bits of a float32).
 */
public final class HalfFloats {
    private HalfFloats() {}

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
