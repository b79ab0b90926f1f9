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
}
