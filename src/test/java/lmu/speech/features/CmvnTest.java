package lmu.speech.features;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CmvnTest {
    /** x[t][m] = a_m + b_m * (t - (T-1)/2): mean a_m, population variance b_m^2 (T^2 - 1) / 12. */
    static FeatureMatrix ramp(int frames, int bins, double offset) {
        float[] v = new float[frames * bins];
        for (int t = 0; t < frames; t++) {
            for (int m = 0; m < bins; m++) v[t * bins + m] = (float) (offset + m + (m + 1) * 0.5 * (t - (frames - 1) / 2.0));
        }
        return new FeatureMatrix(v, frames, bins);
    }

    @Test
    void perUtteranceClosedForm() {
        int T = 11, C = 4;
        FeatureMatrix f = ramp(T, C, 100);
        Cmvn.normalizeUtteranceInPlace(f);
        double sd = Math.sqrt((T * T - 1) / 12.0);
        for (int t = 0; t < T; t++) {
            for (int m = 0; m < C; m++) assertEquals((t - (T - 1) / 2.0) / sd, f.get(t, m), 1e-5);
        }
    }

    @Test
    void globalStatsMergeAndJsonRoundTrip(@TempDir Path dir) {
        // two utterances with different offsets; global mean/var by the closed form of their union
        FeatureMatrix a = ramp(5, 3, 0), b = ramp(7, 3, 10);
        Cmvn.Accumulator acc1 = new Cmvn.Accumulator(3), acc2 = new Cmvn.Accumulator(3);
        acc1.add(a);
        acc2.add(b);
        acc1.merge(acc2);
        Cmvn c = acc1.toCmvn();
        assertEquals(12, c.frames());
        for (int m = 0; m < 3; m++) {
            double s = 0, s2 = 0;
            for (FeatureMatrix f : new FeatureMatrix[] {a, b}) {
                for (int t = 0; t < f.frames(); t++) { s += f.get(t, m); s2 += (double) f.get(t, m) * f.get(t, m); }
            }
            double mean = s / 12, var = s2 / 12 - mean * mean;
            assertEquals(mean, c.mean()[m], 1e-9);
            assertEquals(Math.sqrt(var), c.std()[m], 1e-9);
        }
        Path file = dir.resolve("cmvn.json");
        c.save(file);
        Cmvn back = Cmvn.load(file);
        assertArrayEquals(c.mean(), back.mean(), 0);
        assertArrayEquals(c.std(), back.std(), 0);
        FeatureMatrix x = ramp(3, 3, 5);
        back.applyInPlace(x);
        assertEquals((ramp(3, 3, 5).get(1, 2) - c.mean()[2]) / c.std()[2], x.get(1, 2), 1e-5);
    }

    @Test
    void constantBinsUseTheFloorAndErrorsAreClear() {
        FeatureMatrix f = new FeatureMatrix(new float[] {3, 3, 3, 3}, 2, 2);
        Cmvn.normalizeUtteranceInPlace(f);
        for (float v : f.values()) assertEquals(0, v, 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Cmvn.fromJson("{\"dim\":2,\"mean\":[0,0],\"std\":[1,0]}"));
        assertTrue(e.getMessage().contains("bin 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Cmvn.fromJson("{not json"));
        Cmvn c = new Cmvn(new double[] {0, 0}, new double[] {1, 1}, 1);
        IllegalArgumentException s = assertThrows(IllegalArgumentException.class, () -> c.applyInPlace(ramp(2, 3, 0)));
        assertTrue(s.getMessage().contains("(T, 2)") && s.getMessage().contains("[2, 3]"), s.getMessage());
    }
}
