package lmu.amp;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import lmu.tensor.HalfFloats;
import org.junit.jupiter.api.Test;

class PrecisionTest {
    private static void sameBits(float expected, float actual, float x) {
        assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(actual), () -> "x = " + x + " (bits "
                + Integer.toHexString(Float.floatToRawIntBits(x)) + "): expected " + expected + ", got " + actual);
    }

    @Test
    void f16RoundingEqualsTheRoundTripThroughSixteenBitsEverywhere() {
        // every fp16 value, the midpoints to its neighbours and one ulp (of float32) either side of them
        for (int h = 0; h < 0x10000; h++) {
            float v = HalfFloats.f16ToFloat((short) h);
            if (Float.isNaN(v)) continue;
            float next = HalfFloats.f16ToFloat((short) (h + 1));
            float[] probes = {v, Math.nextUp(v), Math.nextDown(v), (v + next) / 2, Math.nextUp((v + next) / 2),
                    Math.nextDown((v + next) / 2)};
            for (float x : probes) sameBits(HalfFloats.f16ToFloat(HalfFloats.floatToF16(x)), Precision.roundToF16(x), x);
        }
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < 2_000_000; i++) {
            float x = Float.intBitsToFloat(r.nextInt());
            if (Float.isNaN(x)) {
                assertTrue(Float.isNaN(Precision.roundToF16(x)));
                continue;
            }
            sameBits(HalfFloats.f16ToFloat(HalfFloats.floatToF16(x)), Precision.roundToF16(x), x);
        }
    }

    @Test
    void f16OverflowsAtHalfAnUlpAbove65504AndKeepsSubnormals() {
        assertEquals(65504f, Precision.roundToF16(65519.996f));
        assertEquals(Float.POSITIVE_INFINITY, Precision.roundToF16(65520f)); // tie, 65504 is odd: rounds up to infinity
        assertEquals(Float.NEGATIVE_INFINITY, Precision.roundToF16(-1e6f));
        assertEquals(0x1p-24f, Precision.roundToF16(0x1.8p-25f)); // 0.75 of the smallest subnormal
        assertEquals(0f, Precision.roundToF16(0x1p-25f)); // tie to even: 0
        assertEquals(0x1p-23f, Precision.roundToF16(0x1.8p-24f)); // tie between 1 and 2 units: even (2)
        assertEquals(1f + 0x1p-10f, Precision.roundToF16(1f + 0x1.8p-11f));
        assertEquals(1f, Precision.roundToF16(1f + 0x1p-11f)); // tie to even
    }

    @Test
    void bf16RoundingEqualsTheRoundTripThroughSixteenBits() {
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < 2_000_000; i++) {
            float x = Float.intBitsToFloat(r.nextInt());
            if (Float.isNaN(x)) {
                assertTrue(Float.isNaN(Precision.roundToBf16(x)));
                continue;
            }
            sameBits(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(x)), Precision.roundToBf16(x), x);
        }
        assertEquals(1f, Precision.roundToBf16(1f + 0x1p-8f)); // tie to even
        assertEquals(1f + 0x1p-6f, Precision.roundToBf16(1f + 0x1.8p-7f)); // tie to even (up)
        assertEquals(Float.POSITIVE_INFINITY, Precision.roundToBf16(Float.MAX_VALUE));
        assertEquals(65536f, Precision.roundToBf16(65520f), "bf16 has fp32's range: no overflow near 65504");
    }

    @Test
    void arrayRoundingMatchesScalarAndOffIsTheIdentity() {
        float[] a = {1.0001f, -3.14159f, 70000f, 1e-7f};
        float[] out = new float[6];
        Precision.FP16.round(a, 0, out, 2, 4);
        for (int i = 0; i < 4; i++) assertEquals(Precision.roundToF16(a[i]), out[i + 2]);
        assertEquals(Float.POSITIVE_INFINITY, out[4]);
        assertEquals(1.0001f, Precision.OFF.round(1.0001f));
        Precision.BF16.round(a, 1, a, 1, 1);
        assertEquals(Precision.roundToBf16(-3.14159f), a[1]);
    }

    @Test
    void resolvesConfigValues() {
        assertEquals(Precision.FP16, Precision.resolve("fp16", false));
        assertEquals(Precision.BF16, Precision.resolve("BF16", true));
        assertEquals(Precision.OFF, Precision.resolve("auto", false));
        assertEquals(Precision.FP16, Precision.resolve("auto", true));
        assertEquals(Precision.OFF, Precision.resolve("off", true));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Precision.resolve("fp8", false));
        assertTrue(e.getMessage().contains("got 'fp8'"), e.getMessage());
        assertTrue(Precision.FP16.needsLossScaling());
        assertFalse(Precision.BF16.needsLossScaling());
        assertEquals(2, Precision.BF16.bytes());
        assertEquals(4, Precision.OFF.bytes());
    }
}
