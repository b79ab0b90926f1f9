package lmu.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import lmu.amp.Autocast;
import lmu.amp.Precision;
import lmu.backend.AttentionKernels;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.backend.cuda.Tolerance;
import lmu.backend.sim.SimBackend;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;

/**
 * MultiHeadAttention under a mixed-precision policy on a device: the fused op on 16-bit q, k, v
 * where the device's attention kernels run the policy's format (as CUDA's tensor-core kernels do),
 * the composed ops where they do not. The device is the simulated one (F16/BF16 storage rounded),
 * its attention family wrapped by {@link HalfAttention}: 16-bit operands widened exactly, the CPU's
 * fp32 kernel, output and gradients rounded to the format, the contract of {@code
 * CudaAttentionKernels} on F16/BF16 tensors.
 */
class MultiHeadAttentionHalfTest {
    private static final int C = 12, HEADS = 3, T = 7;
    private static final int[] LENGTHS = {7, 3};

    /** The simulated device's attention family taking 16-bit tensors; records the dtype of every forward's q. */
    private static final class HalfAttention implements AttentionKernels {
        final SimBackend sim;
        final AttentionKernels inner;
        final boolean half;
        final List<DType> forwards = new ArrayList<>();
        final Map<Tensor, Saved> saved = new IdentityHashMap<>();

        HalfAttention(SimBackend sim, boolean half) {
            this.sim = sim;
            this.inner = sim.kernels(AttentionKernels.class);
            this.half = half;
        }

        Tensor convert(Tensor t, DType to) {
            if (t.dtype() == to) return t;
            Tensor y = sim.empty(to, t.shape());
            sim.cast(y, t);
            return y;
        }

        @Override
        public boolean supports(DType dtype, int headDim) {
            return dtype == DType.F32 || (half && (dtype == DType.F16 || dtype == DType.BF16));
        }

        @Override
        public Saved forward(Tensor q, Tensor k, Tensor v, int heads, double scale, int[] lengths, double maskValue, double p,
                long seed) {
            forwards.add(q.dtype());
            Saved s = inner.forward(convert(q, DType.F32), convert(k, DType.F32), convert(v, DType.F32), heads, scale, lengths,
                    maskValue, p, seed);
            Tensor out = convert(s.out(), q.dtype());
            saved.put(out, s);
            return new Saved(out, s.state());
        }

        @Override
        public Tensor[] backward(Tensor dOut, Tensor q, Tensor k, Tensor v, Saved s, int heads, double scale, int[] lengths,
                double maskValue, double p, long seed, boolean needQ, boolean needK, boolean needV) {
            assertEquals(q.dtype(), dOut.dtype(), "the gradient of a 16-bit output comes in 16 bits");
            Tensor[] g = inner.backward(convert(dOut, DType.F32), convert(q, DType.F32), convert(k, DType.F32),
                    convert(v, DType.F32), saved.get(s.out()), heads, scale, lengths, maskValue, p, seed, needQ, needK, needV);
            for (int i = 0; i < 3; i++) if (g[i] != null) g[i] = convert(g[i], q.dtype());
            return g;
        }
    }

