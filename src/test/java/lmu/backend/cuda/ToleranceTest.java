package lmu.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The tolerance formula and the parity-check registry; CPU only. */
class ToleranceTest {
    @Test
    void boundIsEpsTimesSqrtNTimesOnePlusRef() {
        Tolerance t = new Tolerance("t", 1e-3);
        assertEquals(1e-3, t.bound(0, 1), 0);
        assertEquals(1e-3 * 10 * 3, t.bound(-2, 100), 1e-15);
        assertEquals(t.bound(5, 1), t.bound(5, 0), 0, "lengths below 1 count as 1");
    }

    @Test
    void matchesInsideTheBoundOnly() {
        Tolerance t = Tolerance.F32;
        double ref = 3.0;
        double bound = t.bound(ref, 16);
        assertTrue(t.matches(ref + 0.99 * bound, ref, 16));
        assertFalse(t.matches(ref + 1.01 * bound, ref, 16));
        assertFalse(t.matches(Double.NaN, ref, 16));
        assertFalse(t.matches(Double.POSITIVE_INFINITY, ref, 16));
    }

    @Test
    void nonFiniteReferencesNeedTheSameValue() {
        Tolerance t = Tolerance.F32;
        assertTrue(t.matches(Double.NaN, Double.NaN, 1));
        assertTrue(t.matches(Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY, 1));
        assertFalse(t.matches(Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 1));
        assertFalse(t.matches(1e30, Double.POSITIVE_INFINITY, 1));
        assertFalse(t.matches(0, Double.NaN, 1));
    }

    @Test
    void precisionsAreOrderedByTheirRoundoff() {
        assertTrue(Tolerance.F32.eps() < Tolerance.TF32.eps());
        assertTrue(Tolerance.TF32.eps() < Tolerance.F16.eps());
        assertTrue(Tolerance.F16.eps() < Tolerance.BF16.eps());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Tolerance("x", 0));
        assertTrue(e.getMessage().contains("eps : 0.0"), e.getMessage());
    }

    @Test
    void oneToleranceTablePerDtype() {
        assertEquals(Tolerance.F32, Tolerance.of(lmu.tensor.DType.F32));
        assertEquals(Tolerance.F32, Tolerance.of(lmu.tensor.DType.F64));
        assertEquals(Tolerance.F16, Tolerance.of(lmu.tensor.DType.F16));
        assertEquals(Tolerance.BF16, Tolerance.of(lmu.tensor.DType.BF16));
        // the coarser of operands and result: an f16 product written in f32 is still an f16 product
        assertEquals(Tolerance.F16, Tolerance.of(lmu.tensor.DType.F16, lmu.tensor.DType.F32));
        assertEquals(Tolerance.F16, Tolerance.of(lmu.tensor.DType.F32, lmu.tensor.DType.F16));
        assertEquals(Tolerance.BF16, Tolerance.of(lmu.tensor.DType.BF16, lmu.tensor.DType.BF16));
        assertEquals(Tolerance.F32, Tolerance.of(lmu.tensor.DType.F32, lmu.tensor.DType.F32));
    }

    @Test
    void halfBoundsInClosedForm() {
        // f16: 8 · 2^-11 = 2^-8; at n = 16 and |ref| = 1: 2^-8 · 4 · 2 = 2^-5
        assertEquals(0x1p-5, Tolerance.F16.bound(1, 16), 0);
        assertEquals(0x1p-5, Tolerance.F16.bound(-1, 16), 0);
        // bf16: 4 · 2^-8 = 2^-6; at n = 1 and ref = 3: 2^-6 · 4 = 2^-4
        assertEquals(0x1p-4, Tolerance.BF16.bound(3, 1), 0);
        assertEquals(Tolerance.BF16.eps() / Tolerance.F16.eps(), 4.0, 0, "bf16 has 3 mantissa bits fewer, eps ratio 8 / 2");
    }

    @Test
    void oneRoundingToAHalfFormatIsWellInsideItsBound() {
        java.util.Random r = new java.util.Random(8);
        for (int i = 0; i < 20000; i++) {
            double x = r.nextGaussian() * Math.pow(10, r.nextInt(9) - 4); // 1e-4 .. 1e4 (inside fp16's range)
            float f = (float) x;
            float h = lmu.amp.Precision.roundToF16(f), b = lmu.amp.Precision.roundToBf16(f);
            // unit roundoff 2^-11 (f16) and 2^-8 (bf16): the bound is 8 and 4 times that, relative to 1 + |x|
            assertTrue(Tolerance.F16.matches(h, f, 1), "f16 " + f + " -> " + h);
            assertTrue(Tolerance.BF16.matches(b, f, 1), "bf16 " + f + " -> " + b);
            assertTrue(Math.abs(h - f) <= Tolerance.F16.bound(f, 1) / 8 + 1e-12, "f16 error within one unit " + f);
            assertTrue(Math.abs(b - f) <= Tolerance.BF16.bound(f, 1) / 4 + 1e-12, "bf16 error within one unit " + f);
        }
        // an error of two bf16 units (2 · 2^-7 at 1.5) passes bf16's bound and fails f16's: the table is not loose
        assertTrue(Tolerance.BF16.matches(1.5 + 2 * 0x1p-7, 1.5, 1));
        assertFalse(Tolerance.F16.matches(1.5 + 2 * 0x1p-7, 1.5, 1));
    }

    @Test
    void registeredChecksHaveUniqueNames() {
        List<ParityCheck> checks = CudaSelfTest.checks();
        assertTrue(checks.size() > 20, "checks: " + checks.size());
        Set<String> names = new HashSet<>();
        for (ParityCheck c : checks) assertTrue(names.add(c.name()), "duplicate " + c.name());
        CudaSelfTest.requireUniqueNames(checks);
        List<ParityCheck> dup = List.of(ParityCheck.of("a", p -> {}), ParityCheck.of("a", p -> {}));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> CudaSelfTest.requireUniqueNames(dup));
        assertTrue(e.getMessage().contains("'a'"), e.getMessage());
    }
}
