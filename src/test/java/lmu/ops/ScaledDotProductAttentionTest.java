package lmu.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import lmu.autograd.GradCheck;
import lmu.backend.sim.SimBackend;
import lmu.nn.Masks;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;

class ScaledDotProductAttentionTest {
    private static final double MASK = -1e4;

    /** The unfused composition: head permutes, products, masked fill, softmax, dropout. */
    private static Tensor composed(Tensor q, Tensor k, Tensor v, int heads, double scale, int[] lengths, double p, long seed) {
        int batch = q.dim(0), frames = q.dim(1), c = q.dim(2), d = c / heads;
        Tensor qs = split(q.mul(scale), heads), ks = split(k, heads), vs = split(v, heads);
        Tensor scores = MatMul.apply(qs, ks, false, true);
        if (lengths != null) {
            scores = MaskedFill.apply(scores.reshape(batch, heads, frames, frames), Masks.padding(lengths, frames),
                    new int[] {batch, 1, 1, frames}, MASK).reshape(batch * heads, frames, frames);
        }
        Tensor w = Dropout.apply(scores.softmax(-1), p, seed);
        return MatMul.apply(w, vs, false, false).reshape(batch, heads, frames, d).permute(0, 2, 1, 3)
                .reshape(batch, frames, c);
    }

    private static Tensor split(Tensor t, int heads) {
        int b = t.dim(0), f = t.dim(1), c = t.dim(2);
        return t.reshape(b, f, heads, c / heads).permute(0, 2, 1, 3).reshape(b * heads, f, c / heads);
    }

    private static Tensor[] leaves(DType dtype, long seed, int... shape) {
        Rng rng = new Rng(seed);
        Tensor[] t = new Tensor[3];
        for (int i = 0; i < 3; i++) t[i] = Tensor.randn(rng, dtype, 1, shape).requiresGrad(true);
        return t;
    }

    private static void assertClose(Tensor expected, Tensor actual, double tol, String what) {
        double[] e = expected.toDoubleArray(), a = actual.toDoubleArray();
        assertEquals(e.length, a.length, what);
        int bad = 0;
        StringBuilder msg = new StringBuilder();
        for (int i = 0; i < e.length; i++) {
            if (!(Math.abs(e[i] - a[i]) <= tol * (1 + Math.abs(e[i])))) {
                if (bad++ < 5) msg.append(String.format(" [%d] %.9g vs %.9g", i, a[i], e[i]));
            }
        }
        assertEquals(0, bad, what + ": " + bad + " mismatches:" + msg);
    }

    /** Forward and all three input gradients equal the composition's, same dropout mask included. */
    private static void matchesComposition(DType dtype, double tol, int[] lengths, double p) {
        int batch = 3, frames = 13, c = 12, heads = 3;
        double scale = 1 / Math.sqrt(c / heads);
        Tensor[] a = leaves(dtype, 21, batch, frames, c);
        Tensor[] b = new Tensor[3];
        for (int i = 0; i < 3; i++) b[i] = a[i].copy().detach().requiresGrad(true);
        Tensor fused = ScaledDotProductAttention.apply(a[0], a[1], a[2], heads, scale, lengths, MASK, p, 77);
        Tensor ref = composed(b[0], b[1], b[2], heads, scale, lengths, p, 77);
        assertClose(ref, fused, tol, "output");
        Tensor r = Tensor.randn(new Rng(5), dtype, 1, batch, frames, c);
        fused.mul(r).sum().backward();
        ref.mul(r).sum().backward();
        String[] names = {"dq", "dk", "dv"};
        for (int i = 0; i < 3; i++) assertClose(b[i].grad(), a[i].grad(), tol, names[i]);
    }

    @Test
    void matchesCompositionFloat64WithPaddingAndDropout() {
        matchesComposition(DType.F64, 1e-12, new int[] {13, 5, 0}, 0.3);
    }

    @Test
    void matchesCompositionFloat32() {
        matchesComposition(DType.F32, 2e-5, new int[] {13, 5, 1}, 0.2);
        matchesComposition(DType.F32, 2e-5, null, 0);
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        Tensor[] in = leaves(DType.F64, 31, 2, 5, 6);
        int[] lengths = {5, 3};
        GradCheck.check("ScaledDotProductAttention", t -> ScaledDotProductAttention.apply(t[0], t[1], t[2], 2, 0.7, lengths,
                MASK, 0, 0), in);
        GradCheck.check("ScaledDotProductAttention with dropout", t -> ScaledDotProductAttention.apply(t[0], t[1], t[2], 3,
                0.5, null, MASK, 0.25, 9), leaves(DType.F64, 32, 2, 4, 6));
    }

