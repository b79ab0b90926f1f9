package lmu.optim;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.Map;
import lmu.autograd.GradMode;
import lmu.tensor.Tensor;
import org.junit.jupiter.api.Test;

class OptimTest {

    @Test
    void adamFirstStepMovesEachWeightByLr() {
        // after one step m̂ = g and v̂ = g², so the update is lr·g/(|g|+eps) = lr·sign(g)
        Tensor p = Tensor.of(new float[] {1, -2, 3}, 3).requiresGrad(true);
        p.setGrad(Tensor.of(new float[] {0.5f, -4, 1e-3f}, 3));
        Adam.adam(Map.of("p", p), 0.9, 0.999, 1e-12, 0).step(0.1);
        assertArrayEquals(new float[] {0.9f, -1.9f, 2.9f}, p.toFloatArray(), 1e-5f);
    }

    @Test
    void adamMatchesHandComputedSecondStep() {
        Tensor p = Tensor.of(new double[] {1.0}, 1).requiresGrad(true);
        Adam opt = Adam.adam(Map.of("p", p), 0.9, 0.999, 1e-8, 0);
        p.setGrad(Tensor.of(new double[] {1.0}, 1));
        opt.step(0.01);
        p.setGrad(Tensor.of(new double[] {3.0}, 1));
        opt.step(0.01);
        double m = 0.9 * 0.1 + 0.1 * 3, v = 0.999 * 0.001 + 0.001 * 9;
        double expected = 1.0 - 0.01 - 0.01 * (m / (1 - 0.81)) / (Math.sqrt(v / (1 - 0.999 * 0.999)) + 1e-8);
        assertEquals(expected, p.item(), 1e-6);
    }

    @Test
    void adamWDecaysWeightsIndependentlyOfGradient() {
        Tensor p = Tensor.of(new double[] {2.0}, 1).requiresGrad(true);
        p.setGrad(Tensor.of(new double[] {0.0}, 1));
        Adam.adamW(Map.of("p", p), 0.9, 0.999, 1e-8, 0.1).step(0.5);
        assertEquals(2.0 - 0.5 * 0.1 * 2.0, p.item(), 1e-9);
        Tensor q = Tensor.of(new double[] {2.0}, 1).requiresGrad(true);
        q.setGrad(Tensor.of(new double[] {0.0}, 1));
        Adam.adam(Map.of("q", q), 0.9, 0.999, 1e-8, 0.1).step(0.5); // L2: grad 0.2 -> moves by lr·sign
        assertEquals(1.5, q.item(), 1e-6);
    }

    @Test
    void adamMinimisesAQuadratic() {
        Tensor p = Tensor.of(new float[] {5, -3}, 2).requiresGrad(true);
        Adam opt = Adam.adamW(Map.of("p", p), 0.9, 0.999, 1e-8, 0);
        for (int i = 0; i < 500; i++) {
            opt.zeroGrad();
            p.sub(Tensor.of(new float[] {1, 2}, 2)).mul(p.sub(Tensor.of(new float[] {1, 2}, 2))).sum().backward();
            try (GradMode g = GradMode.off()) {
                opt.step(0.05);
            }
        }
        assertArrayEquals(new float[] {1, 2}, p.toFloatArray(), 1e-2f);
    }

    @Test
    void stateRoundTripsAndChecksSizes() {
        Tensor p = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
        Adam a = Adam.adam(Map.of("p", p), 0.9, 0.999, 1e-8, 0);
        p.setGrad(Tensor.of(new float[] {1, 1}, 2));
        a.step(0.1);
        Adam b = Adam.adam(Map.of("p", p), 0.9, 0.999, 1e-8, 0);
        b.load(a.state(), a.steps());
        assertArrayEquals(a.state().get("p.exp_avg"), b.state().get("p.exp_avg"));
        assertEquals(1, b.steps());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> b.load(Map.of("p.exp_avg", new float[3], "p.exp_avg_sq", new float[2]), 1));
        assertTrue(e.getMessage().contains("p.exp_avg has 3 values"), e.getMessage());
    }

    @Test
    void clipScalesToMaxNorm() {
        Tensor a = Tensor.zeros(2).requiresGrad(true), b = Tensor.zeros(1).requiresGrad(true);
        a.setGrad(Tensor.of(new float[] {3, 0}, 2));
        b.setGrad(Tensor.of(new float[] {4}, 1));
        double norm = GradClip.clipGlobalNorm(List.of(a, b), 1.0);
        assertEquals(5.0, norm, 1e-9);
        assertEquals(1.0, GradClip.globalNorm(List.of(a, b)), 1e-5);
        assertArrayEquals(new float[] {0.6f, 0}, a.grad().toFloatArray(), 1e-5f);
        b.setGrad(Tensor.of(new float[] {Float.NaN}, 1));
        assertTrue(Double.isNaN(GradClip.clipGlobalNorm(List.of(a, b), 1.0)));
    }

    @Test
    void schedules() {
        LrSchedule c = LrSchedule.warmupConstant(1e-3, 10);
        assertEquals(1e-4, c.lr(0), 1e-12);
        assertEquals(1e-3, c.lr(9), 1e-12);
        assertEquals(1e-3, c.lr(1000), 1e-12);
        LrSchedule cos = LrSchedule.warmupCosine(1.0, 0, 100, 0.1);
        assertEquals(1.0, cos.lr(0), 1e-12);
        assertEquals(0.55, cos.lr(50), 1e-12);
        assertEquals(0.1, cos.lr(100), 1e-12);
        assertEquals(0.1, cos.lr(500), 1e-12);
        LrSchedule st = LrSchedule.warmupStaircase(1e-3, 1000, 0.96, 10_000);
        assertEquals(1e-3, st.lr(1000), 1e-15);
        assertEquals(1e-3, st.lr(10_999), 1e-15);
        assertEquals(0.96e-3, st.lr(11_000), 1e-15);
        assertEquals(1e-3 * 0.96 * 0.96, st.lr(21_000), 1e-15);
    }
}
