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
