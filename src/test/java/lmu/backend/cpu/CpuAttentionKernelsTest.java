package lmu.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import lmu.backend.AttentionKernels;
import lmu.backend.Backends;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;

class CpuAttentionKernelsTest {
    private static final int B = 3, T = 7, H = 2, D = 3, C = H * D;
    private static final int[] LENGTHS = {7, 0, 4};
    private static final double SCALE = 1 / Math.sqrt(D), MASK = -1e4;

    private static Tensor randn(DType dtype, long seed) {
        return Tensor.randn(new Rng(seed), dtype, 1, B, T, C);
    }

    @Test
    void theCpuBackendServesTheFamily() {
        assertSame(CpuAttentionKernels.INSTANCE, Backends.kernels(randn(DType.F32, 1), AttentionKernels.class));
        assertTrue(CpuAttentionKernels.INSTANCE.supports(DType.F32, 3));
        assertTrue(CpuAttentionKernels.INSTANCE.supports(DType.F64, 17));
        assertTrue(!CpuAttentionKernels.INSTANCE.supports(DType.F16, 32));
    }

    /** The family gives bit for bit what CpuAttention gives when backward is handed the mask forward drew. */
    @Test
    void sameValuesAsCpuAttentionWithForwardsMaskFloat32() {
        double p = 0.3;
        long seed = 0x1234_5678_9abcL;
        Tensor q = randn(DType.F32, 1), k = randn(DType.F32, 2), v = randn(DType.F32, 3), g = randn(DType.F32, 4);
        int n = B * T * C;
        float[] out = new float[n], probs = new float[B * H * T * T];
        long[] keep = new long[CpuAttention.keepWords(B * H, T)];
        CpuAttention.forward(out, probs, q.f32(), k.f32(), v.f32(), B, T, H, D, SCALE, LENGTHS, (float) MASK, p, seed, keep);
        float[] dq = new float[n], dk = new float[n], dv = new float[n];
        CpuAttention.backward(dq, dk, dv, g.f32(), probs, q.f32(), k.f32(), v.f32(), B, T, H, D, SCALE, LENGTHS, p, keep);

        AttentionKernels.Saved s = CpuAttentionKernels.INSTANCE.forward(q, k, v, H, SCALE, LENGTHS, MASK, p, seed);
        assertArrayEquals(out, s.out().f32(), 0f);
        assertArrayEquals(probs, s.state().f32(), 0f);
        Tensor[] grads = CpuAttentionKernels.INSTANCE.backward(g, q, k, v, s, H, SCALE, LENGTHS, MASK, p, seed, true, true, true);
        assertArrayEquals(dq, grads[0].f32(), 0f);
        assertArrayEquals(dk, grads[1].f32(), 0f);
        assertArrayEquals(dv, grads[2].f32(), 0f);
    }

    @Test
    void sameValuesAsCpuAttentionWithForwardsMaskFloat64() {
        double p = 0.5;
        long seed = -77;
        Tensor q = randn(DType.F64, 5), k = randn(DType.F64, 6), v = randn(DType.F64, 7), g = randn(DType.F64, 8);
        int n = B * T * C;
        double[] out = new double[n], probs = new double[B * H * T * T];
        long[] keep = new long[CpuAttention.keepWords(B * H, T)];
        CpuAttention.forward(out, probs, q.f64(), k.f64(), v.f64(), B, T, H, D, SCALE, null, MASK, p, seed, keep);
        double[] dq = new double[n], dv = new double[n];
        CpuAttention.backward(dq, null, dv, g.f64(), probs, q.f64(), k.f64(), v.f64(), B, T, H, D, SCALE, null, p, keep);

        AttentionKernels.Saved s = CpuAttentionKernels.INSTANCE.forward(q, k, v, H, SCALE, null, MASK, p, seed);
        assertArrayEquals(out, s.out().f64(), 0);
        Tensor[] grads = CpuAttentionKernels.INSTANCE.backward(g, q, k, v, s, H, SCALE, null, MASK, p, seed, true, false, true);
        assertArrayEquals(dq, grads[0].f64(), 0);
        assertNull(grads[1]);
        assertArrayEquals(dv, grads[2].f64(), 0);
    }

    /** The documented rule: weight i of the (B·H, T, T) tensor is kept iff Rng.uniform(seed, i) ≥ p. */
    @Test
    void drawKeepFollowsTheCounterRuleAndEqualsForwardsMask() {
        double p = 0.37;
        long seed = 99;
        int pairs = B * H, tt = T * T, wpp = (tt + 63) / 64;
        long[] bits = CpuAttention.drawKeep(pairs, T, p, seed);
        assertEquals(CpuAttention.keepWords(pairs, T), bits.length);
        int kept = 0;
        for (int bh = 0; bh < pairs; bh++) {
            for (int i = 0; i < tt; i++) {
                boolean k = (bits[bh * wpp + i / 64] & (1L << i)) != 0;
                assertEquals(Rng.uniform(seed, (long) bh * tt + i) >= p, k, "pair " + bh + " element " + i);
                if (k) kept++;
            }
        }
        assertTrue(kept > 0.5 * pairs * tt && kept < 0.75 * pairs * tt, "kept " + kept + " of " + pairs * tt);
        long[] fromForward = new long[bits.length];
        int n = B * T * C;
        Tensor q = randn(DType.F32, 1);
        CpuAttention.forward(new float[n], new float[pairs * tt], q.f32(), q.f32(), q.f32(), B, T, H, D, SCALE, null, -1e4f, p,
                seed, fromForward);
        assertArrayEquals(fromForward, bits);
    }

