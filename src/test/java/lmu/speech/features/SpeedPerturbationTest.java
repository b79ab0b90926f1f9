package lmu.speech.features;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SpeedPerturbationTest {
    @Test
    void fasterIsShorterAndHigher() {
        SpeedPerturbation sp = SpeedPerturbation.defaults();
        int n = 16000;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (0.5 * Math.sin(2 * Math.PI * 1000 * i / 16000.0));
        float[] y = sp.apply(x, 1.1);
        assertEquals((int) Math.ceil(n / 1.1), y.length);
        // a 1 kHz tone played 1.1x faster is a 1.1 kHz tone
        for (int i = 2000; i < 12000; i++) {
            assertEquals(0.5 * Math.sin(2 * Math.PI * 1100 * i / 16000.0), y[i], 1e-3, "sample " + i);
        }
        assertEquals((int) Math.ceil(n / 0.9), sp.apply(x, 0.9).length);
        assertSame(x, sp.apply(x, 1.0));
    }

    @Test
    void choiceIsSeededAndCoversAllFactors() {
        SpeedPerturbation sp = SpeedPerturbation.defaults();
        Set<Double> seen = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            long seed = AugmentSeed.of(1, 0, "u" + i, SpeedPerturbation.SEED_PURPOSE);
            assertEquals(sp.choose(seed), sp.choose(seed));
            seen.add(sp.choose(seed));
        }
        assertEquals(Set.of(0.9, 1.0, 1.1), seen);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SpeedPerturbation(16000, 0.33333));
        assertTrue(e.getMessage().contains("0.33333"), e.getMessage());
    }
}
