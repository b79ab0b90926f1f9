package lmu.backend.cuda.kernels;

import java.util.ArrayList;
import java.util.List;
import lmu.backend.OptimizerKernels;
import lmu.backend.cpu.CpuOptimizerKernels;
import lmu.backend.cuda.CudaBackend;
import lmu.backend.cuda.ParityCheck;
import lmu.backend.cuda.ParityRun;
import lmu.backend.cuda.Tolerance;
import lmu.tensor.Tensor;

/**
 * CPU-versus-CUDA parity of the {@link OptimizerKernels} family as the optimizer, clipping and the
 * loss scaler call it: {@link CudaOptimizerKernels} on the check's backend against {@link
 * CpuOptimizerKernels}, over several gradient tensors of awkward sizes (an empty one among them).
 * The launchers underneath are checked one by one in {@code KernelChecks}; these hold the family's
 * wiring (tensors, several launches per call, the norm and the found-inf flag read back).
 */
public final class OptimizerKernelChecks {
    private OptimizerKernelChecks() {}

    private static final int[] SIZES = {1, 13, 0, 207, 4098};

    /** The checks, for {@link lmu.backend.cuda.CudaSelfTest#checks()}. */
    public static List<ParityCheck> all() {
        List<ParityCheck> c = new ArrayList<>();
        for (boolean decoupled : new boolean[] {true, false}) {
            c.add(ParityCheck.of("optimizer family adam" + (decoupled ? "w" : "") + " 3 steps", p -> adam(p, decoupled)));
        }
        for (double maxNorm : new double[] {0.5, 1e9}) {
            c.add(ParityCheck.of("optimizer family clip max " + maxNorm, p -> clip(p, maxNorm)));
        }
        c.add(ParityCheck.of("optimizer family unscale finite and overflow", OptimizerKernelChecks::unscale));
        for (boolean overflow : new boolean[] {false, true}) {
            c.add(ParityCheck.of("optimizer family step state (unscale, clip, adamw)" + (overflow ? " overflow skips" : ""),
                    p -> stepState(p, overflow)));
        }
        return c;
    }

    private static Tensor[] host(ParityRun p, double scale) {
        Tensor[] t = new Tensor[SIZES.length];
        for (int i = 0; i < t.length; i++) t[i] = Tensor.of(p.randn(SIZES[i], scale), SIZES[i]);
        return t;
    }

    private static Tensor[] device(CudaBackend gpu, Tensor[] host) {
        Tensor[] d = new Tensor[host.length];
        for (int i = 0; i < d.length; i++) d[i] = gpu.toDevice(host[i]);
        return d;
    }

    private static void compare(ParityRun p, String what, CudaBackend gpu, Tensor[] got, Tensor[] ref, int n) {
        for (int i = 0; i < got.length; i++) {
            p.compare(what + "[" + i + "]", gpu.toHost(got[i]).f32(), ref[i].f32(), n, Tolerance.F32);
        }
    }

    private static void adam(ParityRun p, boolean decoupled) {
        CudaBackend gpu = p.backend();
        OptimizerKernels cuda = gpu.kernels(OptimizerKernels.class), cpu = CpuOptimizerKernels.INSTANCE;
        Tensor[] w = host(p, 1), m = host(p, 0), v = host(p, 0);
        Tensor[] dw = device(gpu, w), dm = device(gpu, m), dv = device(gpu, v);
        for (int step = 1; step <= 3; step++) {
            Tensor[] g = host(p, 0.1);
            Tensor[] dg = device(gpu, g);
            for (int i = 0; i < w.length; i++) {
                cpu.adamUpdate(w[i], g[i], m[i], v[i], 1e-3, 0.9, 0.98, 1e-9, 0.01, decoupled, step);
                cuda.adamUpdate(dw[i], dg[i], dm[i], dv[i], 1e-3, 0.9, 0.98, 1e-9, 0.01, decoupled, step);
            }
        }
        compare(p, "param", gpu, dw, w, 3);
        compare(p, "m", gpu, dm, m, 3);
        compare(p, "v", gpu, dv, v, 3);
    }

    private static void clip(ParityRun p, double maxNorm) {
        CudaBackend gpu = p.backend();
        Tensor[] g = host(p, 0.05);
        Tensor[] dg = device(gpu, g);
        int total = 0;
        for (int s : SIZES) total += s;
        double ref = CpuOptimizerKernels.INSTANCE.clipGlobalNorm(g, maxNorm);
        double got = gpu.kernels(OptimizerKernels.class).clipGlobalNorm(dg, maxNorm);
        p.compare("norm", new float[] {(float) got}, new double[] {ref}, total, Tolerance.F32);
        compare(p, "clipped", gpu, dg, g, total);
    }

