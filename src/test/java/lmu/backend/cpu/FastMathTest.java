package lmu.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FastMathTest {

    @Test
    void tanhWithinOneFloatRoundingOfTheExactValue() {
        double worst = 0;
        float worstAt = 0;
        // every scale from 1e-8 to 30, both signs, dense around the 4e-4 and 15 switch points
        for (float a = 1e-8f; a < 30f; a = Math.max(Math.nextUp(a), a * 1.0001f)) {
            for (float x : new float[] {a, -a}) {
                double exact = Math.tanh(x);
                double rel = Math.abs(FastMath.tanh(x) - exact) / Math.abs(exact);
                if (rel > worst) {
                    worst = rel;
                    worstAt = x;
                }
            }
        }
        assertTrue(worst < 1e-7, "relative error " + worst + " at " + worstAt);
    }

    @Test
    void tanhLimitsAndSpecialValues() {
        assertEquals(0f, FastMath.tanh(0f));
        assertEquals(1f, FastMath.tanh(20f));
        assertEquals(-1f, FastMath.tanh(-1e30f));
        assertEquals(1f, FastMath.tanh(Float.POSITIVE_INFINITY));
        assertEquals(-1f, FastMath.tanh(Float.NEGATIVE_INFINITY));
        assertTrue(Float.isNaN(FastMath.tanh(Float.NaN)));
        assertEquals((float) Math.tanh(0.5), FastMath.tanh(0.5f), 1e-7f);
    }

    @Test
    void expNonPositiveWithinTwoFloatRoundings() {
        double worst = 0;
        float worstAt = 0;
        for (float x = 0f; x > -87f; x -= 3.7e-4f) {
            double exact = Math.exp(x);
            double rel = Math.abs(FastMath.expNonPositive(x) - exact) / exact;
            if (rel > worst) {
                worst = rel;
                worstAt = x;
            }
        }
        for (float x = -1e-9f; x > -1e-2f; x *= 1.01f) {
            worst = Math.max(worst, Math.abs(FastMath.expNonPositive(x) - Math.exp(x)) / Math.exp(x));
        }
        assertTrue(worst < 2e-7, "relative error " + worst + " at " + worstAt);
        assertEquals(0f, FastMath.expNonPositive(-88f));
        assertEquals(0f, FastMath.expNonPositive(Float.NEGATIVE_INFINITY));
        assertTrue(Float.isNaN(FastMath.expNonPositive(Float.NaN)));
        assertEquals(1f, FastMath.expNonPositive(0f), 1e-7f);
    }
}
