package lmu.backend.cuda.kernels;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import lmu.amp.Precision;
import lmu.backend.AttentionKernels;
import lmu.backend.cuda.CudaBackend;
import lmu.backend.cuda.ParityCheck;
import lmu.backend.cuda.ParityRun;
import lmu.backend.cuda.Tolerance;
import lmu.nn.MultiHeadAttention;
import lmu.tensor.DType;
import lmu.tensor.Tensor;

/**
 * Parity of the tensor-core attention ({@code attention_half.cu}, {@link CudaHalfAttention}) through
 * the {@link AttentionKernels} family of the check's backend ({@link CudaAttentionKernels} on F16 and
 * BF16 tensors) against the float64 reference of the CPU module's ops ({@link
 * ModelKernelChecks#attentionReference}) on the same inputs rounded to the format, forward and
 * backward, with padded keys, an all-padded sequence, tile tails and dropout. Each output is held to
 * {@code Tolerance.of(format)} with n = T: the weights of a row sum to 1, so the roundings of the
 * weights, of ds and of the outputs to 16 bits add errors that grow with the number of keys (a wrong
 * dropout mask in one kernel fails that bound). Registered in {@link lmu.backend.cuda.CudaSelfTest}.
 */
public final class HalfAttentionChecks {
    private HalfAttentionChecks() {}

    /** The checks, for {@link lmu.backend.cuda.CudaSelfTest#checks()}. */
    public static List<ParityCheck> all() {
        List<ParityCheck> c = new ArrayList<>();
        for (DType f : new DType[] {DType.F16, DType.BF16}) {
            String n = "attention " + f.name().toLowerCase(Locale.ROOT) + " ";
            c.add(ParityCheck.of(n + "hd64 B2 T1 H2", p -> check(p, f, 2, 1, 2, 64, new int[] {1, 1}, 0, Grads.ALL)));
            c.add(ParityCheck.of(n + "hd64 B3 T77 H3", p -> check(p, f, 3, 77, 3, 64, new int[] {77, 40, 0}, 0, Grads.ALL)));
            c.add(ParityCheck.of(n + "hd32 B2 T130 H2", p -> check(p, f, 2, 130, 2, 32, new int[] {13, 130}, 0, Grads.ALL)));
            c.add(ParityCheck.of(n + "dropout 0.1 hd64 B3 T200 H2", p -> check(p, f, 3, 200, 2, 64, new int[] {200, 150, 0}, 0.1,
                    Grads.ALL)));
            c.add(ParityCheck.of(n + "dropout 0.5 hd32 no mask B2 T45 H3", p -> check(p, f, 2, 45, 3, 32, null, 0.5, Grads.ALL)));
            c.add(ParityCheck.of(n + "only dq hd64 B2 T20 H1", p -> check(p, f, 2, 20, 1, 64, null, 0, Grads.ONLY_Q)));
            c.add(ParityCheck.of(n + "f32 gradient of the output hd64 B2 T33 H1", p -> check(p, f, 2, 33, 1, 64, new int[] {33, 9},
                    0.1, Grads.F32_DOUT)));
        }
        return c;
    }

    /** Which backward is asked for: all three gradients, dq alone, or all three from an F32 dOut. */
    private enum Grads { ALL, ONLY_Q, F32_DOUT }

    /** n normal values rounded to the format (as float64, exactly representable there). */
    private static double[] rounded(Random r, int n, DType format) {
        Precision precision = format == DType.F16 ? Precision.FP16 : Precision.BF16;
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = precision.round((float) r.nextGaussian());
        return a;
    }

    private static Tensor upload(CudaBackend gpu, DType dtype, double[] a, int... shape) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
        Tensor t = gpu.empty(dtype, shape);
        ((lmu.backend.cuda.CudaStorage) t.storage()).fromHost(f);
        return t;
    }

    private static void check(ParityRun run, DType format, int batch, int frames, int heads, int headDim, int[] lengths, double p,
            Grads grads) {
        Random r = run.random();
        long seed = r.nextLong();
        int c = heads * headDim, n = batch * frames * c;
        double[] q = rounded(r, n, format), k = rounded(r, n, format), v = rounded(r, n, format), dout = rounded(r, n, format);
        double[][] want = ModelKernelChecks.attentionReference(q, k, v, dout, batch, frames, heads, headDim, lengths, p, seed);
        double scale = 1 / Math.sqrt(headDim), mask = MultiHeadAttention.MASK_VALUE;
        CudaBackend gpu = run.backend();
        AttentionKernels att = gpu.kernels(AttentionKernels.class);
        if (!att.supports(format, headDim)) {
            throw new IllegalStateException("CudaAttentionKernels: supports(" + format + ", " + headDim + ") is false");
        }
        Tensor gq = upload(gpu, format, q, batch, frames, c), gk = upload(gpu, format, k, batch, frames, c);
        Tensor gv = upload(gpu, format, v, batch, frames, c);
        Tensor gdo = upload(gpu, grads == Grads.F32_DOUT ? DType.F32 : format, dout, batch, frames, c);
        AttentionKernels.Saved saved = att.forward(gq, gk, gv, heads, scale, lengths, mask, p, seed);
        boolean kv = grads != Grads.ONLY_Q;
        Tensor[] g = att.backward(gdo, gq, gk, gv, saved, heads, scale, lengths, mask, p, seed, true, kv, kv);
        Tolerance tol = Tolerance.of(format);
        String[] names = {"dq", "dk", "dv"};
        if (saved.out().dtype() != format) {
            throw new IllegalStateException("CudaAttentionKernels: the output is " + saved.out().dtype() + ", expected " + format);
        }
        run.compare("o", gpu.toHost(saved.out()).f32(), want[0], frames, tol);
        for (int i = 0; i < 3; i++) {
            boolean expected = i == 0 || kv;
            if ((g[i] != null) != expected) {
                throw new IllegalStateException("CudaAttentionKernels: " + names[i] + " is " + (g[i] == null ? "null" : "given")
                        + ", expected " + (expected ? "given" : "null"));
            }
            if (g[i] == null) continue;
            if (g[i].dtype() != format) {
                throw new IllegalStateException("CudaAttentionKernels: " + names[i] + " is " + g[i].dtype() + ", expected " + format);
            }
            run.compare(names[i], gpu.toHost(g[i]).f32(), want[i + 1], frames, tol);
        }
    }
}
