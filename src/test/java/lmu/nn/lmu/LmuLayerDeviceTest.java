package lmu.nn.lmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.backend.LmuKernels;
import lmu.backend.sim.SimBackend;
import lmu.backend.sim.SimStorage;
import lmu.nn.lmu.LegendreConvolution.Method;
import lmu.nn.lmu.LmuLayer.Mode;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;

/**
 * {@link LmuLayer} on a device (the test-only simulated GPU, whose LmuKernels delegate to the
 * CPU's): moved there with its parameters, it gives the CPU layer's output and gradients, keeps
 * every tensor on the device, and never reads device tensors element by element.
 */
class LmuLayerDeviceTest {
    private static final Device GPU = Device.cuda(0);

    private static void sameOnTheDevice(LmuConfig c, Mode mode, int frames, int[] lengths, long seed) {
        sameOnTheDevice(c, mode, Method.AUTO, frames, lengths, seed);
    }

    private static void sameOnTheDevice(LmuConfig c, Mode mode, Method method, int frames, int[] lengths, long seed) {
        int batch = lengths.length;
        LmuLayer cpu = new LmuLayer(c, mode, new Rng(seed), DType.F32);
        LmuLayer gpu = new LmuLayer(c, mode, new Rng(seed), DType.F32);
        cpu.setConvolutionMethod(method);
        gpu.setConvolutionMethod(method);
        Random r = new Random(seed);
        for (Map.Entry<String, Tensor> e : cpu.namedParameters().entrySet()) {
            Tensor a = e.getValue(), b = gpu.namedParameters().get(e.getKey());
            for (int i = 0; i < a.numel(); i++) {
                double v = 0.5 * r.nextGaussian();
                a.storage().set(i, v);
                b.storage().set(i, v);
            }
        }
        float[] x = new float[batch * frames * c.inputSize()];
        float[] w = new float[batch * frames * c.hiddenSize()];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        Tensor xc = Tensor.of(x.clone(), batch, frames, c.inputSize()).requiresGrad(true);
        Tensor hc = cpu.forward(xc, lengths);
        hc.mul(Tensor.of(w.clone(), batch, frames, c.hiddenSize())).sum().backward();

        gpu.to(GPU);
        Tensor xg = Backends.to(Tensor.of(x.clone(), batch, frames, c.inputSize()), GPU).requiresGrad(true);
        Tensor wg = Backends.to(Tensor.of(w.clone(), batch, frames, c.hiddenSize()), GPU);
        long reads = SimStorage.elementAccesses();
        Tensor hg = gpu.forward(xg, lengths);
        Tensor loss = hg.mul(wg).sum();
        assertEquals(GPU, hg.device());
        loss.backward();
        assertEquals(0, SimStorage.elementAccesses() - reads, "element reads of device tensors in forward and backward");

        String what = gpu.effectiveMode() + " " + method + " " + c;
        LegendreConvolutionTest.assertClose(hc.toDoubleArray(), host(hg), 2e-5, what + " h");
        LegendreConvolutionTest.assertClose(xc.grad().toDoubleArray(), host(xg.grad()), 2e-5, what + " dx");
        for (Map.Entry<String, Tensor> e : gpu.namedParameters().entrySet()) {
            Tensor g = e.getValue().grad();
            assertEquals(GPU, g.device(), e.getKey());
            LegendreConvolutionTest.assertClose(cpu.namedParameters().get(e.getKey()).grad().toDoubleArray(), host(g), 2e-5,
                    what + " d" + e.getKey());
        }
    }

    private static double[] host(Tensor t) {
        return Backends.to(t, Device.CPU).toDoubleArray();
    }

    @Test
    void bothModesOnTheDeviceEqualTheCpu() {
        try (SimBackend sim = SimBackend.install(0)) {
            assertTrue(Backends.of(GPU) == sim);
            sameOnTheDevice(LmuConfig.of(3, 5, 2, 6, 8).withHidden(true, false, Activation.TANH).withBiases(true, true),
                    Mode.AUTO, 12, new int[] {12, 0, 7}, 1);
            sameOnTheDevice(LmuConfig.of(3, 5, 2, 6, 8).withFeedback(true, true).withHidden(true, true, Activation.TANH)
                    .withBiases(true, true), Mode.AUTO, 12, new int[] {12, 0, 7}, 2);
            sameOnTheDevice(LmuConfig.of(2, 4, 1, 3, 5).withHidden(false, false, Activation.RELU), Mode.RECURRENT, 6,
                    new int[] {6, 6}, 3);
        }
    }