    private static Backend register(SimBackend sim, AttentionKernels att) {
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

    private record Run(float[] y, Map<String, float[]> grads, float[] dx) {}

    /** forward and backward of sum(y) on the CPU under the policy (its emulation: the composed ops, rounded). */
    private static Run cpu(Precision precision, Tensor x) {
        MultiHeadAttention m = new MultiHeadAttention(C, HEADS, 0.2, new Rng(5));
        m.train(true);
        Dropout.reseed(m, 11);
        Tensor xc = x.detach().requiresGrad(true);
        Tensor y;
        try (Autocast ac = Autocast.enable(precision)) {
            y = m.forward(xc, LENGTHS);
        }
        y.sum().backward();
        Map<String, float[]> g = new java.util.HashMap<>();
        m.namedParameters().forEach((k, t) -> g.put(k, t.grad().f32()));
        return new Run(y.f32(), g, xc.grad().f32());
    }

    /** The same on the simulated device with the given attention family. */
    private static Run device(SimBackend sim, AttentionKernels att, Precision precision, Tensor x) {
        Backend b = register(sim, att);
        try {
            MultiHeadAttention m = new MultiHeadAttention(C, HEADS, 0.2, new Rng(5));
            m.to(Device.cuda(0));
            m.train(true);
            Dropout.reseed(m, 11);
            Tensor xd = sim.toDevice(x).requiresGrad(true);
            Tensor y;
            try (Autocast ac = Autocast.enable(precision)) {
                y = m.forward(xd, LENGTHS);
            }
            assertEquals(DType.F32, y.dtype(), "the layer's output");
            assertEquals(Device.cuda(0), y.device());
            y.sum().backward();
            Map<String, float[]> g = new java.util.HashMap<>();
            m.namedParameters().forEach((k, t) -> {
                assertEquals(DType.F32, t.grad().dtype(), k);
                g.put(k, sim.toHost(t.grad()).f32());
            });
            return new Run(sim.toHost(y).f32(), g, sim.toHost(xd.grad()).f32());
        } finally {
            Backends.unregisterCuda(b);
        }
    }

    /** got within the format's tolerance of want, n = T (the longest sum behind a value, as the parity checks count). */
    private static void close(String what, Tolerance tol, float[] want, float[] got, int n) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            assertTrue(Math.abs(got[i] - want[i]) <= tol.bound(want[i], n), what + "[" + i + "]: " + got[i] + " vs " + want[i]);
        }
    }

    @Test
    void underFp16AndBf16TheDeviceRunsTheFusedOpOnSixteenBitOperands() {
        Tensor x = Tensor.randn(new Rng(3), DType.F32, 1, 2, T, C);
        for (Precision precision : new Precision[] {Precision.FP16, Precision.BF16}) {
            Run want = cpu(precision, x);
            try (SimBackend sim = new SimBackend(Device.cuda(0))) {
                HalfAttention att = new HalfAttention(sim, true);
                Run got = device(sim, att, precision, x);
                assertEquals(List.of(precision.storage()), att.forwards, "one fused forward on " + precision.storage() + " operands");
                Tolerance tol = Tolerance.of(precision.storage());
                // the same function up to where the roundings fall (q·scale vs the scores, the weights vs the output)
                close("y " + precision, tol, want.y(), got.y(), T * C);
                close("dx " + precision, tol, want.dx(), got.dx(), T * C);
                for (String k : want.grads().keySet()) close(k + " " + precision, tol, want.grads().get(k), got.grads().get(k), 2 * T * C);
            }
        }
    }

    @Test
    void whereTheDeviceLacksTheFormatThePolicyTakesTheComposedOps() {
        Tensor x = Tensor.randn(new Rng(4), DType.F32, 1, 2, T, C);
        Run want = cpu(Precision.FP16, x);
        try (SimBackend sim = new SimBackend(Device.cuda(0))) {
            HalfAttention att = new HalfAttention(sim, false);
            Run got = device(sim, att, Precision.FP16, x);
            assertEquals(List.of(), att.forwards, "no fused call");
            close("y", Tolerance.F16, want.y(), got.y(), T * C);
        }
    }

    @Test
    void withThePolicyOffTheDeviceRunsTheFusedOpInF32() {
        Tensor x = Tensor.randn(new Rng(6), DType.F32, 1, 2, T, C);
        Run want = cpu(Precision.OFF, x);
        try (SimBackend sim = new SimBackend(Device.cuda(0))) {
            HalfAttention att = new HalfAttention(sim, true);
            Run got = device(sim, att, Precision.OFF, x);
            assertEquals(List.of(DType.F32), att.forwards);
            org.junit.jupiter.api.Assertions.assertArrayEquals(want.y(), got.y(), 1e-5f);
        }
    }
}
