package lmu.speech.ctc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import lmu.backend.sim.SimBackend;
import lmu.speech.ctc.CtcLoss.Layout;
import lmu.speech.ctc.CtcLoss.Reduction;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.Tensor;
import org.junit.jupiter.api.Test;

class CtcLossFunctionTest {
    static final int B = 3, T = 6, V = 4, C = 5;
    static final int[] IL = {6, 4, 5};
    static final int[] TG = {1, 2, 2, 3, 0, 0, 1, 3, 1};
    static final int[] TL = {3, 1, 3};

    static double[] random(Random rnd, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = rnd.nextGaussian();
        return a;
    }

    @Test
    void backwardGivesTheFusedGradient() {
        double[] x = random(new Random(1), B * T * V);
        for (Reduction red : new Reduction[] {Reduction.MEAN, Reduction.SUM}) {
            CtcLoss ctc = new CtcLoss(Layout.BATCH_MAJOR, red, false);
            Tensor logits = Tensor.of(x.clone(), B, T, V).requiresGrad(true);
            CtcLossFunction f = new CtcLossFunction(ctc, IL, TG, TL);
            Tensor loss = f.apply(logits);
            assertEquals(0, loss.rank());
            loss.mul(2.5).backward();
            double[] want = new double[x.length];
            double ref = ctc.forwardBackward(x, new int[] {B, T, V}, IL, TG, TL, want, new double[] {2.5}).loss();
            assertEquals(ref, loss.item(), 1e-12);
            assertEquals(ref, f.result().loss(), 1e-12);
            assertArrayEquals(want, logits.grad().f64(), 1e-12, red.toString());
        }
    }

    /** logits = x · W, per-utterance losses weighted and summed; d/dW by central differences in float64. */
    @Test
    void chainRuleMatchesFiniteDifferences() {
        Random rnd = new Random(2);
        double[] xs = random(rnd, B * T * C);
        double[] ws = random(rnd, C * V);
        double[] weights = {0.5, -1.5, 2.0};
        CtcLoss ctc = new CtcLoss(Layout.BATCH_MAJOR, Reduction.NONE, false);
        Tensor w = Tensor.of(ws, C, V).requiresGrad(true);
        objective(ctc, xs, w, weights).backward();
        double[] grad = w.grad().f64().clone();
        double h = 1e-6;
        for (int i = 0; i < ws.length; i++) {
            double keep = ws[i];
            ws[i] = keep + h;
            double up = objective(ctc, xs, Tensor.of(ws, C, V), weights).item();
            ws[i] = keep - h;
            double down = objective(ctc, xs, Tensor.of(ws, C, V), weights).item();
            ws[i] = keep;
            assertEquals((up - down) / (2 * h), grad[i], 1e-7, "dW[" + i + "]");
        }
    }

    private static Tensor objective(CtcLoss ctc, double[] xs, Tensor w, double[] weights) {
        Tensor logits = Tensor.of(xs, B, T, C).matmul(w);
        Tensor losses = CtcLossFunction.apply(ctc, logits, IL, TG, TL);
        assertArrayEquals(new int[] {B}, losses.shape());
        return losses.mul(Tensor.of(weights.clone(), B)).sum();
    }

    /** Feeding log-probabilities (a caller's log-softmax first) gives the same loss and logit gradient. */
    @Test
    void logProbabilityInputIsEquivalent() {
        double[] x = random(new Random(4), B * T * V);
        CtcLoss ctc = CtcLoss.batchMajor();
        Tensor z = Tensor.of(x.clone(), B, T, V).requiresGrad(true);
        Tensor loss = CtcLossFunction.apply(ctc, z.logSoftmax(2), IL, TG, TL);
        loss.backward();
        double[] want = new double[x.length];
        double ref = ctc.forwardBackward(x, new int[] {B, T, V}, IL, TG, TL, want, null).loss();
        assertEquals(ref, loss.item(), 1e-12);
        assertArrayEquals(want, z.grad().f64(), 1e-12);
    }

    @Test
    void timeMajorAndFloat32() {
        Random rnd = new Random(3);
        float[] x = new float[T * B * V];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        CtcLoss ctc = new CtcLoss(Layout.TIME_MAJOR, Reduction.NONE, false);
        Tensor logits = Tensor.of(x.clone(), T, B, V).requiresGrad(true);
        Tensor losses = CtcLossFunction.apply(ctc, logits, IL, TG, TL);
        assertEquals(DType.F32, losses.dtype());
        float[] seed = {1f, -2f, 0.5f};
        losses.backward(Tensor.of(seed.clone(), B));
        float[] want = new float[x.length];
        ctc.forwardBackward(x, new int[] {T, B, V}, IL, TG, TL, want, seed);
        assertArrayEquals(want, logits.grad().f32(), 1e-6f);
    }

    @Test
    void noGradientIsComputedWithoutRequiresGrad() {
        Tensor logits = Tensor.of(new double[B * T * V], B, T, V);
        CtcLossFunction f = new CtcLossFunction(CtcLoss.batchMajor(), IL, TG, TL);
        Tensor loss = f.apply(logits);
        assertNull(loss.node());
        assertTrue(loss.item() > 0);
        assertEquals(0, f.result().infeasible().length);
    }

