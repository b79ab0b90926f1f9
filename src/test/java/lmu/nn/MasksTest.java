package lmu.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import lmu.backend.StepGraph;
import lmu.backend.sim.SimBackend;
import lmu.tensor.DeviceStorage;
import lmu.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The padding mask driven by a lengths tensor: equal to the host-array form, its gradient the
 * incoming gradient at valid frames and zero at padded ones, and on the simulated device a
 * captured forward and backward replays with the lengths written into the tensor afterwards.
 */
class MasksTest {
    private static final int B = 3, T = 5, C = 2;

    private static float[] random(long seed, int n) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    private static float[] floats(int[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = a[i];
        return f;
    }

    /** x·keep and w·keep by brute force: keep = 1 at t &lt; lengths[b]. */
    private static float[] masked(float[] v, int[] lengths) {
        float[] r = new float[v.length];
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < lengths[b]; t++) {
                for (int c = 0; c < C; c++) r[(b * T + t) * C + c] = v[(b * T + t) * C + c];
            }
        }
        return r;
    }

    @Test
    void equalsTheHostFormWithItsGradient() {
        int[] lengths = {5, 0, 3};
        float[] xv = random(1, B * T * C), wv = random(2, B * T * C);
        Tensor x = Tensor.of(xv, B, T, C).requiresGrad(true);
        Tensor y = Masks.zeroPadding(x, Tensor.of(floats(lengths), B));
        assertArrayEquals(Masks.zeroPadding(Tensor.of(xv, B, T, C), lengths).toFloatArray(), y.toFloatArray(), 0f); // -0 and +0 alike
        assertArrayEquals(masked(xv, lengths), y.toFloatArray(), 0f); // -0 and +0 alike
        y.mul(Tensor.of(wv, B, T, C)).sum().backward();
        assertArrayEquals(masked(wv, lengths), x.grad().toFloatArray(), 0f); // -0 and +0 alike
        float[] keep = Masks.keep(Tensor.of(floats(lengths), B), B, T).toFloatArray();
        for (int b = 0; b < B; b++) for (int t = 0; t < T; t++) assertEquals(t < lengths[b] ? 1f : 0f, keep[b * T + t]);
    }

    @Test
    void capturedMaskReadsTheLengthsWhenReplayed() {
        int[] captured = {5, 2, 0}, replayed = {1, 5, 4};
        float[] xv = random(3, B * T * C), wv = random(4, B * T * C);
        try (SimBackend sim = SimBackend.install(0)) {
            sim.enableCapture(true);
            Tensor lengths = sim.toDevice(Tensor.of(floats(captured), B));
            Tensor x = sim.toDevice(Tensor.of(xv, B, T, C)), w = sim.toDevice(Tensor.of(wv, B, T, C));
            Masks.zeroPadding(x, lengths); // eager first call: the frame indices exist before the capture
            sim.beginCapture();
            Tensor y = Masks.zeroPadding(x, lengths);
            Tensor g = Masks.zeroPadding(w, lengths); // the gradient the op's backward gives for incoming w
            StepGraph graph = sim.endCapture();
            ((DeviceStorage) lengths.storage()).fromHost(floats(replayed));
            graph.replay();
            assertArrayEquals(masked(xv, replayed), sim.toHost(y).toFloatArray(), 0f); // -0 and +0 alike
            assertArrayEquals(masked(wv, replayed), sim.toHost(g).toFloatArray(), 0f); // -0 and +0 alike
            graph.close();
        }
    }

    @Test
    void refusesLengthsOfAnotherBatch() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Masks.zeroPadding(Tensor.zeros(B, T, C), Tensor.zeros(2)));
        assertEquals("Masks.keep: lengths tensor must have shape (B) = [3], got [2]", e.getMessage());
    }
}
