package lmu.nn.lmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import lmu.nn.lmu.LegendreConvolution.Method;
import lmu.nn.lmu.LmuLayer.Mode;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;

class LmuLayerTest {

    @Test
    void autoPicksParallelExactlyWhenNothingFeedsBack() {
        LmuConfig plain = LmuConfig.of(3, 4, 1, 5, 10).withHidden(true, false, Activation.TANH);
        assertEquals(Mode.PARALLEL, new LmuLayer(plain, Mode.AUTO, new Rng(1), DType.F64).effectiveMode());
        assertEquals(Mode.RECURRENT, new LmuLayer(plain, Mode.RECURRENT, new Rng(1), DType.F64).effectiveMode());
        for (LmuConfig fb : new LmuConfig[] {plain.withFeedback(true, false), plain.withFeedback(false, true),
                plain.withHidden(true, true, Activation.TANH)}) {
            assertEquals(Mode.RECURRENT, new LmuLayer(fb, Mode.AUTO, new Rng(1), DType.F64).effectiveMode());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new LmuLayer(fb, Mode.PARALLEL, new Rng(1), DType.F64));
            assertTrue(e.getMessage().contains("mode PARALLEL"), e.getMessage());
        }
    }

    @Test
    void parametersAreNamedAndShaped() {
        LmuConfig c = LmuConfig.of(3, 4, 2, 5, 10).withFeedback(true, true).withHidden(true, true, Activation.TANH)
                .withBiases(true, true);
        Map<String, Tensor> p = new LmuLayer(c, Mode.AUTO, new Rng(1), DType.F32).namedParameters();
        assertEquals(java.util.List.of("ex", "eh", "em", "bu", "wx", "wh", "wm", "bh"), new java.util.ArrayList<>(p.keySet()));
        assertEquals("[10, 4]", java.util.Arrays.toString(p.get("wm").shape()));
        assertEquals("[10, 2]", java.util.Arrays.toString(p.get("em").shape()));
        assertEquals(DType.F32, p.get("wx").dtype());
    }

    /** Both modes through autograd equal the array-level cell (itself checked by finite differences). */
    @Test
    void modesAgreeThroughAutogradAndMatchTheArrayCell() {
        LmuConfig c = LmuConfig.of(3, 5, 2, 8, 12).withHidden(true, false, Activation.TANH).withBiases(true, true);
        int batch = 3, frames = 40;
        int[] lengths = {40, 7, 1};
        double[] xd = FftTest.random(batch * frames * 3, 1);
        double[] w = FftTest.random(batch * frames * 5, 2);
        LmuLayer rec = new LmuLayer(c, Mode.RECURRENT, new Rng(9), DType.F64);
        LmuLayer par = new LmuLayer(c, Mode.PARALLEL, new Rng(9), DType.F64);
        par.setConvolutionMethod(Method.FFT);
        double[] dxRef = null;
        Map<String, double[]> gRef = null;
        for (LmuLayer layer : new LmuLayer[] {rec, par}) {
            Tensor x = Tensor.of(xd.clone(), batch, frames, 3).requiresGrad(true);
            Tensor h = layer.forward(x, lengths);
            h.mul(Tensor.of(w, batch, frames, 5)).sum().backward();
            if (dxRef == null) {
                // array-level reference with the layer's own parameters
                Map<String, double[]> arrays = new java.util.LinkedHashMap<>();
                layer.namedParameters().forEach((k, v) -> arrays.put(k, v.toDoubleArray()));
                LmuParameters p = LmuParameters.wrap(c, arrays);
                LegendreStateSpace ss = layer.stateSpace();
                LmuRecurrent.Saved s = LmuRecurrent.forward(p, ss, xd, batch, frames, lengths);
                LegendreConvolutionTest.assertClose(s.h(), h.toDoubleArray(), 1e-12, "h");
                LmuParameters g = p.zerosLike();
                dxRef = LmuRecurrent.backward(p, ss, xd, batch, frames, lengths, s, w, g);
                gRef = g.arrays();
            }
            LegendreConvolutionTest.assertClose(dxRef, x.grad().toDoubleArray(), 1e-9, layer.effectiveMode() + " dx");
            for (Map.Entry<String, Tensor> e : layer.namedParameters().entrySet()) {
                LegendreConvolutionTest.assertClose(gRef.get(e.getKey()), e.getValue().grad().toDoubleArray(), 1e-9,
                        layer.effectiveMode() + " d" + e.getKey());
            }
        }
    }

    @Test
    void float32LayerTracksFloat64AndSkipsUnneededInputGradient() {
        LmuConfig c = LmuConfig.of(4, 6, 1, 16, 50);
        int batch = 2, frames = 30;
        int[] lengths = {30, 12};
        double[] xd = FftTest.random(batch * frames * 4, 3);
        float[] xf = new float[xd.length];
        for (int i = 0; i < xf.length; i++) xf[i] = (float) xd[i];
        LmuLayer f64 = new LmuLayer(c, Mode.AUTO, new Rng(4), DType.F64);
        LmuLayer f32 = new LmuLayer(c, Mode.AUTO, new Rng(4), DType.F32);
        Tensor x = Tensor.of(xf, batch, frames, 4);
        Tensor h32 = f32.forward(x, lengths);
        Tensor h64 = f64.forward(Tensor.of(xd, batch, frames, 4), lengths);
        assertEquals(DType.F32, h32.dtype());
        LegendreConvolutionTest.assertClose(h64.toDoubleArray(), h32.toDoubleArray(), 1e-5, "h f32");
        h32.sum().backward();
        assertNull(x.grad());
        assertTrue(f32.namedParameters().get("wm").grad() != null);
        assertEquals(0.0, h32.get(1, 20, 3));
    }

    @Test
    void badInputsAreNamed() {
        LmuLayer layer = new LmuLayer(LmuConfig.of(4, 6, 1, 8, 20).withMaxLength(16), Mode.AUTO, new Rng(1), DType.F32);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> layer.forward(Tensor.zeros(2, 5, 3), new int[] {5, 5}));
        assertTrue(e.getMessage().contains("x must have shape (B, T, 4), got [2, 5, 3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> layer.forward(Tensor.zeros(2, 20, 4), new int[] {20, 5}));
        assertTrue(e.getMessage().contains("lengths[0] must be in [0, 16]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> layer.forward(Tensor.zeros(2, 5, 4), new int[] {5}));
        assertTrue(e.getMessage().contains("lengths must have shape (B) = [2]"), e.getMessage());
    }
}