    @Test
    void rejectsWrongRank() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CtcLossFunction.apply(CtcLoss.batchMajor(), Tensor.zeros(B * T, V), IL, TG, TL));
        assertTrue(e.getMessage().contains("CtcLoss: logits must have shape (B, T, V), got [18, 4]"), e.getMessage());
    }

    /** On a device (the simulated one): loss and gradient equal the CPU's, the gradient stays there. */
    @Test
    void onADeviceLossAndGradientEqualTheCpuAndStayThere() {
        Random rnd = new Random(4);
        float[] x = new float[B * T * V];
        for (int i = 0; i < x.length; i++) x[i] = (float) (2 * rnd.nextGaussian());
        int[] il = {6, 2, 5}; // utterance 1 infeasible: 3 labels in 2 frames
        int[] tg = {1, 2, 2, 3, 1, 3, 1, 3, 1};
        int[] tl = {3, 3, 3};
        try (SimBackend sim = SimBackend.install(0)) {
            for (Reduction red : Reduction.values()) {
                for (boolean zeroInf : new boolean[] {false, true}) {
                    for (Layout layout : Layout.values()) {
                        String what = red + " " + layout + " zeroInfinity " + zeroInf;
                        CtcLoss ctc = new CtcLoss(layout, red, zeroInf);
                        int[] shape = layout == Layout.BATCH_MAJOR ? new int[] {B, T, V} : new int[] {T, B, V};
                        Tensor host = Tensor.of(x.clone(), shape).requiresGrad(true);
                        Tensor dev = sim.toDevice(Tensor.of(x.clone(), shape)).requiresGrad(true);
                        CtcLossFunction fh = new CtcLossFunction(ctc, il, tg, tl), fd = new CtcLossFunction(ctc, il, tg, tl);
                        Tensor lh = fh.apply(host), ld = fd.apply(dev);
                        assertEquals(Device.cuda(0), ld.device(), what);
                        assertArrayEquals(lh.toDoubleArray(), sim.toHost(ld).toDoubleArray(), 0, what);
                        assertArrayEquals(new int[] {1}, fd.result().infeasible(), what);
                        assertArrayEquals(fh.result().losses(), fd.result().losses(), 0, what);
                        if (red == Reduction.NONE) {
                            float[] g = {0.5f, -1f, 3f};
                            lh.backward(Tensor.of(g.clone(), B));
                            ld.backward(sim.toDevice(Tensor.of(g.clone(), B)));
                        } else {
                            lh.mul(1.5).backward();
                            ld.mul(1.5).backward();
                        }
                        assertEquals(Device.cuda(0), dev.grad().device(), what);
                        assertArrayEquals(host.grad().f32(), sim.toHost(dev.grad()).f32(), 0f, what);
                    }
                }
            }
        }
    }

    private static Tensor floats(int[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = v[i];
        return Tensor.of(f, v.length);
    }

    /**
     * The device form (lengths and labels as tensors, loss reduced on the device), on the CPU and on
     * the simulated device: loss and gradient equal the host form's for every reduction and layout.
     */
    @Test
    void theDeviceFormEqualsTheHostForm() {
        Random rnd = new Random(5);
        float[] x = new float[B * T * V];
        for (int i = 0; i < x.length; i++) x[i] = (float) (2 * rnd.nextGaussian());
        int[] il = {6, 2, 5}; // utterance 1 infeasible: 3 labels in 2 frames
        int[] tg = {1, 2, 2, 3, 1, 3, 1, 3, 1};
        int[] tl = {3, 3, 2};
        try (SimBackend sim = SimBackend.install(0)) {
            for (boolean onSim : new boolean[] {false, true}) {
                for (Reduction red : Reduction.values()) {
                    for (Layout layout : Layout.values()) {
                        String what = red + " " + layout + (onSim ? " simulated device" : " cpu");
                        CtcLoss ctc = new CtcLoss(layout, red, true);
                        int[] shape = layout == Layout.BATCH_MAJOR ? new int[] {B, T, V} : new int[] {T, B, V};
                        Tensor host = Tensor.of(x.clone(), shape).requiresGrad(true);
                        Tensor in = Tensor.of(x.clone(), shape);
                        Tensor dev = (onSim ? sim.toDevice(in) : in).requiresGrad(true);
                        Tensor[] lens = {floats(il), floats(tg), floats(tl)};
                        if (onSim) for (int i = 0; i < 3; i++) lens[i] = sim.toDevice(lens[i]);
                        CtcLossFunction fh = new CtcLossFunction(ctc, il, tg, tl);
                        CtcLossFunction fd = new CtcLossFunction(ctc, lens[0], lens[1], lens[2]);
                        Tensor lh = fh.apply(host), ld = fd.apply(dev);
                        assertEquals(dev.device(), ld.device(), what);
                        assertArrayEquals(lh.shape(), ld.shape(), what);
                        assertArrayEquals(lh.toDoubleArray(), lmu.backend.Backends.to(ld, Device.CPU).toDoubleArray(), 1e-6, what);
                        assertTrue(Double.isFinite(lh.toDoubleArray()[0]) && lh.toDoubleArray()[0] > 0, what);
                        assertNull(fd.result(), what);
                        lh.mul(1.5).sum().backward();
                        ld.mul(1.5).sum().backward();
                        assertEquals(dev.device(), dev.grad().device(), what);
                        assertArrayEquals(host.grad().f32(), lmu.backend.Backends.to(dev.grad(), Device.CPU).f32(), 0f, what);
                    }
                }
            }
        }
    }

    @Test
    void theDeviceFormRefusesLengthsThatDoNotFitTheBatch() {
        CtcLoss ctc = new CtcLoss(Layout.BATCH_MAJOR, Reduction.MEAN, false);
        Tensor x = Tensor.of(new float[B * T * V], B, T, V);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CtcLossFunction(ctc, floats(new int[] {6, 4}), floats(TG), floats(TL)).apply(x));
        assertTrue(e.getMessage().contains("CtcLoss"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new CtcLossFunction(ctc, null, floats(TG), floats(TL)));
    }
}
