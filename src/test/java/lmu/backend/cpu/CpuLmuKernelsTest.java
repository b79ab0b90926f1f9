package lmu.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import lmu.backend.Backends;
import lmu.backend.LmuKernels;
import lmu.nn.lmu.Activation;
import lmu.nn.lmu.Discretizer;
import lmu.nn.lmu.LegendreImpulseResponse;
import lmu.nn.lmu.LegendreStateSpace;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The CPU's {@link LmuKernels}: the convolution's impulse response in closed form, the recurrence
 * without feedback equal to the convolution (forward: m; backward: du from dz), float32 tracking
 * float64, zeros at padded frames, and argument errors that name the call.
 */
class CpuLmuKernelsTest {
    private static final LmuKernels K = CpuLmuKernels.INSTANCE;

    private static Tensor random(DType dtype, long seed, int... shape) {
        Random r = new Random(seed);
        int n = 1;
        for (int s : shape) n *= s;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = r.nextGaussian();
        return Tensor.of(v, shape).to(dtype).detach();
    }

    private static void assertClose(Tensor expected, Tensor actual, double tol, String what) {
        assertEquals(java.util.Arrays.toString(expected.shape()), java.util.Arrays.toString(actual.shape()), what);
        double[] e = expected.toDoubleArray(), a = actual.toDoubleArray();
        double scale = 0;
        for (double v : e) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < e.length; i++) {
            assertEquals(e[i], a[i], tol * (scale + Math.abs(e[i])), what + "[" + i + "]");
        }
    }

    @Test
    void cpuBackendReturnsThem() {
        assertSame(K, Backends.kernels(Tensor.zeros(1), LmuKernels.class));
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> Backends.kernels(Tensor.zeros(1), Runnable.class));
        assertTrue(e.getMessage().contains("no Runnable kernels"), e.getMessage());
    }

    /** A unit impulse at frame 0 of one channel gives H itself there, zero in the other channel and after the length. */
    @Test
    void impulseGivesTheImpulseResponse() {
        LegendreImpulseResponse ir = new LegendreImpulseResponse(new LegendreStateSpace(6, 10, Discretizer.ZOH), 20);
        int frames = 12, d = 6, len = 9;
        for (DType dtype : new DType[] {DType.F64, DType.F32}) {
            Tensor u = Tensor.zeros(dtype, 1, frames, 2);
            u.set(1.0, 0, 0, 1);
            Tensor m = K.convolutionForward(ir, u, new int[] {len});
            double[] h = ir.response(frames);
            for (int t = 0; t < frames; t++) {
                for (int i = 0; i < d; i++) {
                    assertEquals(0.0, m.get(0, t, i), dtype + " channel 0");
                    double expected = t < len ? h[t * d + i] : 0;
                    assertEquals(expected, m.get(0, t, d + i), dtype == DType.F64 ? 1e-15 : 1e-6, dtype + " t=" + t);
                }
            }
        }
    }

    /** Without feedback the recurrence's memory is the convolution of ux, and its du is the convolution's backward of dz·W_mᵀ. */
    @Test
    void recurrenceWithoutFeedbackIsTheConvolution() {
        LegendreStateSpace ss = new LegendreStateSpace(5, 7, Discretizer.ZOH);
        LegendreImpulseResponse ir = new LegendreImpulseResponse(ss, 30);
        int batch = 3, frames = 17, channels = 2, hidden = 4, w = channels * 5;
        int[] lengths = {17, 0, 8};
        for (DType dtype : new DType[] {DType.F64, DType.F32}) {
            double tol = dtype == DType.F64 ? 1e-12 : 2e-5;
            Tensor ux = random(dtype, 1, batch, frames, channels);
            Tensor ax = random(dtype, 2, batch, frames, hidden);
            Tensor wm = random(dtype, 3, w, hidden);
            Tensor[] hm = K.recurrentForward(ss, Activation.IDENTITY, ux, ax, null, null, null, wm, lengths);
            Tensor m = K.convolutionForward(ir, ux, lengths);
            assertClose(m, hm[LmuKernels.FORWARD_M], tol, dtype + " m");
            // identity activation: h = ax + m W_m at valid frames, 0 after
            Tensor expectedH = ax.add(m.matmul(wm));
            for (int b = 0; b < batch; b++) {
                for (int t = 0; t < frames; t++) {
                    for (int j = 0; j < hidden; j++) {
                        double e = t < lengths[b] ? expectedH.get(b, t, j) : 0;
                        assertEquals(e, hm[LmuKernels.FORWARD_H].get(b, t, j), tol * 10, dtype + " h");
                    }
                }
            }
            Tensor dh = random(dtype, 4, batch, frames, hidden);
            Tensor[] g = K.recurrentBackward(ss, Activation.IDENTITY, dh, hm[LmuKernels.FORWARD_H], null, null, null, wm,
                    lengths);
            Tensor dz = g[LmuKernels.BACKWARD_DZ];
            for (int b = 0; b < batch; b++) {
                for (int t = 0; t < frames; t++) {
                    for (int j = 0; j < hidden; j++) {
                        assertEquals(t < lengths[b] ? dh.get(b, t, j) : 0, dz.get(b, t, j), 0.0, dtype + " dz = dh");
                    }
                }
            }
            Tensor du = K.convolutionBackward(ir, lmu.ops.MatMul.apply(dz, wm, false, true), lengths);
            assertClose(du, g[LmuKernels.BACKWARD_DU], tol, dtype + " du");
        }
    }

    @Test
    void float32TracksFloat64() {
        LegendreStateSpace ss = new LegendreStateSpace(8, 12, Discretizer.ZOH);
        LegendreImpulseResponse ir = new LegendreImpulseResponse(ss, 100);
        int[] lengths = {70, 3};
        Tensor u = random(DType.F64, 5, 2, 70, 3);
        Tensor dm = random(DType.F64, 6, 2, 70, 24);
        assertClose(K.convolutionForward(ir, u, lengths), K.convolutionForward(ir, u.to(DType.F32).detach(), lengths),
                1e-5, "m");
        assertClose(K.convolutionBackward(ir, dm, lengths), K.convolutionBackward(ir, dm.to(DType.F32).detach(), lengths),
                1e-5, "du");
        Tensor ux = random(DType.F64, 7, 2, 70, 3), ax = random(DType.F64, 8, 2, 70, 4);
        Tensor eh = random(DType.F64, 9, 4, 3).mul(0.3), wh = random(DType.F64, 10, 4, 4).mul(0.3);
        Tensor em = random(DType.F64, 11, 24, 3).mul(0.1), wm = random(DType.F64, 12, 24, 4).mul(0.3);
        Tensor[] r64 = K.recurrentForward(ss, Activation.TANH, ux, ax, eh, em, wh, wm, lengths);
        Tensor[] r32 = K.recurrentForward(ss, Activation.TANH, f32(ux), f32(ax), f32(eh), f32(em), f32(wh), f32(wm),
                lengths);
        assertEquals(DType.F32, r32[0].dtype());
        assertClose(r64[0], r32[0], 1e-5, "h");
        assertClose(r64[1], r32[1], 1e-5, "m");
    }

    private static Tensor f32(Tensor t) {
        return t.to(DType.F32).detach();
    }

    @Test
    void badArgumentsAreNamed() {
        LegendreStateSpace ss = new LegendreStateSpace(3, 5, Discretizer.ZOH);
        LegendreImpulseResponse ir = new LegendreImpulseResponse(ss, 8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> K.convolutionForward(ir, Tensor.zeros(2, 5), new int[] {5, 5}));
        assertTrue(e.getMessage().contains("CpuLmuKernels.convolutionForward: u must have shape (B, T, K), got [2, 5]"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> K.convolutionForward(ir, Tensor.zeros(1, 10, 2), new int[] {9}));
        assertTrue(e.getMessage().contains("lengths[0] must be in [0, 8] (min of T and maxLength), got 9"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> K.convolutionBackward(ir, Tensor.zeros(1, 4, 5), new int[] {4}));
        assertTrue(e.getMessage().contains("dm must have shape (B, T, K*d) with d = 3, got [1, 4, 5]"), e.getMessage());
        Tensor ux = Tensor.zeros(2, 4, 2), ax = Tensor.zeros(2, 4, 3), wm = Tensor.zeros(6, 3);
        e = assertThrows(IllegalArgumentException.class,
                () -> K.recurrentForward(ss, Activation.TANH, ux, ax, null, null, null, Tensor.zeros(5, 3), new int[] {4, 4}));
        assertTrue(e.getMessage().contains("CpuLmuKernels.recurrentForward: wm must have shape (K*d, hidden) = [6, 3], got [5, 3]"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> K.recurrentForward(ss, Activation.TANH, ux, ax, Tensor.zeros(3, 3), null, null, wm, new int[] {4, 4}));
        assertTrue(e.getMessage().contains("eh must have shape [3, 2], got [3, 3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> K.recurrentForward(ss, Activation.TANH, ux, Tensor.zeros(DType.F64, 2, 4, 3), null, null, null, wm,
                        new int[] {4, 4}));
        assertTrue(e.getMessage().contains("every tensor must be F32 on cpu like ux, got F64 on cpu"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> K.recurrentBackward(ss, Activation.TANH, ax, Tensor.zeros(2, 4, 4), null, null, null, wm,
                        new int[] {4, 4}));
        assertTrue(e.getMessage().contains("CpuLmuKernels.recurrentBackward: h must have shape (B, T, hidden) = [2, 4, 3], "
                + "got [2, 4, 4]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> K.recurrentBackward(ss, Activation.TANH, ax, ax, null, null, null, wm, new int[] {5, 4}));
        assertTrue(e.getMessage().contains("lengths[0] must be in [0, 4] (T), got 5"), e.getMessage());
    }
}
