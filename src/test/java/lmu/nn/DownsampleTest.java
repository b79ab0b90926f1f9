package lmu.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import lmu.autograd.GradCheck;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;

class DownsampleTest {

    @Test
    void halvesLengthsRoundingUp() {
        Downsample d = new Downsample(4, new Rng(1));
        for (int l = 1; l <= 11; l++) {
            assertEquals((l + 1) / 2, Downsample.outputLength(l, 3, 2, 1), "length " + l);
        }
        assertArrayEquals(new int[] {1, 1, 2, 2, 3, 50, 51}, d.outputLengths(new int[] {1, 2, 3, 4, 5, 100, 101}));
    }

    @Test
    void otherGeometries() {
        // floor((L + 2p − k) / s) + 1, counted by hand
        assertEquals(0, Downsample.outputLength(2, 3, 2, 0)); // window does not fit
        assertEquals(1, Downsample.outputLength(3, 3, 2, 0));
        assertEquals(1, Downsample.outputLength(4, 3, 2, 0));
        assertEquals(2, Downsample.outputLength(5, 3, 2, 0));
        assertEquals(3, Downsample.outputLength(7, 3, 3, 1)); // (7 + 2 − 3) / 3 + 1
        assertEquals(0, Downsample.outputLength(0, 3, 2, 1));
    }

    /** Conv1d of one sequence of {@code length} frames with zero padding, written out directly. */
    private static double[] convOne(Tensor x, int b, int length, Tensor w, Tensor bias, int stride, int padding) {
        int c = w.dim(0), cin = w.dim(1), k = w.dim(2);
        int out = Downsample.outputLength(length, k, stride, padding);
        double[] y = new double[out * c];
        for (int t = 0; t < out; t++) {
            for (int o = 0; o < c; o++) {
                double acc = bias.get(o);
                for (int j = 0; j < k; j++) {
                    int src = t * stride - padding + j;
                    if (src < 0 || src >= length) continue;
                    for (int i = 0; i < cin; i++) acc += w.get(o, i, j) * x.get(b, src, i);
                }
                y[t * c + o] = acc;
            }
        }
        return y;
    }

    @Test
    void batchedEqualsEachSequenceAloneAndIgnoresPadding() {
        int c = 3, frames = 9;
        int[] lengths = {9, 5, 4, 1};
        Downsample d = new Downsample(c, 3, 2, 1, new Rng(2), DType.F64);
        Tensor x = Tensor.randn(new Rng(3), DType.F64, 1, lengths.length, frames, c);
        for (int b = 0; b < lengths.length; b++) {
            for (int t = lengths[b]; t < frames; t++) for (int i = 0; i < c; i++) x.set(77.0 + t, b, t, i); // garbage padding
        }
        EncoderOutput o = d.forward(x, lengths);
        assertArrayEquals(new int[] {5, 3, 2, 1}, o.lengths());
        assertArrayEquals(new int[] {lengths.length, 5, c}, o.features().shape());
        Tensor w = d.namedParameters().get("weight"), bias = d.namedParameters().get("bias");
        for (int b = 0; b < lengths.length; b++) {
            double[] ref = convOne(x, b, lengths[b], w, bias, 2, 1);
            for (int t = 0; t < o.lengths()[b]; t++) {
                for (int i = 0; i < c; i++) assertEquals(ref[t * c + i], o.features().get(b, t, i), 1e-12, "b " + b + " t " + t);
            }
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        Downsample d = new Downsample(3, 3, 2, 1, new Rng(4), DType.F64);
        Tensor x = GradCheck.leaf(new Rng(5), 2, 7, 3);
        int[] lengths = {7, 4};
        GradCheck.check("Downsample", in -> d.forward(in[0], lengths).features(), x, d.parameters().get(0),
                d.parameters().get(1));
    }

    @Test
    void tooShortSequenceIsReported() {
        Downsample d = new Downsample(2, 5, 2, 0, new Rng(6), DType.F32);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> d.forward(Tensor.zeros(2, 6, 2), new int[] {6, 3}));
        assertTrue(e.getMessage().contains("sequence 1 of 3 frames keeps no frames"), e.getMessage());
    }

    @Test
    void parameterCount() {
        assertEquals(8L * 8 * 3 + 8, new Downsample(8, new Rng(1)).parameterCount());
    }
}
