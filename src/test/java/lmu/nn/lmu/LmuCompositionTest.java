package lmu.nn.lmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.BiFunction;
import lmu.amp.Autocast;
import lmu.amp.Precision;
import lmu.nn.lmu.LmuLayer.Mode;
import lmu.tensor.DType;
import lmu.tensor.HalfFloats;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;

/**
 * The device path of {@link LmuLayer} ({@link LmuComposition}: generic ops plus the CPU's
 * LmuKernels, forced on the CPU) against the fused op {@link LmuFunction} that the CPU runs: same
 * outputs and the same gradient for x and every parameter, in both modes and dtypes, over awkward
 * sizes and padded batches (lengths 0 and T included, NaN in the padding of x and of dh); and a
 * float64 finite-difference check of the composed path itself.
 */
class LmuCompositionTest {

    /** Output and gradients of one run: h, dx, then parameter gradients by name. */
    private record Run(double[] h, double[] dx, Map<String, double[]> grads) {}

    /** Every parameter set to seeded random values (biases and e_m too, so each path carries signal). */
    private static LmuLayer layer(LmuConfig c, Mode mode, DType dtype, long seed) {
        LmuLayer layer = new LmuLayer(c, mode, new Rng(seed), dtype);
        Random r = new Random(seed);
        for (Tensor t : layer.namedParameters().values()) {
            for (int i = 0; i < t.numel(); i++) t.storage().set(i, 0.5 * r.nextGaussian());
        }
        return layer;
    }

    private static Tensor tensor(double[] v, DType dtype, int... shape) {
        return Tensor.of(v.clone(), shape).to(dtype).detach();
    }

    /** Random values, NaN at padded frames (rows of width {@code width}). */
    private static double[] padded(int batch, int frames, int width, int[] lengths, long seed) {
        double[] v = FftTest.random(batch * frames * width, seed);
        for (int b = 0; b < batch; b++) {
            for (int i = (b * frames + lengths[b]) * width; i < (b + 1) * frames * width; i++) v[i] = Double.NaN;
        }
        return v;
    }

    /** Runs loss = Σ w ⊙ h through {@code forward} and collects h, dx and every parameter gradient. */
    private static Run run(LmuLayer layer, BiFunction<Tensor, int[], Tensor> forward, double[] x, double[] w, DType dtype,
            int batch, int frames, int[] lengths) {
        LmuConfig c = layer.config();
        layer.zeroGrad();
        Tensor xt = tensor(x, dtype, batch, frames, c.inputSize()).requiresGrad(true);
        Tensor h = forward.apply(xt, lengths);
        assertEquals(dtype, h.dtype());
        h.mul(tensor(w, dtype, batch, frames, c.hiddenSize())).sum().backward();
        Map<String, double[]> g = new LinkedHashMap<>();
        layer.namedParameters().forEach((k, v) -> g.put(k, v.grad().toDoubleArray()));
        return new Run(h.toDoubleArray(), xt.grad().toDoubleArray(), g);
    }

    private static void assertSame(LmuConfig c, Mode mode, DType dtype, int frames, int[] lengths, long seed) {
        int batch = lengths.length;
        LmuLayer layer = layer(c, mode, dtype, seed);
        double[] x = padded(batch, frames, c.inputSize(), lengths, seed + 1);
        double[] w = padded(batch, frames, c.hiddenSize(), lengths, seed + 2);
        Run ref = run(layer, layer::forward, x, w, dtype, batch, frames, lengths);
        Run got = run(layer, layer::forwardComposed, x, w, dtype, batch, frames, lengths);
        double tol = dtype == DType.F64 ? 1e-11 : 2e-5;
        String what = layer.effectiveMode() + " " + dtype + " " + c + " lengths " + java.util.Arrays.toString(lengths);
        LegendreConvolutionTest.assertClose(ref.h(), got.h(), tol, what + " h");
        LegendreConvolutionTest.assertClose(ref.dx(), got.dx(), tol, what + " dx");
        assertEquals(ref.grads().keySet(), got.grads().keySet());
        for (String name : ref.grads().keySet()) {
            LegendreConvolutionTest.assertClose(ref.grads().get(name), got.grads().get(name), tol, what + " d" + name);
        }
        int hid = c.hiddenSize(), in = c.inputSize();
        for (int b = 0; b < batch; b++) {
            for (int t = lengths[b]; t < frames; t++) {
                for (int j = 0; j < hid; j++) assertEquals(0.0, got.h()[(b * frames + t) * hid + j], what + " padded h");
                for (int i = 0; i < in; i++) assertEquals(0.0, got.dx()[(b * frames + t) * in + i], what + " padded dx");
            }
        }
    }

