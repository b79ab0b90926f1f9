package lmu.tensor;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class HalfFloatsTest {

    @Test
    void everyF16PatternRoundTrips() {
        for (int h = 0; h < 65536; h++) {
            float f = HalfFloats.f16ToFloat((short) h);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(HalfFloats.f16ToFloat(HalfFloats.floatToF16(f))));
                continue;
            }
            assertEquals(h, HalfFloats.floatToF16(f) & 0xFFFF, "pattern " + Integer.toHexString(h));
        }
    }

    @Test
    void f16RoundsHalfwayToEvenAndOverflowsToInfinity() {
        // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties to the even mantissa (1.0)
        assertEquals(1.0f, HalfFloats.f16ToFloat(HalfFloats.floatToF16(1 + 0x1p-11f)));
        // 1 + 3·2^-11 lies halfway between 1 + 2^-10 (odd) and 1 + 2^-9 (even)
        assertEquals(1 + 0x1p-9f, HalfFloats.f16ToFloat(HalfFloats.floatToF16(1 + 3 * 0x1p-11f)));
        assertEquals(65504f, HalfFloats.f16ToFloat(HalfFloats.floatToF16(65519f)));
        assertEquals(Float.POSITIVE_INFINITY, HalfFloats.f16ToFloat(HalfFloats.floatToF16(65520f)));
        assertEquals(0x1p-24f, HalfFloats.f16ToFloat(HalfFloats.floatToF16(0x1p-24f)), "smallest subnormal");
        assertEquals(0f, HalfFloats.f16ToFloat(HalfFloats.floatToF16(0x1p-26f)));
        assertEquals(-2.5f, HalfFloats.f16ToFloat(HalfFloats.floatToF16(-2.5f)));
    }

    @Test
    void bf16RoundsToNearestEven() {
        for (int h = 0; h < 65536; h++) {
            float f = HalfFloats.bf16ToFloat((short) h);
            if (!Float.isNaN(f)) assertEquals(h, HalfFloats.floatToBf16(f) & 0xFFFF);
        }
        float one = 1f, next = Math.nextUp(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(1f)) + 0x1p-7f);
        assertEquals(one, HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(1 + 0x1p-8f)), "tie to even");
        assertEquals(1 + 0x1p-6f, HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(1 + 3 * 0x1p-8f)), "tie to even, upward");
        assertTrue(next > 1);
        assertTrue(Float.isNaN(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(Float.NaN))));
    }

    @Test
    void bulkConversionsEqualTheScalarOnes() {
        float[] x = {0f, -0f, 1f, 1 + 0x1p-11f, 1 + 3 * 0x1p-11f, 65520f, 0x1p-24f, 0x1p-25f, Float.NaN,
            Float.NEGATIVE_INFINITY, 3.14159265f, -1e-6f, 1e30f};
        for (DType d : new DType[] {DType.F16, DType.BF16}) {
            short[] bits = new short[x.length + 2];
            HalfFloats.encode(d, x, 0, bits, 1, x.length);
            float[] back = new float[x.length + 1];
            HalfFloats.decode(d, bits, 1, back, 1, x.length);
            for (int i = 0; i < x.length; i++) {
                short want = d == DType.F16 ? HalfFloats.floatToF16(x[i]) : HalfFloats.floatToBf16(x[i]);
                assertEquals(want, bits[i + 1], d + " encode " + x[i]);
                assertEquals(want, HalfFloats.encode(d, x[i]));
                float w = d == DType.F16 ? HalfFloats.f16ToFloat(want) : HalfFloats.bf16ToFloat(want);
                assertEquals(Float.floatToRawIntBits(w), Float.floatToRawIntBits(back[i + 1]), d + " decode " + x[i]);
                assertEquals(Float.floatToRawIntBits(w), Float.floatToRawIntBits(HalfFloats.decode(d, want)));
            }
            assertEquals(0, bits[0], "outside the range: untouched");
            assertEquals(0f, back[0]);
        }
    }

    @Test
    void bulkConversionsCheckTheirArguments() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HalfFloats.encode(DType.F32, new float[1], 0, new short[1], 0, 1));
        assertTrue(e.getMessage().contains("HalfFloats.encode: dtype must be F16 or BF16, got F32"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> HalfFloats.decode(DType.F64, (short) 0));
        assertTrue(e.getMessage().contains("got F64"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> HalfFloats.decode(DType.F16, new short[4], 2, new float[4], 0, 3));
        assertTrue(e.getMessage().contains("3 values from offset 2 of 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> HalfFloats.encode(DType.BF16, new float[4], 0, new short[2], 0, 3));
        assertTrue(e.getMessage().contains("to offset 0 of 2"), e.getMessage());
    }
}
