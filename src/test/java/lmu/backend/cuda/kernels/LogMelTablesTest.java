package lmu.backend.cuda.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import lmu.backend.cuda.LaunchGeometry;
import lmu.speech.features.FeatureConfig;
import lmu.speech.features.MelFilterbank;
import lmu.speech.features.Window;
import org.junit.jupiter.api.Test;

class LogMelTablesTest {
    @Test
    void tablesHoldTheCpuWindowTwiddlesAndFilterbank() {
        FeatureConfig cfg = new FeatureConfig(16000, 512, 400, 160, 64, 20, 7600, 1e-6, false);
        LogMelTables t = LogMelTables.of(cfg);
        int nFft = 512, nBins = 257, nMels = 64;
        assertEquals(3 * nFft + nMels * nBins, t.doubles().length);
        double[] w = new Window(cfg).values();
        for (int i = 0; i < nFft; i++) assertEquals(w[i], t.doubles()[i], 0.0, "window " + i);
        assertEquals(0.0, t.doubles()[0], 0.0); // 56 zeros before a 400-sample window in a 512 frame
        for (int j : new int[] {0, 1, 128, 255, 511}) {
            assertEquals(Math.cos(2 * Math.PI * j / nFft), t.doubles()[nFft + j], 1e-15);
            assertEquals(Math.sin(2 * Math.PI * j / nFft), t.doubles()[2 * nFft + j], 1e-15);
        }
        MelFilterbank mel = new MelFilterbank(cfg);
        for (int m = 0; m < nMels; m++) {
            int first = t.melRange()[m], end = t.melRange()[nMels + m];
            assertTrue(first <= end && end <= nBins, "filter " + m + " range [" + first + ", " + end + ")");
            for (int k = 0; k < nBins; k++) {
                double v = mel.weight(m, k);
                assertEquals(v, t.doubles()[3 * nFft + m * nBins + k], 0.0, "weight " + m + "," + k);
                if (v != 0) assertTrue(k >= first && k < end, "non-zero weight " + m + "," + k + " outside its range");
            }
        }
    }

    @Test
    void padAndSharedMemoryFollowTheConfig() {
        FeatureConfig d = FeatureConfig.defaults();
        LogMelTables t = LogMelTables.of(d);
        assertEquals(200, t.pad());
        assertEquals(8 * (3 * 400 + 201), t.sharedBytes());
        assertEquals(0, LogMelTables.of(new FeatureConfig(16000, 400, 400, 160, 80, 0, 8000, 1e-6, false)).pad());
        // the default block fits the 48 KiB every CUDA device grants without opting in
        assertTrue(t.sharedBytes() <= LaunchGeometry.Limits.SM80_SM90.maxSharedPerBlock(), "shared bytes " + t.sharedBytes());
    }
}