    @Test
    void parallelModeEqualsTheFusedOp() {
        LmuConfig c = LmuConfig.of(3, 5, 2, 7, 9).withHidden(true, false, Activation.TANH).withBiases(true, true);
        for (DType dtype : new DType[] {DType.F64, DType.F32}) {
            assertSame(c, Mode.AUTO, dtype, 13, new int[] {13, 0, 6}, 1);
            assertSame(c, Mode.PARALLEL, dtype, 13, new int[] {13, 13}, 2);
            // past the float32 convolution's 64-frame block and the float64 direct/FFT switch
            assertSame(LmuConfig.of(2, 4, 1, 5, 30).withHidden(false, false, Activation.RELU), Mode.PARALLEL, dtype, 70,
                    new int[] {70, 49, 1}, 3);
            assertSame(LmuConfig.of(2, 3, 3, 4, 6).withBiases(false, false)
                    .withHidden(false, false, Activation.IDENTITY),
                    Mode.PARALLEL, dtype, 9, new int[] {0, 9, 4, 2}, 4);
        }
    }

    @Test
    void recurrentModeEqualsTheFusedOpWithEveryFeedbackOnAndOff() {
        Activation[] fs = Activation.values();
        int n = 0;
        for (int bits = 0; bits < 8; bits++) {
            boolean h2m = (bits & 1) != 0, m2m = (bits & 2) != 0, h2h = (bits & 4) != 0;
            Activation f = fs[bits % fs.length];
            LmuConfig c = LmuConfig.of(3, 5, 2, 4, 6).withFeedback(h2m, m2m).withHidden(bits % 2 == 0, h2h, f)
                    .withBiases(bits < 4, bits % 3 != 0);
            for (DType dtype : new DType[] {DType.F64, DType.F32}) {
                assertSame(c, Mode.RECURRENT, dtype, 11, new int[] {11, 0, 5}, 10 + n++);
                assertSame(c, Mode.RECURRENT, dtype, 11, new int[] {11, 11}, 10 + n++);
            }
        }
        // one frame, one sequence
        assertSame(LmuConfig.of(1, 2, 1, 1, 1).withFeedback(true, true).withHidden(true, true, Activation.TANH),
                Mode.RECURRENT, DType.F64, 1, new int[] {1}, 40);
    }

    @Test
    void mixedPrecisionRoundsOnlyInputAndOutputLikeTheFusedOp() {
        LmuConfig c = LmuConfig.of(3, 6, 2, 5, 8).withHidden(true, false, Activation.TANH).withBiases(true, true);
        int frames = 10;
        int[] lengths = {10, 4};
        for (Mode mode : new Mode[] {Mode.PARALLEL, Mode.RECURRENT}) {
            LmuLayer layer = layer(c, mode, DType.F32, 50);
            double[] x = padded(2, frames, 3, lengths, 51);
            double[] w = padded(2, frames, 6, lengths, 52);
            Run ref, got;
            try (Autocast ac = Autocast.enable(Precision.FP16)) {
                ref = run(layer, layer::forward, x, w, DType.F32, 2, frames, lengths);
                got = run(layer, layer::forwardComposed, x, w, DType.F32, 2, frames, lengths);
            }
            Run plain = run(layer, layer::forwardComposed, x, w, DType.F32, 2, frames, lengths);
            // the output is stored in fp16 (every value representable), which it is not without the policy
            boolean allHalf = true;
            for (double v : got.h()) assertEquals((float) v, HalfFloats.f16ToFloat(HalfFloats.floatToF16((float) v)));
            for (double v : plain.h()) allHalf &= (float) v == HalfFloats.f16ToFloat(HalfFloats.floatToF16((float) v));
            assertTrue(!allHalf, "without autocast h is float32");
            // the same roundings as the fused op: equal to fp16 resolution (an fp32 difference inside may flip one ulp)
            LegendreConvolutionTest.assertClose(ref.h(), got.h(), 1e-3, mode + " h");
            LegendreConvolutionTest.assertClose(ref.dx(), got.dx(), 1e-3, mode + " dx");
            for (String name : ref.grads().keySet()) {
                LegendreConvolutionTest.assertClose(ref.grads().get(name), got.grads().get(name), 1e-3, mode + " d" + name);
            }
        }
    }

