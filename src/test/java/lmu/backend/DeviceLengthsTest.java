package lmu.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.Function;
import lmu.backend.cpu.CpuAttentionKernels;
import lmu.backend.cpu.CpuLmuKernels;
import lmu.backend.sim.SimBackend;
import lmu.nn.lmu.Activation;
import lmu.nn.lmu.Discretizer;
import lmu.nn.lmu.LegendreConvolution.Method;
import lmu.nn.lmu.LegendreImpulseResponse;
import lmu.nn.lmu.LegendreStateSpace;
import lmu.tensor.Tensor;
import lmu.tensor.DeviceStorage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The device-lengths forms of {@link LmuKernels} and {@link AttentionKernels}: on the simulated
 * device a call captured with one set of lengths and replayed after new lengths were written into
 * the same tensor gives the host form's result for the new lengths (a frozen length would give the
 * captured one); the tensor's shape is checked.
 */
class DeviceLengthsTest {
    private static final int B = 3, T = 9, K = 2, HIDDEN = 4, D = 5, C = 4, HEADS = 2;
    private static final int[] CAPTURED = {9, 4, 0}, REPLAYED = {2, 9, 7};
    private SimBackend sim;

    @BeforeEach
    void install() {
        sim = SimBackend.install(0);
        sim.enableCapture(true);
    }

    @AfterEach
    void uninstall() {
        sim.close();
    }

    private static Tensor random(long seed, int... shape) {
        Random r = new Random(seed);
        int n = 1;
        for (int s : shape) n *= s;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return Tensor.of(v, shape);
    }

    private static float[] floats(int[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = a[i];
        return f;
    }

    /**
     * Captures {@code device} with CAPTURED lengths, replays it with REPLAYED written into the
     * lengths tensor, and compares every result tensor with {@code host} for REPLAYED; also checks
     * that the two length sets give different results (so a frozen length would fail).
     */
    private void replaysWithNewLengths(String what, Function<Tensor, Tensor[]> device, Function<int[], Tensor[]> host) {
        Tensor lengths = sim.toDevice(Tensor.of(floats(CAPTURED), B));
        sim.beginCapture();
        Tensor[] out = device.apply(lengths);
        StepGraph g = sim.endCapture();
        ((DeviceStorage) lengths.storage()).fromHost(floats(REPLAYED));
        g.replay();
        Tensor[] expected = host.apply(REPLAYED), before = host.apply(CAPTURED);
        boolean differs = false;
        for (int i = 0; i < out.length; i++) {
            if (expected[i] == null) continue;
            float[] e = expected[i].toFloatArray(), a = sim.toHost(out[i]).toFloatArray();
            assertArrayEquals(e, a, 1e-6f, what + " result " + i);
            differs |= !java.util.Arrays.equals(e, before[i].toFloatArray());
        }
        assertTrue(differs, what + ": the two length sets must give different results");
        g.close();
    }

    @Test
    void lmuConvolutionReadsLengthsWhenReplayed() {
        LegendreImpulseResponse ir = new LegendreImpulseResponse(new LegendreStateSpace(D, 6, Discretizer.ZOH), 16);
        LmuKernels cpu = CpuLmuKernels.INSTANCE;
        Tensor u = random(1, B, T, K), dm = random(2, B, T, K * D);
        Tensor su = sim.toDevice(u), sdm = sim.toDevice(dm);
        LmuKernels k = Backends.kernels(su, LmuKernels.class);
        for (Method m : new Method[] {Method.DIRECT, Method.FFT}) {
            replaysWithNewLengths("convolutionForward " + m, l -> new Tensor[] {k.convolutionForward(ir, su, l, m)},
                    l -> new Tensor[] {cpu.convolutionForward(ir, u, l, m)});
            replaysWithNewLengths("convolutionBackward " + m, l -> new Tensor[] {k.convolutionBackward(ir, sdm, l, m)},
                    l -> new Tensor[] {cpu.convolutionBackward(ir, dm, l, m)});
        }
    }

    @Test
    void lmuRecurrenceReadsLengthsWhenReplayed() {
        LegendreStateSpace ss = new LegendreStateSpace(D, 6, Discretizer.ZOH);
        LmuKernels cpu = CpuLmuKernels.INSTANCE;
        Tensor ux = random(3, B, T, K), ax = random(4, B, T, HIDDEN), eh = random(5, HIDDEN, K), em = random(6, K * D, K);
        Tensor wh = random(7, HIDDEN, HIDDEN), wm = random(8, K * D, HIDDEN), dh = random(9, B, T, HIDDEN);
        Tensor h = cpu.recurrentForward(ss, Activation.TANH, ux, ax, eh, em, wh, wm, new int[] {T, T, T})[LmuKernels.FORWARD_H];
        Tensor sux = sim.toDevice(ux), sax = sim.toDevice(ax), seh = sim.toDevice(eh), sem = sim.toDevice(em);
        Tensor swh = sim.toDevice(wh), swm = sim.toDevice(wm), sdh = sim.toDevice(dh), sh = sim.toDevice(h);
        LmuKernels k = Backends.kernels(sux, LmuKernels.class);
        replaysWithNewLengths("recurrentForward", l -> k.recurrentForward(ss, Activation.TANH, sux, sax, seh, sem, swh, swm, l),
                l -> cpu.recurrentForward(ss, Activation.TANH, ux, ax, eh, em, wh, wm, l));
        replaysWithNewLengths("recurrentBackward", l -> k.recurrentBackward(ss, Activation.TANH, sdh, sh, seh, sem, swh, swm, l),
                l -> cpu.recurrentBackward(ss, Activation.TANH, dh, h, eh, em, wh, wm, l));
    }

    @Test
    void attentionReadsLengthsWhenReplayed() {
        AttentionKernels cpu = CpuAttentionKernels.INSTANCE;
        Tensor q = random(10, B, T, C), kk = random(11, B, T, C), v = random(12, B, T, C), g = random(13, B, T, C);
        Tensor sq = sim.toDevice(q), sk = sim.toDevice(kk), sv = sim.toDevice(v), sg = sim.toDevice(g);
        float[] table = new float[SeedTable.FLOATS_PER_SEED];
        SeedTable.encode(77, table, 0);
        Tensor sseeds = sim.toDevice(Tensor.of(table, table.length));
        double scale = 0.5, mask = -1e4, p = 0.25;
        AttentionKernels k = Backends.kernels(sq, AttentionKernels.class);
        replaysWithNewLengths("attention", l -> {
            AttentionKernels.Saved s = k.forward(sq, sk, sv, HEADS, scale, l, mask, p, sseeds, 0);
            Tensor[] d = k.backward(sg, sq, sk, sv, s, HEADS, scale, l, mask, p, sseeds, 0, true, true, true);
            return new Tensor[] {s.out(), d[0], d[1], d[2]};
        }, l -> {
            AttentionKernels.Saved s = cpu.forward(q, kk, v, HEADS, scale, l, mask, p, 77);
            Tensor[] d = cpu.backward(g, q, kk, v, s, HEADS, scale, l, mask, p, 77, true, true, true);
            return new Tensor[] {s.out(), d[0], d[1], d[2]};
        });
    }

    @Test
    void shapeIsChecked() {
        Tensor wrong = Tensor.of(new float[] {1, 2}, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DeviceLengths.read("Op", wrong, 3));
        assertEquals("Op: lengths tensor must have shape (B) = [3], got [2]", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DeviceLengths.check("Op", null, 3));
        assertArrayEquals(new int[] {1, 2}, DeviceLengths.read("Op", wrong, 2));
    }
}
