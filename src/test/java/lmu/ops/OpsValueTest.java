package lmu.ops;

import static org.junit.jupiter.api.Assertions.*;

import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;

/** Forward values against closed forms and naive loops. */
class OpsValueTest {

    @Test
    void matmulMatchesNaiveProductForAllTransposes() {
        Rng rng = new Rng(5);
        int m = 13, n = 7, k = 207;
        Tensor a = Tensor.randn(rng, DType.F32, 1, m, k), b = Tensor.randn(rng, DType.F32, 1, k, n);
        float[] c = a.matmul(b).toFloatArray();
        float[] ct = MatMul.apply(a.transpose(0, 1), b.transpose(0, 1), true, true).toFloatArray();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) s += a.get(i, p) * b.get(p, j);
                assertEquals(s, c[i * n + j], 1e-4 * Math.max(1, Math.abs(s)));
                assertEquals(s, ct[i * n + j], 1e-4 * Math.max(1, Math.abs(s)));
            }
        }
    }

    @Test
    void softmaxOfKnownRow() {
        Tensor x = Tensor.of(new float[] {0, (float) Math.log(3)}, 1, 2);
        assertArrayEquals(new float[] {0.25f, 0.75f}, x.softmax(-1).toFloatArray(), 1e-6f);
        assertArrayEquals(new float[] {(float) Math.log(0.25), (float) Math.log(0.75)}, x.logSoftmax(-1).toFloatArray(), 1e-6f);
    }

    @Test
    void softmaxOfFullyMaskedRowIsZerosNotNaN() {
        Tensor x = Tensor.full(DType.F32, Double.NEGATIVE_INFINITY, 1, 3);
        for (float v : x.softmax(-1).toFloatArray()) assertEquals(0f, v);
    }

    @Test
    void layerNormNormalisesRows() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, -2, 0, 2, 8}, 2, 4);
        float[] y = LayerNorm.apply(x, null, null, 0).toFloatArray();
        // row 1: mean 2.5, variance 1.25
        double sd = Math.sqrt(1.25);
        assertEquals((1 - 2.5) / sd, y[0], 1e-6);
        assertEquals((4 - 2.5) / sd, y[3], 1e-6);
        double mean2 = 0, var2 = 0;
        for (int j = 4; j < 8; j++) mean2 += y[j] / 4.0;
        for (int j = 4; j < 8; j++) var2 += (y[j] - mean2) * (y[j] - mean2) / 4.0;
        assertEquals(0, mean2, 1e-6);
        assertEquals(1, var2, 1e-5);
    }

    @Test
    void dropoutKeepsExpectedFractionAndIsReproducible() {
        Tensor x = Tensor.ones(100_000);
        float[] y1 = Dropout.apply(x, 0.25, 9).toFloatArray();
        float[] y2 = Dropout.apply(x, 0.25, 9).toFloatArray();
        assertArrayEquals(y1, y2);
        int kept = 0;
        for (float v : y1) {
            if (v != 0) {
                kept++;
                assertEquals(1 / 0.75f, v, 1e-6f);
            }
        }
        assertEquals(0.75, kept / 100_000.0, 0.01);
        assertFalse(java.util.Arrays.equals(y1, Dropout.apply(x, 0.25, 10).toFloatArray()), "another seed, another mask");
    }

    @Test
    void conv1dMatchesHandComputedStride2() {
        // x: one sequence of 5 frames, 1 channel: 1..5; kernel [1, 0, -1], stride 2, padding 1
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5}, 1, 5, 1);
        Tensor w = Tensor.of(new float[] {1, 0, -1}, 1, 1, 3);
        Tensor y = Conv1d.apply(x, w, Tensor.of(new float[] {0.5f}, 1), 2, 1);
        assertArrayEquals(new int[] {1, 3, 1}, y.shape());
        // frames t=0: [0,1,2] -> 0-2 ; t=1: [2,3,4] -> 2-4 ; t=2: [4,5,0] -> 4-0 ; plus bias
        assertArrayEquals(new float[] {-1.5f, -1.5f, 4.5f}, y.toFloatArray(), 1e-6f);
        assertEquals(3, Conv1d.outputLength(5, 3, 2, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Conv1d.apply(Tensor.zeros(1, 1, 1), Tensor.zeros(1, 1, 3), null, 2, 0));
        assertTrue(e.getMessage().contains("shorter than kernel"), e.getMessage());
    }

    @Test
    void maskedFillUsesFiniteFillAndBroadcastsMask() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        boolean[] mask = {false, true, true};
        float[] y = MaskedFill.apply(x, mask, new int[] {1, 3}, -1e4).toFloatArray();
        assertArrayEquals(new float[] {1, -1e4f, -1e4f, 4, -1e4f, -1e4f}, y);
    }

    @Test
    void reductionsAndLayout() {
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertArrayEquals(new float[] {5, 7, 9}, x.sum(0, false).toFloatArray());
        assertArrayEquals(new float[] {2, 5}, x.mean(1, false).toFloatArray());
        assertArrayEquals(new float[] {3, 6}, x.max(1, false).toFloatArray());
        assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, x.transpose(0, 1).toFloatArray());
        assertArrayEquals(new float[] {2, 3, 5, 6}, x.slice(1, 1, 3).toFloatArray());
        assertArrayEquals(new float[] {0, 1, 2, 3, 0, 4, 5, 6}, x.pad(1, 1, 0, 0).toFloatArray());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6}, Concat.apply(0, x, x).toFloatArray());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> x.slice(1, 2, 5));
        assertTrue(e.getMessage().contains("[2, 5)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> x.reshape(4, -1));
    }
}
