package lmu.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Function;
import lmu.autograd.GradCheck;
import lmu.backend.FusedKernels.Activation;
import lmu.backend.sim.SimBackend;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;

/**
 * {@link BiasActivation} and {@link ResidualLayerNorm} against the compositions they replace
 * (forward values and every gradient, float32, awkward sizes), float64 finite differences, and the
 * same on the simulated device.
 */
class FusedOpsTest {
    /** (rows…, C) shapes: one element, odd sizes, a 3-D batch, wider than one warp's worth of columns, no rows. */
    private static final int[][] SHAPES = {{1, 1}, {13, 7}, {3, 5, 207}, {2, 1030}, {0, 5}};

    private static Tensor leaf(Rng rng, DType dtype, double scale, int... shape) {
        return Tensor.randn(rng, dtype, scale, shape).requiresGrad(true);
    }

    private static Tensor composed(Tensor x, Tensor b, Activation act) {
        Tensor z = b == null ? x : x.add(b);
        return switch (act) {
            case IDENTITY -> z;
            case RELU -> z.relu();
            case GELU -> z.gelu();
            case TANH -> z.tanh();
        };
    }

    private static void close(String what, Tensor expected, Tensor actual, double tol) {
        assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
        double[] e = expected.toDoubleArray(), a = actual.toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            double err = Math.abs(e[i] - a[i]);
            if (!(err <= tol * (1 + Math.abs(e[i])))) {
                throw new AssertionError(what + "[" + i + "]: expected " + e[i] + ", got " + a[i]);
            }
        }
    }

    @Test
    void biasActivationEqualsAddThenActivationForwardAndBackward() {
        Rng rng = new Rng(3);
        for (int[] shape : SHAPES) {
            int c = shape[shape.length - 1];
            for (Activation act : Activation.values()) {
                for (boolean withBias : new boolean[] {true, false}) {
                    String what = act + " " + java.util.Arrays.toString(shape) + (withBias ? " bias" : "");
                    Tensor x = leaf(rng, DType.F32, 1.5, shape), b = withBias ? leaf(rng, DType.F32, 0.5, c) : null;
                    Tensor dy = Tensor.randn(rng, DType.F32, 1, shape);
                    Tensor ref = composed(x, b, act);
                    ref.backward(dy);
                    Tensor rx = x.grad(), rb = b == null ? null : b.grad();
                    x.zeroGrad();
                    if (b != null) b.zeroGrad();
                    Tensor y = BiasActivation.apply(x, b, act);
                    assertArrayEquals(ref.f32(), y.f32(), what + " y (bit for bit)");
                    y.backward(dy);
                    if (rx != null) assertArrayEquals(rx.toFloatArray(), x.grad().toFloatArray(), what + " dx (bit for bit)");
                    if (b != null) close(what + " db", rb, b.grad(), 1e-6);
                }
            }
        }
    }

    @Test
    void biasActivationGradientsMatchFiniteDifferencesInFloat64() {
        Rng rng = new Rng(4);
        for (Activation act : Activation.values()) {
            Tensor x = GradCheck.leaf(rng, 3, 4, 7), b = GradCheck.leaf(rng, 7);
            GradCheck.check("BiasActivation " + act, in -> BiasActivation.apply(in[0], in[1], act), x, b);
            GradCheck.check("BiasActivation " + act + " no bias", in -> BiasActivation.apply(in[0], null, act), x);
        }
    }

    /** L = Σ s·u + Σ y·v over the shapes: both outputs feed the loss (pre-LN), or one of them only. */
    private static Tensor[] residualNormGrads(Function<Tensor[], Tensor[]> op, Tensor[] in, Tensor u, Tensor v) {
        for (Tensor t : in) t.zeroGrad();
        Tensor[] sy = op.apply(in);
        Tensor loss = u == null ? sy[1].mul(v).sum() : v == null ? sy[0].mul(u).sum() : sy[0].mul(u).sum().add(sy[1].mul(v).sum());
        loss.backward();
        Tensor[] out = new Tensor[2 + in.length];
        out[0] = sy[0];
        out[1] = sy[1];
        for (int i = 0; i < in.length; i++) out[2 + i] = in[i].grad();
        return out;
    }

    private static Tensor[] composedResidualNorm(Tensor[] in) {
        Tensor s = in[0].add(in[1]);
        return new Tensor[] {s, LayerNorm.apply(s, in[2], in[3], 1e-5)};
    }

    @Test
    void residualLayerNormEqualsAddThenLayerNormForwardAndBackward() {
        Rng rng = new Rng(6);
        for (int[] shape : SHAPES) {
            int c = shape[shape.length - 1];
            Tensor[] in = {leaf(rng, DType.F32, 1, shape), leaf(rng, DType.F32, 1, shape), leaf(rng, DType.F32, 0.3, c),
                leaf(rng, DType.F32, 0.3, c)};
            in[2] = in[2].detach().add(1).detach().requiresGrad(true);
            Tensor u = Tensor.randn(rng, DType.F32, 1, shape), v = Tensor.randn(rng, DType.F32, 1, shape);
            for (int which = 0; which < 3; which++) { // both outputs, y only, s only
                Tensor uu = which == 1 ? null : u, vv = which == 2 ? null : v;
                String what = java.util.Arrays.toString(shape) + " outputs " + (which == 0 ? "s, y" : which == 1 ? "y" : "s");
                Tensor[] ref = residualNormGrads(FusedOpsTest::composedResidualNorm, in, uu, vv);
                Tensor[] got = residualNormGrads(t -> ResidualLayerNorm.apply(t[0], t[1], t[2], t[3], 1e-5), in, uu, vv);
                assertArrayEquals(ref[0].f32(), got[0].f32(), what + " s (bit for bit)");
                assertArrayEquals(ref[1].f32(), got[1].f32(), what + " y (bit for bit)");
                String[] names = {"dx", "dr", "dw", "db"};
                for (int i = 0; i < 4; i++) {
                    if (ref[2 + i] == null) {
                        assertTrue(got[2 + i] == null || isZero(got[2 + i]), what + " " + names[i] + " should be absent or zero");
                    } else if (i < 2 && shape[0] > 0) {
                        assertArrayEquals(ref[2 + i].f32(), got[2 + i].f32(), what + " " + names[i] + " (bit for bit)");
                    } else {
                        close(what + " " + names[i], ref[2 + i], got[2 + i], 1e-5);
                    }
                }
            }
        }
    }

    private static boolean isZero(Tensor t) {
        for (double v : t.toDoubleArray()) if (v != 0) return false;
        return true;
    }

    @Test
    void residualLayerNormGradientsMatchFiniteDifferencesInFloat64() {
        Rng rng = new Rng(8);
        Tensor x = GradCheck.leaf(rng, 2, 3, 9), r = GradCheck.leaf(rng, 2, 3, 9);
        Tensor w = GradCheck.leaf(rng, 9), b = GradCheck.leaf(rng, 9);
        Tensor mix = Tensor.randn(rng, DType.F64, 1, 2, 3, 9);
        GradCheck.check("ResidualLayerNorm s and y", in -> {
            Tensor[] sy = ResidualLayerNorm.apply(in[0], in[1], in[2], in[3], 1e-5);
            return sy[0].mul(mix).add(sy[1]);
        }, x, r, w, b);
        GradCheck.check("ResidualLayerNorm y", in -> ResidualLayerNorm.apply(in[0], in[1], in[2], in[3], 1e-5)[1], x, r, w, b);
        GradCheck.check("ResidualLayerNorm no affine", in -> ResidualLayerNorm.apply(in[0], in[1], null, null, 1e-5)[1], x, r);
    }

    @Test
    void onlyTheResidualStreamReceivingAGradientPassesItThrough() {
        Rng rng = new Rng(9);
        Tensor x = leaf(rng, DType.F32, 1, 4, 6), r = leaf(rng, DType.F32, 1, 4, 6);
        Tensor w = leaf(rng, DType.F32, 1, 6), b = leaf(rng, DType.F32, 1, 6);
        Tensor ds = Tensor.randn(rng, DType.F32, 1, 4, 6);
        ResidualLayerNorm.apply(x, r, w, b, 1e-5)[0].backward(ds);
        assertArrayEquals(ds.f32(), x.grad().f32());
        assertArrayEquals(ds.f32(), r.grad().f32());
        assertNull(w.grad(), "y received no gradient, so neither does its weight");
    }

    @Test
    void theKernelsNeverReturnAnArgument() { // a recorded device graph hands out fresh memory for every result
        Rng rng = new Rng(12);
        lmu.backend.FusedKernels k = lmu.backend.cpu.CpuFusedKernels.INSTANCE;
        Tensor x = Tensor.randn(rng, DType.F32, 1, 3, 4), b = Tensor.randn(rng, DType.F32, 1, 4), dy = Tensor.randn(rng, DType.F32, 1, 3, 4);
        Tensor[] g = k.biasActivationBackward(Activation.IDENTITY, dy, x, b, null, true, true);
        assertNull(g[0], "IDENTITY: dx is dy, which the caller uses");
        close("column sums", dy.sum(0, false), g[1], 1e-6);
        Tensor[] n = k.residualLayerNorm(x, dy, null, null, 1e-5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> k.residualLayerNormBackward(null, dy, n[0], n[2], n[3], null, true, true));
        assertTrue(e.getMessage().startsWith("FusedKernels.residualLayerNormBackward: dy must be a tensor"), e.getMessage());
    }

    @Test
    void badShapesAreRefusedWithTheOpAndArgumentNamed() {
        Tensor x = Tensor.zeros(DType.F32, 3, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BiasActivation.apply(x, Tensor.zeros(DType.F32, 5), Activation.RELU));
        assertEquals("BiasActivation: bias must have shape (4), got [5]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ResidualLayerNorm.apply(x, Tensor.zeros(DType.F32, 4, 3), null, null, 1e-5));
        assertEquals("ResidualLayerNorm: x and r must have one shape (…, C), got [3, 4] and [4, 3]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ResidualLayerNorm.apply(x, x, Tensor.zeros(DType.F32, 3), null, 1e-5));
        assertEquals("ResidualLayerNorm: weight must have shape (4), got [3]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ResidualLayerNorm.apply(x, x, null, null, 0));
        assertEquals("ResidualLayerNorm: eps must be > 0, got 0.0", e.getMessage());
    }

    @Test
    void onTheSimulatedDeviceBothOpsEqualTheCpuAndKeepEverythingOnTheDevice() {
        Rng rng = new Rng(10);
        int[] shape = {3, 5, 33};
        Tensor x = leaf(rng, DType.F32, 1, shape), r = leaf(rng, DType.F32, 1, shape);
        Tensor w = leaf(rng, DType.F32, 1, 33), b = leaf(rng, DType.F32, 1, 33);
        Tensor u = Tensor.randn(rng, DType.F32, 1, shape), v = Tensor.randn(rng, DType.F32, 1, shape);
        try (SimBackend sim = SimBackend.install(0)) {
            Tensor[] dev = new Tensor[4];
            Tensor[] host = {x, r, w, b};
            for (int i = 0; i < 4; i++) dev[i] = sim.toDevice(host[i]).requiresGrad(true);
            Tensor du = sim.toDevice(u), dv = sim.toDevice(v);
            for (Activation act : Activation.values()) {
                for (Tensor t : host) t.zeroGrad();
                for (Tensor t : dev) t.zeroGrad();
                Tensor hy = BiasActivation.apply(x, b, act), dy = BiasActivation.apply(dev[0], dev[3], act);
                assertEquals(Device.cuda(0), dy.device());
                hy.mul(u).sum().backward();
                dy.mul(du).sum().backward();
                assertArrayEquals(hy.f32(), sim.toHost(dy).f32(), act + " y");
                assertArrayEquals(x.grad().f32(), sim.toHost(dev[0].grad()).f32(), act + " dx");
                assertArrayEquals(b.grad().f32(), sim.toHost(dev[3].grad()).f32(), act + " db");
            }
            Function<Tensor[], Tensor[]> op = t -> ResidualLayerNorm.apply(t[0], t[1], t[2], t[3], 1e-5);
            Tensor[] ref = residualNormGrads(op, host, u, v), got = residualNormGrads(op, dev, du, dv);
            for (int i = 0; i < ref.length; i++) {
                assertEquals(Device.cuda(0), got[i].device(), "output " + i + " stays on the device");
                assertArrayEquals(ref[i].f32(), sim.toHost(got[i]).f32(), "output/gradient " + i);
            }
        }
    }
}
