package lmu.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import lmu.amp.DynamicLossScaler;
import lmu.backend.cpu.CpuOptimizerKernels;
import lmu.backend.sim.SimBackend;
import lmu.optim.Adam;
import lmu.optim.GradClip;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The CPU reference of the optimizer kernels in closed form, and Adam, clipping and unscaling on a (simulated) device. */
class OptimizerKernelsTest {
    private static final OptimizerKernels CPU = CpuOptimizerKernels.INSTANCE;
    private SimBackend sim;

    @BeforeEach
    void install() {
        sim = SimBackend.install(0);
    }

    @AfterEach
    void uninstall() {
        sim.close();
    }

    @Test
    void cpuBackendServesTheReference() {
        assertTrue(Backends.kernels(Tensor.zeros(1), OptimizerKernels.class) == CPU);
    }

    @Test
    void unscaleMultipliesAndReportsNonFiniteValues() {
        Tensor a = Tensor.of(new float[] {4, -8, 0.5f}, 3), b = Tensor.of(new double[] {2, 6}, 2);
        assertTrue(CPU.unscaleAllFinite(new Tensor[] {a, b}, 0.25));
        assertArrayEquals(new float[] {1, -2, 0.125f}, a.f32());
        assertArrayEquals(new double[] {0.5, 1.5}, b.f64());
        Tensor c = Tensor.of(new float[] {1, Float.NaN}, 2);
        assertFalse(CPU.unscaleAllFinite(new Tensor[] {c}, 1));
        assertFalse(CPU.unscaleAllFinite(new Tensor[] {Tensor.of(new float[] {Float.POSITIVE_INFINITY}, 1)}, 0.5));
    }

    @Test
    void adamUpdateChecksSizesAndStep() {
        Tensor p = Tensor.zeros(3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CPU.adamUpdate(p, Tensor.zeros(3), Tensor.zeros(2), Tensor.zeros(3), 0.1, 0.9, 0.999, 1e-8, 0, true, 1));
        assertTrue(e.getMessage().contains("OptimizerKernels.adamUpdate: grad, m and v must have 3 elements like param, got 3, 2, 3"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> CPU.adamUpdate(p, Tensor.zeros(3), Tensor.zeros(3), Tensor.zeros(3), 0.1, 0.9, 0.999, 1e-8, 0, true, 0));
        assertTrue(e.getMessage().contains("step must be >= 1, got 0"), e.getMessage());
    }

    @Test
    void theSimulatedDeviceServesAProxyThatKeepsTensorsOnTheDevice() {
        OptimizerKernels k = Backends.kernels(sim.empty(DType.F32, 1), OptimizerKernels.class);
        assertTrue(java.lang.reflect.Proxy.isProxyClass(k.getClass()));
        Tensor g = sim.toDevice(Tensor.of(new float[] {3, 4}, 2));
        assertEquals(5.0, k.globalNorm(new Tensor[] {g}), 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> k.globalNorm(new Tensor[] {Tensor.of(new float[] {1}, 1)}));
        assertTrue(e.getMessage().contains("must be an f32 tensor on cuda:0"), e.getMessage());
    }

    /** Parameters with gradients, the same values on the host and on the device. */
    private record Pair(Map<String, Tensor> host, Map<String, Tensor> device) {}

    private Pair params(long seed, double gradScale) {
        Rng rng = new Rng(seed);
        Map<String, Tensor> h = new LinkedHashMap<>(), d = new LinkedHashMap<>();
        int[][] shapes = {{3, 5}, {7}, {2, 2, 3}};
        for (int i = 0; i < shapes.length; i++) {
            Tensor p = Tensor.randn(rng, DType.F32, 1, shapes[i]).requiresGrad(true);
            Tensor g = Tensor.randn(rng, DType.F32, gradScale, shapes[i]);
            Tensor dp = sim.toDevice(p).requiresGrad(true);
            p.setGrad(g);
            dp.setGrad(sim.toDevice(g));
            h.put("p" + i, p);
            d.put("p" + i, dp);
        }
        return new Pair(h, d);
    }

    private void assertSameValues(Map<String, Tensor> host, Map<String, Tensor> device, boolean grads) {
        for (String k : host.keySet()) {
            Tensor h = grads ? host.get(k).grad() : host.get(k), d = grads ? device.get(k).grad() : device.get(k);
            assertEquals(Device.cuda(0), d.device(), k);
            assertArrayEquals(h.f32(), sim.toHost(d).f32(), 0f, k);
        }
    }

    @Test
    void adamOnTheDeviceEqualsTheCpuAndItsStateCopiesToTheHost() {
        Pair ps = params(3, 1);
        Adam a = Adam.adamW(ps.host(), 0.9, 0.98, 1e-9, 0.01), b = Adam.adamW(ps.device(), 0.9, 0.98, 1e-9, 0.01);
        for (int step = 0; step < 3; step++) {
            a.step(1e-2);
            b.step(1e-2);
        }
        assertSameValues(ps.host(), ps.device(), false);
        Map<String, float[]> sa = a.state(), sb = b.state();
        assertEquals(sa.keySet(), sb.keySet());
        for (String k : sa.keySet()) assertArrayEquals(sa.get(k), sb.get(k), 0f, k);
        // the state of a device optimizer is a copy; loading it into a fresh device optimizer restores it
        sb.get("p0.exp_avg")[0] += 1;
        assertArrayEquals(sa.get("p0.exp_avg"), b.state().get("p0.exp_avg"), 0f);
        Adam c = Adam.adam(ps.device(), 0.9, 0.98, 1e-9, 0.01);
        c.load(sa, a.steps());
        for (String k : sa.keySet()) assertArrayEquals(sa.get(k), c.state().get(k), 0f, k);
        assertEquals(3, c.steps());
    }

    @Test
    void adamRefusesParametersMovedAfterItWasMade() {
        Tensor p = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
        Adam opt = Adam.adamW(Map.of("p", p), 0.9, 0.999, 1e-8, 0);
        p.moveTo(Device.cuda(0));
        p.setGrad(sim.toDevice(Tensor.of(new float[] {1, 1}, 2)));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> opt.step(0.1));
        assertTrue(e.getMessage().contains("Adam: parameter p is on cuda:0, its moments on cpu"), e.getMessage());
    }

