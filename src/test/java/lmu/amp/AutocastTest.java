package lmu.amp;

import static org.junit.jupiter.api.Assertions.*;

import lmu.autograd.GradCheck;
import lmu.nn.Downsample;
import lmu.nn.Linear;
import lmu.nn.lmu.LmuConfig;
import lmu.nn.lmu.LmuLayer;
import lmu.ops.MatMul;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;

/** The precision policy: what is rounded, forward and backward, and what is left alone. */
class AutocastTest {
    private static Tensor rand(Rng rng, double std, int... shape) {
        return Tensor.randn(rng, DType.F32, std, shape);
    }

    private static float[] rounded(Precision p, float[] a) {
        float[] out = new float[a.length];
        p.round(a, 0, out, 0, a.length);
        return out;
    }

    /** c (m, n) = a (m, k) · b (k, n) in float64 from float inputs, then rounded to float. */
    private static float[] product(float[] a, float[] b, int m, int k, int n) {
        float[] c = new float[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int r = 0; r < k; r++) s += (double) a[i * k + r] * b[r * n + j];
                c[i * n + j] = (float) s;
            }
        }
        return c;
    }

    private static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
        return t;
    }

    @Test
    void halfRoundRoundsValuesAndGradients() {
        Tensor x = Tensor.of(new float[] {1.0001f, 70000f, -2.5f, 1e-9f}, 4).requiresGrad(true);
        Tensor y = HalfRound.apply(x, Precision.FP16);
        assertArrayEquals(new float[] {1f, Float.POSITIVE_INFINITY, -2.5f, 0f}, y.toFloatArray());
        float[] dy = {0.3f, 1e5f, 3e-8f, -1.0001f};
        y.backward(Tensor.of(dy, 4));
        assertArrayEquals(rounded(Precision.FP16, dy), x.grad().toFloatArray());
        assertEquals(Float.POSITIVE_INFINITY, x.grad().toFloatArray()[1], "an fp16 gradient overflows like an activation");
        assertSame(x, HalfRound.apply(x, Precision.OFF));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HalfRound.apply(Tensor.zeros(DType.F64, 2), Precision.BF16));
        assertTrue(e.getMessage().contains("dtype F32, got F64"), e.getMessage());
    }

    @Test
    void matMulUnderFp16HasHalfOperandsFp32AccumulationAndHalfResultInBothPasses() {
        Rng rng = new Rng(11);
        int m = 5, k = 37, n = 6;
        Tensor a = rand(rng, 1, m, k).requiresGrad(true), b = rand(rng, 1, k, n).requiresGrad(true);
        Tensor c;
        try (Autocast ac = Autocast.enable(Precision.FP16)) {
            c = MatMul.apply(a, b, false, false);
        }
        float[] ah = rounded(Precision.FP16, a.toFloatArray()), bh = rounded(Precision.FP16, b.toFloatArray());
        assertArrayEquals(rounded(Precision.FP16, product(ah, bh, m, k, n)), c.toFloatArray(), 1e-6f);
        float[] dc = rand(rng, 1, m, n).toFloatArray();
        c.backward(Tensor.of(dc, m, n));
        float[] dch = rounded(Precision.FP16, dc);
        // dA = round(round(dC)·round(B)ᵀ), dB = round(round(A)ᵀ·round(dC))
        float[] da = rounded(Precision.FP16, product(dch, transpose(bh, k, n), m, n, k));
        float[] db = rounded(Precision.FP16, product(transpose(ah, m, k), dch, k, m, n));
        assertArrayEquals(da, a.grad().toFloatArray(), 1e-6f);
        assertArrayEquals(db, b.grad().toFloatArray(), 1e-6f);
    }

    @Test
    void halfGradientsTrackFp32WithinTheFormatsPrecision() {
        // the gradient of sum(tanh(x·W)) under each policy, against fp32: relative error of order 2^-11 (fp16), 2^-8 (bf16)
        for (Precision p : new Precision[] {Precision.FP16, Precision.BF16}) {
            Rng rng = new Rng(5);
            Tensor x = rand(rng, 1, 8, 64), w = rand(rng, 0.125, 64, 32).requiresGrad(true);
            x.matmul(w).tanh().sum().backward();
            float[] ref = w.grad().toFloatArray();
            w.zeroGrad();
            try (Autocast ac = Autocast.enable(p)) {
                x.matmul(w).tanh().sum().backward();
            }
            float[] got = w.grad().toFloatArray();
            double num = 0, den = 0;
            for (int i = 0; i < ref.length; i++) {
                num += (got[i] - ref[i]) * (got[i] - ref[i]);
                den += ref[i] * ref[i];
            }
            double rel = Math.sqrt(num / den), unit = p == Precision.FP16 ? 0x1p-11 : 0x1p-8;
            assertTrue(rel < 8 * unit, p + ": relative gradient error " + rel);
            assertTrue(rel > unit / 64, p + ": the policy must actually round (error " + rel + ")");
        }
    }

    @Test
    void linearUnderBf16RoundsInputWeightAndProductButAddsTheFp32Bias() {
        Rng rng = new Rng(2);
        Linear lin = new Linear(7, 3, true, rng);
        Tensor x = rand(rng, 1, 2, 7);
        Tensor y;
        try (Autocast ac = Autocast.enable(Precision.BF16)) {
            y = lin.forward(x);
        }
        float[] xh = rounded(Precision.BF16, x.toFloatArray());
        float[] wt = transpose(rounded(Precision.BF16, lin.weight().toFloatArray()), 3, 7);
        float[] expect = rounded(Precision.BF16, product(xh, wt, 2, 7, 3));
        float[] bias = lin.bias().toFloatArray();
        for (int i = 0; i < expect.length; i++) expect[i] += bias[i % 3];
        assertArrayEquals(expect, y.toFloatArray(), 1e-6f);
        assertNotEquals(Precision.BF16.round(lin.weight().toFloatArray()[0]), lin.weight().toFloatArray()[0],
                "master weights stay fp32");
    }

    private static void allRepresentable(Precision p, Tensor t, String what) {
        for (float v : t.toFloatArray()) assertEquals(p.round(v), v, what + ": " + v + " is not a " + p + " value");
    }

    @Test
    void convolutionAndLmuLayerReadAndWriteHalfPrecisionActivations() {
        Rng rng = new Rng(4);
        Tensor x = rand(rng, 1, 2, 9, 6).requiresGrad(true);
        int[] lengths = {9, 7};
        Downsample down = new Downsample(6, 3, 2, 1, rng, DType.F32);
        LmuLayer layer = new LmuLayer(LmuConfig.of(6, 5, 1, 4, 8), LmuLayer.Mode.AUTO, rng, DType.F32);
        Tensor c, h;
        try (Autocast ac = Autocast.enable(Precision.FP16)) {
            c = down.forward(x, lengths).features();
            h = layer.forward(x, lengths);
        }
        Tensor cRef = down.forward(x, lengths).features(), hRef = layer.forward(x, lengths);
        for (Tensor[] pair : new Tensor[][] {{c, cRef}, {h, hRef}}) {
            float[] got = pair[0].toFloatArray(), ref = pair[1].toFloatArray();
            boolean differs = false;
            for (int i = 0; i < ref.length; i++) {
                assertEquals(ref[i], got[i], 4e-3 * (1 + Math.abs(ref[i])));
                differs |= got[i] != ref[i];
            }
            assertTrue(differs, "the policy must round");
        }
        allRepresentable(Precision.FP16, c, "convolution output");
        allRepresentable(Precision.FP16, h, "LMU output");
        h.sum().backward();
        allRepresentable(Precision.FP16, x.grad(), "gradient reaching the LMU input");
    }

    @Test
    void float64GradientChecksStillPassUnderAPolicy() {
        Rng rng = new Rng(9);
        Tensor a = Tensor.randn(rng, DType.F64, 1, 3, 4).requiresGrad(true), b = Tensor.randn(rng, DType.F64, 1, 4, 2)
                .requiresGrad(true);
        try (Autocast ac = Autocast.enable(Precision.FP16)) {
            GradCheck.check("MatMul under fp16 policy, F64", in -> MatMul.apply(in[0], in[1], false, false), a, b);
        }
    }

    @Test
    void policyIsScopedPerThreadNestsAndLeavesF64Alone() throws Exception {
        assertEquals(Precision.OFF, Autocast.current());
        Tensor d = Tensor.full(DType.F64, 1.0001, 2);
        try (Autocast outer = Autocast.enable(Precision.FP16)) {
            assertSame(d, Autocast.half(d), "float64 gradient checks are never rounded");
            assertNull(Autocast.half(null));
            Precision[] seen = new Precision[1];
            Thread t = new Thread(() -> seen[0] = Autocast.current());
            t.start();
            t.join();
            assertEquals(Precision.OFF, seen[0], "another thread has its own policy");
            try (Autocast inner = Autocast.enable(Precision.BF16)) {
                assertEquals(Precision.BF16, Autocast.current());
            }
            assertEquals(Precision.FP16, Autocast.current());
            assertEquals(1f, Autocast.half(Tensor.of(new float[] {1.0001f}, 1)).toFloatArray()[0]);
        }
        assertEquals(Precision.OFF, Autocast.current());
        Tensor f = Tensor.of(new float[] {1.0001f}, 1);
        assertSame(f, Autocast.half(f));
    }
}