    @Test
    void closedFormForOneKey() {
        // one valid key: every query's weights are one-hot on key 0, so the output is v[b, 0] in every frame
        Tensor[] in = leaves(DType.F64, 41, 1, 4, 4);
        Tensor o = ScaledDotProductAttention.apply(in[0], in[1], in[2], 2, 1, new int[] {1}, MASK, 0, 0);
        for (int t = 0; t < 4; t++) {
            for (int j = 0; j < 4; j++) assertEquals(in[2].get(0, 0, j), o.get(0, t, j), 1e-12);
        }
    }

    @Test
    void badInputsNameTheProblem() {
        Tensor q = Tensor.zeros(2, 3, 8);
        IllegalArgumentException heads = assertThrows(IllegalArgumentException.class,
                () -> ScaledDotProductAttention.apply(q, q, q, 3, 1, null, MASK, 0, 0));
        assertTrue(heads.getMessage().contains("heads (3) must divide channels (8)"), heads.getMessage());
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> ScaledDotProductAttention.apply(q, Tensor.zeros(2, 4, 8), q, 2, 1, null, MASK, 0, 0));
        assertTrue(shape.getMessage().contains("got [2, 4, 8]"), shape.getMessage());
        IllegalArgumentException len = assertThrows(IllegalArgumentException.class,
                () -> ScaledDotProductAttention.apply(q, q, q, 2, 1, new int[] {3, 4}, MASK, 0, 0));
        assertTrue(len.getMessage().contains("lengths[1] = 4"), len.getMessage());
        IllegalArgumentException p = assertThrows(IllegalArgumentException.class,
                () -> ScaledDotProductAttention.apply(q, q, q, 2, 1, null, MASK, 1, 0));
        assertTrue(p.getMessage().contains("p"), p.getMessage());
    }

    /**
     * On a device (the simulated one, whose kernels are the CPU's): the fused op runs there, equals
     * the CPU bit for bit, and equals the composition of separate ops on that device (same masks,
     * same dropout); the gradients stay on the device.
     */
    @Test
    void onADeviceTheFusedOpEqualsTheCpuAndTheCompositionThere() {
        int batch = 3, frames = 11, c = 8, heads = 2;
        double scale = 1 / Math.sqrt(c / heads), p = 0.2;
        int[] lengths = {11, 4, 0};
        try (SimBackend sim = SimBackend.install(0)) {
            Tensor[] a = leaves(DType.F32, 31, batch, frames, c);
            Tensor[] fusedIn = new Tensor[3], composedIn = new Tensor[3];
            for (int i = 0; i < 3; i++) {
                fusedIn[i] = sim.toDevice(a[i]).requiresGrad(true);
                composedIn[i] = sim.toDevice(a[i]).requiresGrad(true);
            }
            assertTrue(ScaledDotProductAttention.supported(fusedIn[0], c / heads));
            Tensor cpu = ScaledDotProductAttention.apply(a[0], a[1], a[2], heads, scale, lengths, MASK, p, 5);
            Tensor fused = ScaledDotProductAttention.apply(fusedIn[0], fusedIn[1], fusedIn[2], heads, scale, lengths, MASK, p, 5);
            Tensor comp = composed(composedIn[0], composedIn[1], composedIn[2], heads, scale, lengths, p, 5);
            assertEquals(Device.cuda(0), fused.device());
            assertArrayEquals(cpu.f32(), sim.toHost(fused).f32(), 0f);
            assertClose(sim.toHost(comp), sim.toHost(fused), 1e-5, "output vs composition on the device");
            Tensor r = Tensor.randn(new Rng(8), DType.F32, 1, batch, frames, c);
            cpu.mul(r).sum().backward();
            fused.mul(sim.toDevice(r)).sum().backward();
            comp.mul(sim.toDevice(r)).sum().backward();
            String[] names = {"dq", "dk", "dv"};
            for (int i = 0; i < 3; i++) {
                assertEquals(Device.cuda(0), fusedIn[i].grad().device(), names[i]);
                assertArrayEquals(a[i].grad().f32(), sim.toHost(fusedIn[i].grad()).f32(), 0f, names[i]);
                assertClose(sim.toHost(composedIn[i].grad()), sim.toHost(fusedIn[i].grad()), 1e-5, names[i] + " vs composition");
            }
        }
    }

    @Test
    void tensorsOnDifferentDevicesOrAnUnsupportedDtypeAreRefused() {
        try (SimBackend sim = SimBackend.install(0)) {
            Tensor q = Tensor.randn(new Rng(1), DType.F32, 1, 1, 3, 4);
            Tensor d = sim.toDevice(q);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ScaledDotProductAttention.apply(q, d, q, 2, 1, null, MASK, 0, 0));
            assertTrue(e.getMessage().contains("q, k and v must share device and dtype"), e.getMessage());
            assertTrue(e.getMessage().contains("F32 on cuda:0"), e.getMessage());
        }
        assertFalse(ScaledDotProductAttention.supported(Tensor.zeros(DType.F32, 1, 3, 4), 0));
    }
}