    @Test
    void clippingOnTheDeviceEqualsTheCpu() {
        for (double maxNorm : new double[] {0.5, 1e6, 0}) {
            Pair ps = params(11, 1);
            List<Tensor> h = new ArrayList<>(ps.host().values()), d = new ArrayList<>(ps.device().values());
            double nh = GradClip.clipGlobalNorm(h, maxNorm), nd = GradClip.clipGlobalNorm(d, maxNorm);
            assertEquals(nh, nd, 0);
            assertEquals(GradClip.globalNorm(h), GradClip.globalNorm(d), 0);
            assertSameValues(ps.host(), ps.device(), true);
        }
    }

    @Test
    void unscalingOnTheDeviceEqualsTheCpuAndFindsOverflow() {
        Pair ps = params(5, 1024);
        DynamicLossScaler a = DynamicLossScaler.dynamic(new DynamicLossScaler.Settings(1024, 10, 1, 65536));
        DynamicLossScaler b = DynamicLossScaler.dynamic(new DynamicLossScaler.Settings(1024, 10, 1, 65536));
        assertTrue(a.unscale(ps.host().values()));
        assertTrue(b.unscale(ps.device().values()));
        assertSameValues(ps.host(), ps.device(), true);
        Tensor bad = ps.device().get("p1").grad();
        bad.set(Float.POSITIVE_INFINITY, 3);
        assertFalse(b.unscale(ps.device().values()));
    }

    @Test
    void gradientsOnDifferentDevicesAreRefused() {
        Tensor a = Tensor.zeros(1).requiresGrad(true), b = sim.empty(DType.F32, 1).requiresGrad(true);
        a.setGrad(Tensor.zeros(1));
        b.setGrad(sim.empty(DType.F32, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GradClip.globalNorm(List.of(a, b)));
        assertTrue(e.getMessage().contains("GradClip: gradients must share one device, got cpu and cuda:0"), e.getMessage());
    }
}
