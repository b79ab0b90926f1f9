package lmu.speech.audio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class ResamplerTest {
    /** Amplitude of the best-fitting sine of frequency f (Hz) over x[from, to). */
    static double sineAmplitude(float[] x, int rate, double f, int from, int to) {
        double ss = 0, sc = 0, cc = 0, xs = 0, xc = 0;
        for (int i = from; i < to; i++) {
            double s = Math.sin(2 * Math.PI * f * i / rate), c = Math.cos(2 * Math.PI * f * i / rate);
            ss += s * s; sc += s * c; cc += c * c; xs += x[i] * s; xc += x[i] * c;
        }
        double det = ss * cc - sc * sc;
        return Math.hypot((xs * cc - xc * sc) / det, (xc * ss - xs * sc) / det);
    }

    static double rms(float[] x, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) s += (double) x[i] * x[i];
        return Math.sqrt(s / (to - from));
    }

    @ParameterizedTest
    @CsvSource({"44100, 16000", "48000, 16000", "22050, 16000", "8000, 16000", "16000, 8000", "11025, 16000", "17600, 16000", "14400, 16000"})
    void passbandIsFlatAndInPhase(int in, int out) {
        Resampler r = Resampler.of(in, out);
        double nyq = Math.min(in, out) / 2.0;
        int n = in; // one second
        for (double frac = 0.02; frac <= 0.79; frac += 0.077) { // a sweep over the passband
            double f = frac * nyq;
            float[] x = WavWriter.sine(f, 0.5, in, n);
            float[] y = r.process(x);
            assertEquals(r.outputLength(n), y.length);
            int from = out / 10, to = y.length - out / 10; // away from the zero-padded edges
            // the output must be the same sine sampled at the new rate: same amplitude, same phase
            double maxErr = 0;
            for (int i = from; i < to; i++) {
                maxErr = Math.max(maxErr, Math.abs(y[i] - 0.5 * Math.sin(2 * Math.PI * f * i / out)));
            }
            assertTrue(maxErr < 0.5 * 1e-3, in + "->" + out + " at " + f + " Hz: max error " + maxErr);
        }
    }

    @ParameterizedTest
    @CsvSource({"44100, 16000", "48000, 16000", "22050, 16000", "17600, 16000"})
    void stopbandIsAttenuated(int in, int out) {
        Resampler r = Resampler.of(in, out);
        double nyqOut = out / 2.0, nyqIn = in / 2.0;
        for (double f = nyqOut; f < 0.99 * nyqIn; f += (0.99 * nyqIn - nyqOut) / 9) {
            float[] x = WavWriter.sine(f, 1.0, in, in);
            float[] y = r.process(x);
            double level = rms(y, out / 10, y.length - out / 10) * Math.sqrt(2);
            double db = 20 * Math.log10(level);
            assertTrue(db < -75, in + "->" + out + ": " + f + " Hz comes through at " + db + " dB");
        }
    }

    @Test
    void upsamplingHasNoImages() {
        // 8 kHz -> 16 kHz: a 3 kHz tone must not produce its image at 5 kHz
        float[] y = Resampler.of(8000, 16000).process(WavWriter.sine(3000, 1.0, 8000, 8000));
        assertEquals(1.0, sineAmplitude(y, 16000, 3000, 1600, 14400), 1e-3);
        assertTrue(sineAmplitude(y, 16000, 5000, 1600, 14400) < 1e-3);
    }

    @Test
    void dcGainIsOneAndLengthsRoundUp() {
        float[] x = new float[1000];
        java.util.Arrays.fill(x, 0.25f);
        float[] y = Resampler.of(44100, 16000).process(x);
        assertEquals(363, y.length); // ceil(1000 * 160 / 441)
        assertEquals(0.25, y[180], 1e-4);
        assertEquals(0, Resampler.of(48000, 16000).process(new float[0]).length);
        float[] same = Resampler.of(16000, 16000).process(x);
        assertEquals(1000, same.length);
    }

    @Test
    void largePhaseCountsComputeOnTheFly() {
        // 16001 -> 16000 has 16000 phases: too many to tabulate; the result must still be exact
        Resampler r = new Resampler(16001, 16000, 24, 0.88, 8.0);
        float[] y = r.process(WavWriter.sine(1000, 0.5, 16001, 16001));
        double maxErr = 0;
        for (int i = 1600; i < 14400; i++) maxErr = Math.max(maxErr, Math.abs(y[i] - 0.5 * Math.sin(2 * Math.PI * 1000 * i / 16000.0)));
        assertTrue(maxErr < 1e-4, "max error " + maxErr);
    }

    @Test
    void badArguments() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Resampler(0, 16000, 24, 0.9, 8));
        assertTrue(e.getMessage().contains("inRate 0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Resampler(8000, 16000, 24, 1.5, 8));
    }
}