    /** Central differences of loss = Σ w ⊙ h for every parameter entry and every x entry, float64. */
    private static void finiteDifferences(LmuConfig c, Mode mode, int frames, int[] lengths, long seed) {
        int batch = lengths.length;
        LmuLayer layer = layer(c, mode, DType.F64, seed);
        double[] x = padded(batch, frames, c.inputSize(), lengths, seed + 1);
        double[] w = padded(batch, frames, c.hiddenSize(), lengths, seed + 2);
        Run got = run(layer, layer::forwardComposed, x, w, DType.F64, batch, frames, lengths);
        double[] wMasked = w.clone();
        for (int i = 0; i < wMasked.length; i++) if (Double.isNaN(wMasked[i])) wMasked[i] = 0;
        Tensor wt = Tensor.of(wMasked, batch, frames, c.hiddenSize());
        double[] xv = x.clone();
        java.util.function.DoubleSupplier loss = () -> {
            try (lmu.autograd.GradMode off = lmu.autograd.GradMode.off()) {
                return layer.forwardComposed(Tensor.of(xv, batch, frames, c.inputSize()), lengths).mul(wt).sum().item();
            }
        };
        double eps = 1e-5;
        for (Map.Entry<String, Tensor> e : layer.namedParameters().entrySet()) {
            double[] a = e.getValue().f64();
            for (int i = 0; i < a.length; i++) {
                double fd = difference(a, i, eps, loss);
                assertEquals(fd, got.grads().get(e.getKey())[i], 1e-6 * (1 + Math.abs(fd)), mode + " d" + e.getKey() + "[" + i + "]");
            }
        }
        for (int i = 0; i < xv.length; i++) {
            if (Double.isNaN(xv[i])) {
                assertEquals(0.0, got.dx()[i], "padded dx");
                continue;
            }
            double fd = difference(xv, i, eps, loss);
            assertEquals(fd, got.dx()[i], 1e-6 * (1 + Math.abs(fd)), mode + " dx[" + i + "]");
        }
    }

    private static double difference(double[] a, int i, double eps, java.util.function.DoubleSupplier loss) {
        double keep = a[i];
        a[i] = keep + eps;
        double lp = loss.getAsDouble();
        a[i] = keep - eps;
        double lm = loss.getAsDouble();
        a[i] = keep;
        return (lp - lm) / (2 * eps);
    }

    @Test
    void composedGradientsMatchFiniteDifferences() {
        LmuConfig all = LmuConfig.of(2, 3, 2, 3, 4).withFeedback(true, true).withHidden(true, true, Activation.TANH)
                .withBiases(true, true);
        finiteDifferences(all, Mode.RECURRENT, 5, new int[] {5, 0, 3}, 60);
        LmuConfig par = LmuConfig.of(2, 3, 2, 3, 4).withHidden(true, false, Activation.TANH).withBiases(true, true);
        finiteDifferences(par, Mode.PARALLEL, 5, new int[] {5, 2}, 61);
    }

    @Test
    void unneededGradientsAreSkipped() {
        LmuConfig c = LmuConfig.of(3, 4, 1, 3, 5).withFeedback(true, false);
        LmuLayer layer = layer(c, Mode.RECURRENT, DType.F32, 70);
        Tensor x = Tensor.of(new float[2 * 4 * 3], 2, 4, 3);
        layer.forwardComposed(x, new int[] {4, 2}).sum().backward();
        assertNull(x.grad());
        assertTrue(layer.namedParameters().get("eh").grad() != null);
    }
}
