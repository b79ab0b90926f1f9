package lmu.speech.features;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LogMelTest {
    private static final FeatureConfig CFG = FeatureConfig.defaults();

    /** torchaudio MelSpectrogram + log(x + 1e-6), float64 reference; tolerance 1e-4 absolute on the log values. */
    @ParameterizedTest
    @ValueSource(strings = {"chirp_noise", "speech_1s"})
    void matchesTorchaudioGolden(String name) throws IOException {
        Golden g = new Golden(name);
        assertEquals(g.header.get("samples").getAsInt(), g.input.length);
        FeatureMatrix f = new LogMel(CFG).compute(g.input);
        assertEquals(g.header.get("frames").getAsInt(), f.frames());
        assertEquals(80, f.bins());
        double maxErr = 0;
        int worst = -1;
        for (int i = 0; i < g.logmel.length; i++) {
            double e = Math.abs(f.values()[i] - g.logmel[i]);
            if (e > maxErr) { maxErr = e; worst = i; }
        }
        System.out.println("LogMelTest " + name + ": max |ours - torchaudio float64| = " + maxErr);
        assertTrue(maxErr < 1e-4, name + ": max |ours - torchaudio| = " + maxErr + " at frame " + worst / 80 + " bin " + worst % 80);
    }

    @Test
    void windowIsPeriodicHann() {
        double[] w = new Window(CFG).values();
        assertEquals(400, w.length);
        assertEquals(0, w[0], 0);
        assertEquals(1, w[200], 1e-15); // periodic: the peak sits at N / 2
        assertEquals(Math.pow(Math.sin(Math.PI * 37 / 400), 2), w[37], 1e-15);
        // shorter window centred in the frame
        double[] s = new Window(new FeatureConfig(16000, 512, 400, 160, 80, 0, 8000, 1e-6, true)).values();
        assertEquals(0, s[55], 0);
        assertEquals(1, s[56 + 200], 1e-15);
        assertEquals(0, s[456], 0);
    }

    @Test
    void powerSpectrumEqualsDirectDft() {
        Random r = new Random(3);
        double[] x = new double[400];
        for (int i = 0; i < 400; i++) x[i] = r.nextGaussian();
        double[] p = new double[201];
        new PowerSpectrum(400).compute(x.clone(), p);
        for (int k = 0; k <= 200; k++) {
            double re = 0, im = 0;
            for (int n = 0; n < 400; n++) {
                re += x[n] * Math.cos(2 * Math.PI * k * n / 400);
                im -= x[n] * Math.sin(2 * Math.PI * k * n / 400);
            }
            assertEquals(re * re + im * im, p[k], 1e-9 * (1 + re * re + im * im), "bin " + k);
        }
    }

    @Test
    void melFilterbankTriangles() {
        MelFilterbank fb = new MelFilterbank(CFG);
        assertEquals(2595 * Math.log(1 + 1000 / 700.0) / Math.log(10), MelFilterbank.hzToMel(1000), 1e-9);
        assertEquals(1000, MelFilterbank.melToHz(MelFilterbank.hzToMel(1000)), 1e-9);
        double mMax = MelFilterbank.hzToMel(8000);
        for (int m = 0; m < 80; m++) {
            double lo = MelFilterbank.melToHz(mMax * m / 81), c = MelFilterbank.melToHz(mMax * (m + 1) / 81),
                    hi = MelFilterbank.melToHz(mMax * (m + 2) / 81);
            for (int k = 0; k <= 200; k++) {
                double f = 40.0 * k;
                double expect = f <= lo || f >= hi ? 0 : f <= c ? (f - lo) / (c - lo) : (hi - f) / (hi - c);
                assertEquals(expect, fb.weight(m, k), 1e-12, "filter " + m + " bin " + k);
            }
        }
        assertTrue(fb.nonZeros() < 600, "sparse: " + fb.nonZeros() + " non-zero weights of 80 * 201");
    }

    @Test
    void frameCountsAndReflectPadding() {
        assertEquals(401, CFG.numFrames(64000));
        assertEquals(1, CFG.numFrames(1));
        assertEquals(0, CFG.numFrames(0));
        assertEquals(2, LogMel.reflect(-2, 10));
        assertEquals(7, LogMel.reflect(11, 10));
        assertEquals(0, LogMel.reflect(5, 1));
        // a constant signal is unchanged by reflection, so every frame equals the middle one
        float[] x = new float[1000];
        java.util.Arrays.fill(x, 0.1f);
        FeatureMatrix f = new LogMel(CFG).compute(x);
        for (int m = 0; m < 80; m++) assertEquals(f.get(3, m), f.get(0, m), 1e-6);
        assertEquals(0, new LogMel(CFG).compute(new float[0]).frames());
        assertEquals(1, new LogMel(CFG).compute(new float[] {0.5f}).frames());
    }

    @Test
    void silenceGivesLogEpsilon() {
        FeatureMatrix f = new LogMel(CFG).compute(new float[1600]);
        assertEquals(11, f.frames());
        for (float v : f.values()) assertEquals(Math.log(1e-6), v, 1e-6);
    }

    @Test
    void badArguments() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new FeatureConfig(16000, 400, 500, 160, 80, 0, 8000, 1e-6, true));
        assertTrue(e.getMessage().contains("winLength 500"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new FeatureConfig(16000, 400, 400, 160, 80, 0, 9000, 1e-6, true));
        assertThrows(IllegalArgumentException.class, () -> new LogMel(CFG).compute(new float[1600], new float[10], 0, 11));
    }
}
