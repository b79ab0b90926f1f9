package lmu.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import lmu.autograd.GradCheck;
import lmu.autograd.GradMode;
import lmu.backend.AttentionKernels;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.backend.sim.SimBackend;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;

class MultiHeadAttentionTest {

    /** Straightforward attention in double loops: the definition, head by head. */
    private static double[] reference(MultiHeadAttention m, double[] x, int batch, int frames, int c, int heads, int[] lengths) {
        double[] q = linear(x, batch * frames, c, m.namedParameters().get("query.weight"), m.namedParameters().get("query.bias"));
        double[] k = linear(x, batch * frames, c, m.namedParameters().get("key.weight"), m.namedParameters().get("key.bias"));
        double[] v = linear(x, batch * frames, c, m.namedParameters().get("value.weight"), m.namedParameters().get("value.bias"));
        int d = c / heads;
        double[] ctx = new double[batch * frames * c];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < frames; i++) {
                    double[] s = new double[frames];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < frames; j++) {
                        double dot = 0;
                        for (int e = 0; e < d; e++) dot += q[(b * frames + i) * c + h * d + e] * k[(b * frames + j) * c + h * d + e];
                        s[j] = j < lengths[b] ? dot / Math.sqrt(d) : MultiHeadAttention.MASK_VALUE;
                        max = Math.max(max, s[j]);
                    }
                    double z = 0;
                    for (int j = 0; j < frames; j++) z += s[j] = Math.exp(s[j] - max);
                    for (int e = 0; e < d; e++) {
                        double acc = 0;
                        for (int j = 0; j < frames; j++) acc += s[j] / z * v[(b * frames + j) * c + h * d + e];
                        ctx[(b * frames + i) * c + h * d + e] = acc;
                    }
                }
            }
        }
        return linear(ctx, batch * frames, c, m.namedParameters().get("output.weight"), m.namedParameters().get("output.bias"));
    }

    private static double[] linear(double[] x, int rows, int c, Tensor w, Tensor bias) {
        int out = w.dim(0);
        double[] y = new double[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double acc = bias.get(o);
                for (int i = 0; i < c; i++) acc += x[r * c + i] * w.get(o, i);
                y[r * out + o] = acc;
            }
        }
        return y;
    }

    @Test
    void matchesDefinitionWithPadding() {
        int batch = 3, frames = 5, c = 6, heads = 2;
        int[] lengths = {5, 3, 1};
        MultiHeadAttention m = new MultiHeadAttention(c, heads, 0, new Rng(1), DType.F64);
        Tensor x = Tensor.randn(new Rng(2), DType.F64, 1, batch, frames, c);
        Tensor y = m.forward(x, lengths);
        assertArrayEquals(new int[] {batch, frames, c}, y.shape());
        double[] ref = reference(m, x.f64(), batch, frames, c, heads, lengths);
        assertArrayEquals(ref, y.toDoubleArray(), 1e-12);
    }

    @Test
    void nullLengthsMeansNoMask() {
        MultiHeadAttention m = new MultiHeadAttention(8, 4, 0, new Rng(3), DType.F64);
        Tensor x = Tensor.randn(new Rng(4), DType.F64, 1, 2, 4, 8);
        assertArrayEquals(reference(m, x.f64(), 2, 4, 8, 4, new int[] {4, 4}), m.forward(x, null).toDoubleArray(), 1e-12);
        assertArrayEquals(m.forward(x, new int[] {4, 4}).toDoubleArray(), m.forward(x, null).toDoubleArray(), 0);
    }

    @Test
    void validOutputsIgnorePaddingContent() {
        int batch = 2, frames = 7, c = 16;
        int[] lengths = {4, 7};
        MultiHeadAttention m = new MultiHeadAttention(c, 4, 0, new Rng(5));
        Tensor x = Tensor.randn(new Rng(6), DType.F32, 1, batch, frames, c);
        Tensor x2 = x.copy();
        for (int t = lengths[0]; t < frames; t++) {
            for (int i = 0; i < c; i++) x2.set(1000 * (i % 2 == 0 ? 1 : -1) + t, 0, t, i);
        }
        float[] a = m.forward(x, lengths).f32(), b = m.forward(x2, lengths).f32();
        for (int bb = 0; bb < batch; bb++) {
            for (int t = 0; t < lengths[bb]; t++) {
                for (int i = 0; i < c; i++) {
                    int idx = (bb * frames + t) * c + i;
                    assertEquals(a[idx], b[idx], 0, "sequence " + bb + " frame " + t);
                }
            }
        }
    }

    @Test
    void fullyPaddedRowsAreFinite() {
        int c = 8, frames = 6;
        MultiHeadAttention m = new MultiHeadAttention(c, 2, 0, new Rng(7));
        Tensor x = Tensor.randn(new Rng(8), DType.F32, 1, 2, frames, c);
        Tensor y = m.forward(x, new int[] {0, 2});
        for (float f : y.f32()) assertTrue(Float.isFinite(f), "non-finite attention output");
        // every key of sequence 0 is masked: each of its rows is the plain mean of the values
        double[] v = linear(x.toDoubleArray(), 2 * frames, c, m.namedParameters().get("value.weight"),
                m.namedParameters().get("value.bias"));
        double[] mean = new double[c];
        for (int t = 0; t < frames; t++) for (int i = 0; i < c; i++) mean[i] += v[t * c + i] / frames;
        double[] expected = linear(mean, 1, c, m.namedParameters().get("output.weight"), m.namedParameters().get("output.bias"));
        for (int t = 0; t < frames; t++) {
            for (int i = 0; i < c; i++) assertEquals(expected[i], y.get(0, t, i), 1e-5);
        }
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        MultiHeadAttention m = new MultiHeadAttention(6, 3, 0, new Rng(9), DType.F64);
        Tensor x = GradCheck.leaf(new Rng(10), 2, 4, 6);
        int[] lengths = {4, 2};
        Tensor[] leaves = new Tensor[1 + m.parameters().size()];
        leaves[0] = x;
        for (int i = 0; i < m.parameters().size(); i++) leaves[i + 1] = m.parameters().get(i);
        GradCheck.check("MultiHeadAttention", in -> m.forward(in[0], lengths), leaves);
    }

    @Test
    void headsMustDivideChannels() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MultiHeadAttention(10, 4, 0, new Rng(1)));
        assertTrue(e.getMessage().contains("heads (4) must divide channels (10)"), e.getMessage());
    }

    @Test
    void badInputsNameTheProblem() {
        MultiHeadAttention m = new MultiHeadAttention(8, 2, 0, new Rng(1));
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class, () -> m.forward(Tensor.zeros(2, 3, 6), null));
        assertTrue(shape.getMessage().contains("(B, T, 8), got [2, 3, 6]"), shape.getMessage());
        IllegalArgumentException len = assertThrows(IllegalArgumentException.class,
                () -> m.forward(Tensor.zeros(2, 3, 8), new int[] {3, 4}));
        assertTrue(len.getMessage().contains("lengths[1] = 4"), len.getMessage());
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> m.forward(Tensor.zeros(2, 3, 8), new int[] {3}));
        assertTrue(count.getMessage().contains("2 entries"), count.getMessage());
    }

    @Test
    void dropoutOnlyInTrainingAndReproducible() {
        MultiHeadAttention m = new MultiHeadAttention(8, 2, 0.5, new Rng(11));
        Tensor x = Tensor.randn(new Rng(12), DType.F32, 1, 2, 5, 8);
        int[] lengths = {5, 3};
        m.train(false);
        float[] eval1 = m.forward(x, lengths).f32(), eval2 = m.forward(x, lengths).f32();
        assertArrayEquals(eval1, eval2);
        m.train(true);
        Dropout.reseed(m, 42);
        float[] t1 = m.forward(x, lengths).f32();
        float[] t2 = m.forward(x, lengths).f32();
        assertFalse(Arrays.equals(t1, eval1), "dropout had no effect in training");
        assertFalse(Arrays.equals(t1, t2), "two training calls drew the same mask");
        Dropout.reseed(m, 42);
        assertArrayEquals(t1, m.forward(x, lengths).f32(), "reseeding did not reproduce the mask");
        for (float f : t1) assertTrue(Float.isFinite(f));
        try (GradMode g = GradMode.off()) {
            assertNotEquals(0, m.forward(x, lengths).sum().item());
        }
    }

    @Test
    void fusedCoreEqualsComposedOpsWithDropoutAndGradients() {
        MultiHeadAttention m = new MultiHeadAttention(12, 3, 0.3, new Rng(13));
        Tensor x = Tensor.randn(new Rng(14), DType.F32, 1, 2, 9, 12);
        int[] lengths = {9, 4};
        m.train(true);
        Tensor xa = x.copy().detach().requiresGrad(true), xb = x.copy().detach().requiresGrad(true);
        Dropout.reseed(m, 5);
        Tensor fused = m.forward(xa, lengths);
        fused.sum().backward();
        java.util.Map<String, float[]> fusedGrads = new java.util.LinkedHashMap<>();
        m.namedParameters().forEach((k, t) -> fusedGrads.put(k, t.grad().f32().clone()));
        m.zeroGrad();
        Dropout.reseed(m, 5);
        Tensor composed = m.forwardComposed(xb, lengths);
        composed.sum().backward();
        assertArrayEquals(composed.f32(), fused.f32(), 1e-5f);
        assertArrayEquals(xb.grad().f32(), xa.grad().f32(), 1e-4f);
        m.namedParameters().forEach((k, t) -> assertArrayEquals(t.grad().f32(), fusedGrads.get(k), 2e-4f, k));
    }

    @Test
    void parameterCount() {
        int c = 12;
        assertEquals(4L * (c * c + c), new MultiHeadAttention(c, 3, 0, new Rng(1)).parameterCount());
        assertEquals(java.util.List.of("query.weight", "query.bias", "key.weight", "key.bias", "value.weight", "value.bias",
                "output.weight", "output.bias"), java.util.List.copyOf(new MultiHeadAttention(c, 3, 0, new Rng(1))
                .namedParameters().keySet()));
    }

    /**
     * The simulated device as the registered CUDA backend, with its attention kernels wrapped: they
     * count forward calls and claim support only when {@code fused} is set (as the CUDA kernels
     * claim only head dimensions 32 and 64).
     */
    private static Backend device(SimBackend sim, boolean fused, AtomicInteger calls) {
        AttentionKernels inner = sim.kernels(AttentionKernels.class);
        AttentionKernels att = (AttentionKernels) Proxy.newProxyInstance(AttentionKernels.class.getClassLoader(),
                new Class<?>[] {AttentionKernels.class}, (proxy, method, args) -> {
                    if (method.getName().equals("supports")) return fused && (Boolean) method.invoke(inner, args);
                    if (method.getName().equals("forward")) calls.incrementAndGet();
                    try {
                        return method.invoke(inner, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        Backend b = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("kernels") && args[0] == AttentionKernels.class) return att;
                    try {
                        return method.invoke(sim, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        Backends.registerCuda(b);
        return b;
    }

    /**
     * On a device the fused op runs where the device's kernels support the head dimension and the
     * composed ops where they do not (as on CUDA for d other than 32 and 64); both give the CPU's
     * function with the same dropout masks, and the gradients stay on the device.
     */
    @Test
    void onADeviceFusedWhereSupportedComposedOtherwise() {
        Tensor x = Tensor.randn(new Rng(24), DType.F32, 1, 2, 7, 12);
        int[] lengths = {7, 3};
        MultiHeadAttention cpu = new MultiHeadAttention(12, 3, 0.3, new Rng(23));
        cpu.train(true);
        Dropout.reseed(cpu, 9);
        Tensor want = cpu.forward(x, lengths);
        try (SimBackend sim = new SimBackend(Device.cuda(0))) {
            for (boolean fused : new boolean[] {true, false}) {
                AtomicInteger calls = new AtomicInteger();
                Backend b = device(sim, fused, calls);
                try {
                    MultiHeadAttention m = new MultiHeadAttention(12, 3, 0.3, new Rng(23));
                    m.to(Device.cuda(0));
                    m.train(true);
                    Dropout.reseed(m, 9);
                    Tensor xd = sim.toDevice(x).requiresGrad(true);
                    Tensor y = m.forward(xd, lengths);
                    assertEquals(fused ? 1 : 0, calls.get(), "fused kernel calls");
                    assertEquals(Device.cuda(0), y.device());
                    float[] got = sim.toHost(y).f32();
                    if (fused) assertArrayEquals(want.f32(), got, 0f, "fused on the device");
                    else assertArrayEquals(want.f32(), got, 1e-5f, "composed on the device");
                    y.sum().backward();
                    assertEquals(Device.cuda(0), xd.grad().device());
                    assertEquals(Device.cuda(0), m.namedParameters().get("key.weight").grad().device());
                } finally {
                    Backends.unregisterCuda(b);
                }
            }
        }
    }
}
