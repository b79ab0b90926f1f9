package lmu.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import lmu.backend.Backends;
import lmu.backend.FeatureKernels;
import lmu.backend.sim.SimBackend;
import lmu.speech.features.FeatureConfig;
import lmu.speech.features.FeatureMatrix;
import lmu.speech.features.LogMel;
import lmu.tensor.Device;
import lmu.tensor.Tensor;
import org.junit.jupiter.api.Test;

class CpuFeatureKernelsTest {
    private static final FeatureConfig CFG = FeatureConfig.defaults();

    /** Utterances of awkward lengths (one sample, under a window, one hop, long) back to back, with a gap. */
    private static final int[] LENGTHS = {1, 399, 160, 4001, 2345};

    private static float[] signal(int n) {
        Random r = new Random(7);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (0.1 * r.nextGaussian());
        return x;
    }

    private static int[] offsets(int gap) {
        int[] o = new int[LENGTHS.length];
        int at = 0;
        for (int b = 0; b < LENGTHS.length; b++) {
            o[b] = at;
            at += LENGTHS[b] + gap;
        }
        return o;
    }

    /** Reference: LogMel on each utterance alone, padded to the longest with zeros. */
    private static void assertMatchesLogMel(float[] got, int[] shape, float[] x, int[] offsets) {
        int t = 0;
        for (int n : LENGTHS) t = Math.max(t, CFG.numFrames(n));
        assertArrayEquals(new int[] {LENGTHS.length, t, CFG.nMels()}, shape);
        LogMel mel = new LogMel(CFG);
        for (int b = 0; b < LENGTHS.length; b++) {
            FeatureMatrix f = mel.compute(Arrays.copyOfRange(x, offsets[b], offsets[b] + LENGTHS[b]));
            int base = b * t * CFG.nMels();
            for (int i = 0; i < f.values().length; i++) assertEquals(f.values()[i], got[base + i], "b " + b + " index " + i);
            for (int i = f.values().length; i < t * CFG.nMels(); i++) assertEquals(0f, got[base + i], "padding of b " + b);
        }
    }

    @Test
    void aBatchIsLogMelOfEachUtterancePaddedWithZeros() {
        int[] offsets = offsets(37);
        float[] x = signal(offsets[LENGTHS.length - 1] + LENGTHS[LENGTHS.length - 1] + 37);
        Tensor out = CpuFeatureKernels.INSTANCE.logMel(CFG, Tensor.of(x, x.length), offsets, LENGTHS);
        assertMatchesLogMel(out.f32(), out.shape(), x, offsets);
    }

    @Test
    void theSimulatedDeviceGivesTheSameBatchOnTheDevice() {
        int[] offsets = offsets(0);
        float[] x = signal(Arrays.stream(LENGTHS).sum());
        try (SimBackend sim = SimBackend.install(0)) {
            Tensor signal = Backends.to(Tensor.of(x, x.length), Device.cuda(0));
            Tensor out = Backends.kernels(signal, FeatureKernels.class).logMel(CFG, signal, offsets, LENGTHS);
            assertEquals(Device.cuda(0), out.device());
            assertMatchesLogMel(Backends.to(out, Device.CPU).f32(), out.shape(), x, offsets);
        }
    }

    @Test
    void emptyUtterancesHaveNoFramesAndAnEmptyBatchHasNone() {
        float[] x = signal(800);
        Tensor out = CpuFeatureKernels.INSTANCE.logMel(CFG, Tensor.of(x, 800), new int[] {0, 800}, new int[] {800, 0});
        assertArrayEquals(new int[] {2, 6, 80}, out.shape());
        for (int i = 6 * 80; i < 12 * 80; i++) assertEquals(0f, out.f32()[i]);
        assertArrayEquals(new int[] {0, 0, 80}, CpuFeatureKernels.INSTANCE.logMel(CFG, Tensor.of(x, 800), new int[0], new int[0]).shape());
    }

    @Test
    void badArgumentsAreNamed() {
        Tensor x = Tensor.of(signal(100), 100);
        String m = assertThrows(IllegalArgumentException.class,
                () -> CpuFeatureKernels.INSTANCE.logMel(CFG, x, new int[] {50}, new int[] {51})).getMessage();
        assertTrue(m.contains("utterance 0 (offset 50, length 51) must lie within the signal of 100 samples"), m);
        m = assertThrows(IllegalArgumentException.class,
                () -> CpuFeatureKernels.INSTANCE.logMel(CFG, Tensor.of(signal(100), 10, 10), new int[] {0}, new int[] {1})).getMessage();
        assertTrue(m.contains("signal must have shape (N), got [10, 10]"), m);
        m = assertThrows(IllegalArgumentException.class,
                () -> CpuFeatureKernels.INSTANCE.logMel(CFG, x, new int[] {0, 1}, new int[] {1})).getMessage();
        assertTrue(m.contains("offsets and lengths must both have shape (B), got (2) and (1)"), m);
        m = assertThrows(IllegalArgumentException.class,
                () -> CpuFeatureKernels.INSTANCE.logMel(CFG, x.to(lmu.tensor.DType.F64), new int[] {0}, new int[] {1})).getMessage();
        assertTrue(m.contains("signal must be an F32 tensor on the CPU, got F64"), m);
    }
}