    /**
     * Forward keeps its mask beside P and backward uses it; a backward handed a P without an entry
     * (a copy) draws the same mask again, so the gradients are the same bit for bit either way.
     */
    @Test
    void backwardUsesForwardsMaskAndARedrawGivesTheSameGradients() {
        double p = 0.25;
        long seed = 4242;
        Tensor q = randn(DType.F32, 21), k = randn(DType.F32, 22), v = randn(DType.F32, 23), g = randn(DType.F32, 24);
        AttentionKernels.Saved s = CpuAttentionKernels.INSTANCE.forward(q, k, v, H, SCALE, LENGTHS, MASK, p, seed);
        assertTrue(CpuAttentionKernels.keepsMaskFor(s.state()));
        long[] drawn = CpuAttention.drawKeep(B * H, T, p, seed);
        assertArrayEquals(drawn, CpuAttentionKernels.keep(s.state(), B * H, T, p, seed), "forward's mask is the drawn one");
        assertArrayEquals(CpuAttention.drawKeep(B * H, T, p, seed + 1),
                CpuAttentionKernels.keep(s.state(), B * H, T, p, seed + 1), "another seed: drawn for that seed");
        Tensor[] kept = CpuAttentionKernels.INSTANCE.backward(g, q, k, v, s, H, SCALE, LENGTHS, MASK, p, seed, true, true, true);

        Tensor copy = Tensor.of(s.state().f32().clone(), s.state().shape());
        assertTrue(!CpuAttentionKernels.keepsMaskFor(copy));
        AttentionKernels.Saved other = new AttentionKernels.Saved(s.out(), copy);
        Tensor[] redrawn = CpuAttentionKernels.INSTANCE.backward(g, q, k, v, other, H, SCALE, LENGTHS, MASK, p, seed, true, true,
                true);
        for (int i = 0; i < 3; i++) assertArrayEquals(kept[i].f32(), redrawn[i].f32(), 0f, "gradient " + i);
        // and the mask matters: without dropout the gradients differ
        Tensor[] none = CpuAttentionKernels.INSTANCE.backward(g, q, k, v, s, H, SCALE, LENGTHS, MASK, 0, seed, false, false,
                true);
        assertTrue(!java.util.Arrays.equals(kept[2].f32(), none[2].f32()));
    }

    @Test
    void withoutDropoutNoMaskIsKept() {
        Tensor q = randn(DType.F64, 31);
        AttentionKernels.Saved s = CpuAttentionKernels.INSTANCE.forward(q, q, q, H, SCALE, null, MASK, 0, 5);
        assertTrue(!CpuAttentionKernels.keepsMaskFor(s.state()));
    }

    @Test
    void withoutDropoutTheSavedStateIsTheSoftmax() {
        Tensor q = randn(DType.F64, 11), k = randn(DType.F64, 12), v = randn(DType.F64, 13);
        AttentionKernels.Saved s = CpuAttentionKernels.INSTANCE.forward(q, k, v, H, SCALE, LENGTHS, MASK, 0, 0);
        assertArrayEquals(new int[] {B * H, T, T}, s.state().shape());
        double[] pr = s.state().f64();
        for (int bh = 0; bh < B * H; bh++) {
            int len = LENGTHS[bh / H];
            for (int t = 0; t < T; t++) {
                double sum = 0;
                for (int j = 0; j < T; j++) {
                    double w = pr[(bh * T + t) * T + j];
                    sum += w;
                    if (len > 0 && j >= len) assertEquals(0, w, 0, "masked key " + j);
                    if (len == 0) assertEquals(1.0 / T, w, 1e-15, "all keys masked: uniform");
                }
                assertEquals(1, sum, 1e-12);
            }
        }
        Tensor[] none = CpuAttentionKernels.INSTANCE.backward(randn(DType.F64, 14), q, k, v, s, H, SCALE, LENGTHS, MASK, 0, 0,
                false, false, false);
        assertArrayEquals(new Tensor[] {null, null, null}, none);
        assertNotNull(s.out());
    }

    @Test
    void mixedDtypesAreRefusedNamingThem() {
        Tensor q = randn(DType.F32, 1), k = randn(DType.F64, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CpuAttentionKernels.INSTANCE.forward(q, k, q, H, SCALE, null, MASK, 0, 0));
        assertTrue(e.getMessage().contains("CpuAttentionKernels.forward") && e.getMessage().contains("F32 and F64"), e.getMessage());
    }
}
