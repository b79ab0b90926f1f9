package lmu.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import lmu.backend.OptimizerKernels;
import lmu.backend.SeedTable;
import lmu.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The optimizer kernels that read their per-step values from a device-side step state (the form a
 * captured step needs) against the forms that take them as host scalars, and the seed table layout.
 */
class StepStateKernelsTest {
    private static final CpuOptimizerKernels K = CpuOptimizerKernels.INSTANCE;

    private static float[] state(double lr, double bc1, double bc2, double invScale) {
        float[] s = new float[OptimizerKernels.STEP_STATE_SIZE];
        s[OptimizerKernels.LR] = (float) lr;
        s[OptimizerKernels.BIAS_CORRECTION1] = (float) bc1;
        s[OptimizerKernels.BIAS_CORRECTION2] = (float) bc2;
        s[OptimizerKernels.INV_LOSS_SCALE] = (float) invScale;
        s[OptimizerKernels.FOUND_INF] = 1; // stale from an earlier step: unscaling clears it
        return s;
    }

    @Test
    void unscaleClipAndAdamFromTheStateEqualTheHostScalarForms() {
        float[] g1 = {3 * 512, 4 * 512}, g2 = g1.clone(); // scaled by 512; norm 5 after unscaling
        Tensor st = Tensor.of(state(0.125, 1 - 0.5, 1 - 0.75, 1.0 / 512), OptimizerKernels.STEP_STATE_SIZE);
        K.unscaleToState(new Tensor[] {Tensor.of(g1, 2)}, st);
        assertEquals(0, st.f32()[OptimizerKernels.FOUND_INF]);
        assertArrayEquals(new float[] {3, 4}, g1);
        K.clipToState(new Tensor[] {Tensor.of(g1, 2)}, st, 1.0);
        assertEquals(25, st.f32()[OptimizerKernels.SUM_SQUARES]);
        assertEquals(3 / (5 + 1e-6), g1[0], 1e-7); // scaled by maxNorm / (norm + 1e-6)

        assertTrue(K.unscaleAllFinite(new Tensor[] {Tensor.of(g2, 2)}, 1.0 / 512));
        assertEquals(5, K.clipGlobalNorm(new Tensor[] {Tensor.of(g2, 2)}, 1.0), 0);
        assertArrayEquals(g2, g1);

        float[] p1 = {1, -2}, m1 = {0.1f, 0}, v1 = {0.01f, 0};
        float[] p2 = p1.clone(), m2 = m1.clone(), v2 = v1.clone();
        K.adamUpdate(Tensor.of(p1, 2), Tensor.of(g1, 2), Tensor.of(m1, 2), Tensor.of(v1, 2), st, 0.5, 0.75, 1e-8, 0.1, true);
        // step 1 with beta1 0.5, beta2 0.75: bias corrections 0.5 and 0.25, as in the state above
        K.adamUpdate(Tensor.of(p2, 2), Tensor.of(g2, 2), Tensor.of(m2, 2), Tensor.of(v2, 2), 0.125, 0.5, 0.75, 1e-8, 0.1, true, 1);
        assertArrayEquals(m2, m1);
        assertArrayEquals(v2, v1);
        assertArrayEquals(p2, p1, 1e-7f);
        // closed form of element 1: m = 0.5 g, v = 0.25 g^2, so mhat/sqrt(vhat) = sign(g) = 1
        assertEquals(-2 - 0.125 * (1 + 0.1 * -2), p1[1], 1e-6);
    }

    @Test
    void aNonFiniteGradientSetsTheFlagAndTheUpdateIsSkipped() {
        Tensor st = Tensor.of(state(0.1, 0.1, 0.1, 0.5), OptimizerKernels.STEP_STATE_SIZE);
        float[] g = {1, Float.POSITIVE_INFINITY, 2};
        K.unscaleToState(new Tensor[] {Tensor.of(g, 3)}, st);
        assertEquals(1, st.f32()[OptimizerKernels.FOUND_INF]);
        assertEquals(1f, g[2], "every gradient is unscaled, the flag set once");
        float[] p = {1, 2, 3}, m = new float[3], v = new float[3];
        K.adamUpdate(Tensor.of(p, 3), Tensor.of(g, 3), Tensor.of(m, 3), Tensor.of(v, 3), st, 0.9, 0.99, 1e-8, 0, true);
        assertArrayEquals(new float[] {1, 2, 3}, p);
        assertArrayEquals(new float[3], m);

        Tensor clean = Tensor.of(state(0.1, 0.1, 0.1, 1), OptimizerKernels.STEP_STATE_SIZE);
        K.unscaleToState(new Tensor[] {Tensor.of(new float[] {1, 1, 1}, 3)}, clean);
        K.clipToState(new Tensor[] {Tensor.of(new float[] {Float.NaN, 0, 0}, 3)}, clean, 0);
        K.adamUpdate(Tensor.of(p, 3), Tensor.of(g, 3), Tensor.of(m, 3), Tensor.of(v, 3), clean, 0.9, 0.99, 1e-8, 0, true);
        assertArrayEquals(new float[] {1, 2, 3}, p, "a non-finite norm skips the step as well");
    }

    @Test
    void aStateOfTheWrongSizeIsRefusedWithItsShape() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> K.unscaleToState(new Tensor[0], Tensor.of(new float[3], 3)));
        assertTrue(e.getMessage().contains("state must be an f32 tensor of 8 elements, got F32 [3]"), e.getMessage());
    }

    @Test
    void theSeedTableHoldsEvery64BitSeedExactly() {
        float[] t = new float[SeedTable.FLOATS_PER_SEED * 3];
        long[] seeds = {Long.MIN_VALUE, -1L, 0x9E3779B97F4A7C15L};
        for (int i = 0; i < 3; i++) SeedTable.encode(seeds[i], t, i);
        for (int i = 0; i < 3; i++) assertEquals(seeds[i], SeedTable.decode(t, i));
        for (float f : t) assertTrue(f >= 0 && f <= 0xFFFF && f == Math.rint(f), "chunks are exact 16-bit values");
        assertEquals(seeds[1], SeedTable.read(Tensor.of(t, t.length), 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SeedTable.decode(t, 3));
        assertTrue(e.getMessage().contains("slot must be in [0, 3), got 3"), e.getMessage());
    }
}