    private static void unscale(ParityRun p) {
        CudaBackend gpu = p.backend();
        OptimizerKernels cuda = gpu.kernels(OptimizerKernels.class);
        Tensor[] g = host(p, 1024);
        Tensor[] dg = device(gpu, g);
        boolean ref = CpuOptimizerKernels.INSTANCE.unscaleAllFinite(g, 1.0 / 1024);
        boolean got = cuda.unscaleAllFinite(dg, 1.0 / 1024);
        p.expect(ref && got, "finite gradients: found-inf flag " + !got + ", reference " + !ref);
        compare(p, "unscaled", gpu, dg, g, 1);
        g[3].f32()[100] = Float.POSITIVE_INFINITY;
        p.expect(!cuda.unscaleAllFinite(device(gpu, g), 1.0 / 1024), "an infinite gradient sets the found-inf flag");
        p.expect(cuda.unscaleAllFinite(dg, 1), "the flag is cleared by the next call");
    }

    /**
     * The device-decided step (the captured training step's form): unscale, clip and AdamW reading
     * the learning rate, bias corrections and 1 / scale from a step state and writing the found-inf
     * flag and the sum of squares into it; with an infinite gradient the update is skipped.
     */
    private static void stepState(ParityRun p, boolean overflow) {
        CudaBackend gpu = p.backend();
        OptimizerKernels cuda = gpu.kernels(OptimizerKernels.class), cpu = CpuOptimizerKernels.INSTANCE;
        Tensor[] w = host(p, 1), m = host(p, 0), v = host(p, 0), g = host(p, 256);
        if (overflow) g[3].f32()[100] = Float.POSITIVE_INFINITY;
        float[] st = new float[OptimizerKernels.STEP_STATE_SIZE];
        st[OptimizerKernels.LR] = 1e-3f;
        st[OptimizerKernels.BIAS_CORRECTION1] = (float) (1 - 0.9);
        st[OptimizerKernels.BIAS_CORRECTION2] = (float) (1 - 0.98);
        st[OptimizerKernels.INV_LOSS_SCALE] = 1f / 256;
        st[OptimizerKernels.FOUND_INF] = 1; // stale: the unscale must clear it
        Tensor state = Tensor.of(st.clone(), st.length), dstate = gpu.toDevice(Tensor.of(st.clone(), st.length));
        Tensor[] dw = device(gpu, w), dm = device(gpu, m), dv = device(gpu, v), dg = device(gpu, g);
        Tensor[] w0 = new Tensor[w.length];
        for (int i = 0; i < w.length; i++) w0[i] = Tensor.of(w[i].f32().clone(), SIZES[i]);
        cpu.unscaleToState(g, state);
        cuda.unscaleToState(dg, dstate);
        cpu.clipToState(g, state, 0.5);
        cuda.clipToState(dg, dstate, 0.5);
        for (int i = 0; i < w.length; i++) {
            cpu.adamUpdate(w[i], g[i], m[i], v[i], state, 0.9, 0.98, 1e-9, 0.01, true);
            cuda.adamUpdate(dw[i], dg[i], dm[i], dv[i], dstate, 0.9, 0.98, 1e-9, 0.01, true);
        }
        float[] got = gpu.toHost(dstate).f32();
        p.expect(got[OptimizerKernels.FOUND_INF] == (overflow ? 1 : 0), "found-inf slot " + got[OptimizerKernels.FOUND_INF]
                + ", expected " + (overflow ? 1 : 0));
        if (overflow) {
            p.expect(!Float.isFinite(got[OptimizerKernels.SUM_SQUARES]), "sum of squares with an infinite gradient is not finite");
            compare(p, "param (skipped)", gpu, dw, w0, 1);
            return;
        }
        int total = 0;
        for (int n : SIZES) total += n;
        p.compare("sum of squares", new float[] {got[OptimizerKernels.SUM_SQUARES]},
                new double[] {state.f32()[OptimizerKernels.SUM_SQUARES]}, total, Tolerance.F32);
        compare(p, "clipped", gpu, dg, g, total);
        compare(p, "param", gpu, dw, w, 3);
        compare(p, "m", gpu, dm, m, 3);
        compare(p, "v", gpu, dv, v, 3);
    }
}
