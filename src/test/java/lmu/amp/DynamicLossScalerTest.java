package lmu.amp;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import org.junit.jupiter.api.Test;

class DynamicLossScalerTest {
    private static Tensor paramWithGrad(float... g) {
        Tensor p = Tensor.zeros(DType.F32, g.length).requiresGrad(true);
        p.setGrad(Tensor.of(g.clone(), g.length));
        return p;
    }

    @Test
    void defaultsAreThoseOfTheIssue() {
        DynamicLossScaler s = DynamicLossScaler.dynamic(DynamicLossScaler.Settings.DEFAULT);
        assertEquals(65536, s.scale());
        assertEquals(2000, s.settings().growthInterval());
        assertTrue(s.isDynamic());
        assertFalse(DynamicLossScaler.forPrecision(Precision.BF16, DynamicLossScaler.Settings.DEFAULT).isDynamic());
        assertTrue(DynamicLossScaler.forPrecision(Precision.FP16, DynamicLossScaler.Settings.DEFAULT).isDynamic());
    }

    @Test
    void unscaleDividesEveryGradientByTheScale() {
        DynamicLossScaler s = DynamicLossScaler.dynamic(DynamicLossScaler.Settings.DEFAULT);
        Tensor a = paramWithGrad(65536f, -3f, 0f), b = Tensor.zeros(DType.F32, 2).requiresGrad(true); // b: no gradient
        Tensor c = Tensor.zeros(DType.F64, 1).requiresGrad(true);
        c.setGrad(Tensor.of(new double[] {131072}, 1));
        assertTrue(s.unscale(List.of(a, b, c)));
        assertArrayEquals(new float[] {1f, -3f / 65536, 0f}, a.grad().toFloatArray());
        assertEquals(2.0, c.grad().toDoubleArray()[0]);
    }

    @Test
    void overflowSkipsHalvesTheScaleAndRestartsTheCleanCount() {
        DynamicLossScaler s = DynamicLossScaler.dynamic(new DynamicLossScaler.Settings(1024, 3, 1, 4096));
        assertTrue(s.unscale(List.of(paramWithGrad(1f))));
        s.update(false);
        assertEquals(1, s.cleanSteps());
        for (float bad : new float[] {Float.POSITIVE_INFINITY, Float.NaN, Float.NEGATIVE_INFINITY}) {
            double before = s.scale();
            assertFalse(s.unscale(List.of(paramWithGrad(1f), paramWithGrad(2f, bad))), "found " + bad);
            assertTrue(s.update(true), "the scale was lowered");
            assertEquals(before / 2, s.scale());
            assertEquals(0, s.cleanSteps());
        }
        assertEquals(3, s.skipped());
    }

    @Test
    void scaleDoublesAfterExactlyGrowthIntervalCleanSteps() {
        DynamicLossScaler s = DynamicLossScaler.dynamic(DynamicLossScaler.Settings.DEFAULT);
        for (int i = 1; i < 2000; i++) {
            assertFalse(s.update(false));
            assertEquals(65536, s.scale(), "after " + i + " clean steps");
        }
        s.update(false);
        assertEquals(131072, s.scale(), "after 2000 clean steps");
        assertEquals(0, s.cleanSteps());
        // an overflow in between restarts the count
        for (int i = 0; i < 1999; i++) s.update(false);
        s.update(true);
        for (int i = 0; i < 1999; i++) s.update(false);
        assertEquals(65536, s.scale());
        s.update(false);
        assertEquals(131072, s.scale());
    }

    @Test
    void scaleStaysBetweenFloorAndCap() {
        DynamicLossScaler s = DynamicLossScaler.dynamic(new DynamicLossScaler.Settings(4, 1, 2, 16));
        assertTrue(s.update(true));
        assertEquals(2, s.scale());
        assertFalse(s.update(true), "at the floor an overflow cannot be absorbed: the caller counts a bad step");
        assertEquals(2, s.scale());
        for (int i = 0; i < 10; i++) s.update(false);
        assertEquals(16, s.scale());
        DynamicLossScaler odd = DynamicLossScaler.dynamic(new DynamicLossScaler.Settings(3, 1, 2, 5));
        odd.update(true);
        assertEquals(2, odd.scale(), "halving stops at the floor");
        odd.update(false);
        odd.update(false);
        assertEquals(5, odd.scale(), "doubling stops at the cap");
    }

    @Test
    void disabledScalerOnlyChecksAndCounts() {
        DynamicLossScaler s = DynamicLossScaler.disabled();
        Tensor a = paramWithGrad(3f, -0.5f);
        assertTrue(s.unscale(List.of(a)));
        assertArrayEquals(new float[] {3f, -0.5f}, a.grad().toFloatArray());
        assertFalse(s.unscale(List.of(paramWithGrad(Float.NaN))));
        assertFalse(s.update(true));
        for (int i = 0; i < 5000; i++) s.update(false);
        assertEquals(1, s.scale());
        assertEquals(1, s.skipped());
    }

    @Test
    void theOverflowDecisionIsTheVotesNotTheLocalFinding() {
        DynamicLossScaler s = DynamicLossScaler.dynamic(DynamicLossScaler.Settings.DEFAULT);
        boolean[] asked = new boolean[2];
        s.agreeWith(local -> {
            asked[local ? 1 : 0] = true;
            return true; // another rank overflowed
        });
        assertFalse(s.unscale(List.of(paramWithGrad(1f))), "clean here, overflow elsewhere: every rank skips");
        assertTrue(asked[0]);
        s.agreeWith(OverflowVote.LOCAL);
        assertFalse(s.unscale(List.of(paramWithGrad(Float.NaN))));
        assertThrows(IllegalArgumentException.class, () -> s.agreeWith(null));
    }

    @Test
    void stateRestoresAndBadStateIsRejected() {
        DynamicLossScaler s = DynamicLossScaler.dynamic(DynamicLossScaler.Settings.DEFAULT);
        s.restore(8192, 17, 4);
        assertEquals(8192, s.scale());
        assertEquals(17, s.cleanSteps());
        assertEquals(4, s.skipped());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.restore(0.5, 0, 0));
        assertTrue(e.getMessage().contains("got scale 0.5"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> s.restore(1024, -1, 0));
        e = assertThrows(IllegalArgumentException.class, () -> new DynamicLossScaler.Settings(10, 5, 20, 40));
        assertTrue(e.getMessage().contains("min 20.0, initial 10.0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new DynamicLossScaler.Settings(1, 0, 1, 1));
    }
}
