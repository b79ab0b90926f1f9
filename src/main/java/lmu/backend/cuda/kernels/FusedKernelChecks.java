package lmu.backend.cuda.kernels;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import lmu.backend.FusedKernels;
import lmu.backend.FusedKernels.Activation;
import lmu.backend.cpu.CpuFusedKernels;
import lmu.backend.cuda.CudaBackend;
import lmu.backend.cuda.ParityCheck;
import lmu.backend.cuda.ParityRun;
import lmu.backend.cuda.Tolerance;
import lmu.tensor.Tensor;

/**
 * CPU-versus-CUDA parity of the {@link FusedKernels} family: {@link CudaFusedKernels} on the
 * check's backend against {@link CpuFusedKernels}, forward and backward, over awkward shapes
 * (one element, odd widths, rows that do not fill a block, the model's widths, no rows) and every
 * activation, with and without bias and with and without the residual stream's own gradient.
 */
public final class FusedKernelChecks {
    private FusedKernelChecks() {}

    /** (rows, C). */
    private static final int[][] SHAPES = {{1, 1}, {13, 7}, {207, 33}, {3200, 384}, {5, 1030}, {0, 8}};

    /** The checks, for {@link lmu.backend.cuda.CudaSelfTest#checks()}. */
    public static List<ParityCheck> all() {
        List<ParityCheck> c = new ArrayList<>();
        for (int[] s : SHAPES) {
            String shape = "(" + s[0] + ", " + s[1] + ")";
            for (Activation act : Activation.values()) {
                c.add(ParityCheck.of("fused bias+" + act.name().toLowerCase() + " " + shape, p -> biasActivation(p, act, s[0], s[1])));
            }
            c.add(ParityCheck.of("fused residual+layernorm " + shape, p -> residualLayerNorm(p, s[0], s[1])));
        }
        return c;
    }

    private static Tensor host(ParityRun p, double scale, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        return Tensor.of(p.randn(n, scale), shape);
    }

    private static void compare(ParityRun p, CudaBackend gpu, String what, Tensor got, Tensor ref, int sumLength) {
        if (ref == null || got == null) {
            p.expect(ref == got, what + ": present on one side only");
            return;
        }
        p.expect(Arrays.equals(got.shape(), ref.shape()), what + ": shape " + Arrays.toString(got.shape()) + ", reference "
                + Arrays.toString(ref.shape()));
        p.compare(what, gpu.toHost(got).f32(), ref.f32(), sumLength, Tolerance.F32);
    }

    private static void biasActivation(ParityRun p, Activation act, int rows, int c) {
        CudaBackend gpu = p.backend();
        FusedKernels cuda = gpu.kernels(FusedKernels.class), cpu = CpuFusedKernels.INSTANCE;
        for (boolean withBias : new boolean[] {true, false}) {
            String tag = withBias ? "" : " (no bias)";
            Tensor x = host(p, 1.5, rows, c), b = withBias ? host(p, 0.5, c) : null, dy = host(p, 1, rows, c);
            Tensor gx = gpu.toDevice(x), gb = b == null ? null : gpu.toDevice(b), gdy = gpu.toDevice(dy);
            Tensor y = cpu.biasActivation(act, x, b), gy = cuda.biasActivation(act, gx, gb);
            compare(p, gpu, "y" + tag, gy, y, 1);
            Tensor[] ref = cpu.biasActivationBackward(act, dy, x, b, y, true, true);
            Tensor[] got = cuda.biasActivationBackward(act, gdy, gx, gb, gy, true, true);
            compare(p, gpu, "dx" + tag, got[0], ref[0], 1);
            compare(p, gpu, "dbias" + tag, got[1], ref[1], rows);
            Tensor[] onlyDb = cuda.biasActivationBackward(act, gdy, gx, gb, gy, false, true);
            p.expect(onlyDb[0] == null, "dx not asked for is not returned");
            compare(p, gpu, "dbias alone" + tag, onlyDb[1], ref[1], rows);
        }
    }

    private static void residualLayerNorm(ParityRun p, int rows, int c) {
        CudaBackend gpu = p.backend();
        FusedKernels cuda = gpu.kernels(FusedKernels.class), cpu = CpuFusedKernels.INSTANCE;
        Tensor x = host(p, 1, rows, c), r = host(p, 1, rows, c), w = host(p, 0.3, c), b = host(p, 0.3, c);
        for (int i = 0; i < c; i++) w.f32()[i] += 1;
        Tensor dy = host(p, 1, rows, c), ds = host(p, 1, rows, c);
        Tensor[] ref = cpu.residualLayerNorm(x, r, w, b, 1e-5);
        Tensor[] got = cuda.residualLayerNorm(gpu.toDevice(x), gpu.toDevice(r), gpu.toDevice(w), gpu.toDevice(b), 1e-5);
        String[] names = {"s", "y", "mean", "rstd"};
        for (int i = 0; i < 4; i++) compare(p, gpu, names[i], got[i], ref[i], i == 0 ? 1 : c);
        Tensor gdy = gpu.toDevice(dy), gs = got[FusedKernels.NORM_SUM], gm = got[FusedKernels.NORM_MEAN];
        Tensor gr = got[FusedKernels.NORM_RSTD], gw = gpu.toDevice(w);
        for (boolean withDs : new boolean[] {true, false}) {
            String tag = withDs ? " (with ds)" : "";
            Tensor[] rg = cpu.residualLayerNormBackward(dy, withDs ? ds : null, ref[FusedKernels.NORM_SUM],
                    ref[FusedKernels.NORM_MEAN], ref[FusedKernels.NORM_RSTD], w, true, true);
            Tensor[] gg = cuda.residualLayerNormBackward(gdy, withDs ? gpu.toDevice(ds) : null, gs, gm, gr, gw, true, true);
            compare(p, gpu, "dx" + tag, gg[0], rg[0], c);
            compare(p, gpu, "dw" + tag, gg[1], rg[1], Math.max(1, rows));
            compare(p, gpu, "db" + tag, gg[2], rg[2], Math.max(1, rows));
        }
        Tensor[] noAffine = cuda.residualLayerNorm(gpu.toDevice(x), gpu.toDevice(r), null, null, 1e-5);
        Tensor[] noAffineRef = cpu.residualLayerNorm(x, r, null, null, 1e-5);
        compare(p, gpu, "y without weight and bias", noAffine[1], noAffineRef[1], c);
        Tensor[] params = cuda.residualLayerNormBackward(gdy, null, gs, gm, gr, gw, false, true);
        p.expect(params[0] == null, "dx not asked for is not returned");
        Tensor[] paramsRef = cpu.residualLayerNormBackward(dy, null, ref[FusedKernels.NORM_SUM], ref[FusedKernels.NORM_MEAN],
                ref[FusedKernels.NORM_RSTD], w, false, true);
        compare(p, gpu, "dw alone", params[1], paramsRef[1], Math.max(1, rows));
    }
}