    /**
     * The layer's convolution method reaches the device's LmuKernels in forward and backward (a
     * recording stand-in between the layer and the simulated device's kernels), and the forced forms
     * give the CPU layer's values in that form.
     */
    @Test
    void theConvolutionMethodReachesTheDevicesKernels() {
        LmuConfig c = LmuConfig.of(3, 5, 2, 6, 8).withHidden(true, false, Activation.TANH).withBiases(true, true);
        try (SimBackend sim = SimBackend.install(0)) {
            List<String> calls = Collections.synchronizedList(new ArrayList<>());
            Backend recording = recordingLmuKernels(sim, calls);
            Backends.registerCuda(recording);
            try {
                for (Method method : Method.values()) {
                    calls.clear();
                    sameOnTheDevice(c, Mode.PARALLEL, method, 12, new int[] {12, 0, 7}, 4);
                    assertEquals(List.of("convolutionForward " + method, "convolutionBackward " + method), calls);
                }
            } finally {
                Backends.unregisterCuda(recording);
            }
        }
    }

    /** sim with its LmuKernels wrapped: each convolution call appends "name method" to calls. */
    private static Backend recordingLmuKernels(SimBackend sim, List<String> calls) {
        InvocationHandler kernels = (proxy, m, args) -> {
            if (m.getName().startsWith("convolution") && args != null && args.length == 4) {
                calls.add(m.getName() + " " + args[3]);
            }
            try {
                return m.invoke(sim.kernels(LmuKernels.class), args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        LmuKernels recorded = (LmuKernels) Proxy.newProxyInstance(LmuKernels.class.getClassLoader(),
                new Class<?>[] {LmuKernels.class}, kernels);
        InvocationHandler backend = (proxy, m, args) -> {
            if (m.getName().equals("kernels") && args[0] == LmuKernels.class) return recorded;
            try {
                return m.invoke(sim, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, backend);
    }

    /**
     * With the lengths in a {@link lmu.nn.FrameLengths} table, a captured forward and backward
     * replayed after new lengths were written gives the CPU layer's output and gradients for the new
     * lengths (a length frozen at capture would give those of the captured ones).
     */
    @Test
    void capturedWithDeviceLengthsReplaysNewLengths() {
        LmuConfig c = LmuConfig.of(3, 5, 2, 6, 8).withFeedback(true, true).withHidden(true, true, Activation.TANH)
                .withBiases(true, true);
        int frames = 7;
        int[] captured = {7, 3, 0}, replayed = {2, 7, 5};
        for (Mode mode : new Mode[] {Mode.PARALLEL, Mode.RECURRENT}) {
            LmuConfig cm = mode == Mode.PARALLEL ? LmuConfig.of(3, 5, 2, 6, 8).withHidden(true, false, Activation.TANH)
                    .withBiases(true, true) : c;
            try (SimBackend sim = SimBackend.install(0)) {
                sim.enableCapture(true);
                long seed = 21;
                LmuLayer cpu = new LmuLayer(cm, mode, new Rng(seed), DType.F32);
                LmuLayer gpu = new LmuLayer(cm, mode, new Rng(seed), DType.F32);
                Random r = new Random(seed);
                float[] x = new float[3 * frames * cm.inputSize()], w = new float[3 * frames * cm.hiddenSize()];
                for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
                Tensor xc = Tensor.of(x.clone(), 3, frames, cm.inputSize()).requiresGrad(true);
                Tensor hc = cpu.forward(xc, replayed);
                hc.mul(Tensor.of(w.clone(), 3, frames, cm.hiddenSize())).sum().backward();

                gpu.to(GPU);
                Tensor xg = Backends.to(Tensor.of(x.clone(), 3, frames, cm.inputSize()), GPU).requiresGrad(true);
                Tensor wg = Backends.to(Tensor.of(w.clone(), 3, frames, cm.hiddenSize()), GPU);
                lmu.nn.FrameLengths table = new lmu.nn.FrameLengths(GPU);
                table.write(List.of(captured));
                int[] host = captured.clone();
                Tensor hg;
                try (lmu.nn.FrameLengths.Scope s = table.activate()) {
                    table.map(0, host);
                    sim.beginCapture();
                    hg = gpu.forward(xg, host);
                    hg.mul(wg).sum().backward();
                }
                lmu.backend.StepGraph graph = sim.endCapture();
                table.write(List.of(replayed));
                graph.replay();
                String what = mode + " replayed";
                LegendreConvolutionTest.assertClose(hc.toDoubleArray(), host(hg), 2e-5, what + " h");
                LegendreConvolutionTest.assertClose(xc.grad().toDoubleArray(), host(xg.grad()), 2e-5, what + " dx");
                for (Map.Entry<String, Tensor> e : gpu.namedParameters().entrySet()) {
                    LegendreConvolutionTest.assertClose(cpu.namedParameters().get(e.getKey()).grad().toDoubleArray(),
                            host(e.getValue().grad()), 2e-5, what + " d" + e.getKey());
                }
                graph.close();
            }
        }
    }
}
