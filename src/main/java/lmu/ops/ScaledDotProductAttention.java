package lmu.ops;

import java.util.Arrays;
import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.backend.cpu.CpuAttention;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.Tensor;
import lmu.util.Checks;

/**
 * Fused multi-head attention core: for every sequence b and head h,
 * {@code O = dropout(softmax(scale · Q·Kᵀ with keys s ≥ lengths[b] set to maskValue)) · V}, with the
 * heads taken as column blocks of (B, T, C) inputs and joined the same way in the output. One op
 * instead of scale, head permutes, two batched products, masked fill, softmax and dropout: nothing
 * of size (B·H, T, T) besides the saved softmax output is allocated, and no permuted copies.
 *
 * <p>It computes the same function as the composition (same dropout mask for the same seed: the
 * mask counter is the element index of the (B·H, T, T) weight tensor, see {@link CpuAttention});
 * CPU tensors only (F32 or F64).
 *
 * <pre>{@code
 * Tensor o = ScaledDotProductAttention.apply(q, k, v, heads, 1 / Math.sqrt(d), lengths, -1e4, 0.1, seed);
 * }</pre>
 */
public final class ScaledDotProductAttention extends Function {
    private final int heads;
    private final double scale;
    private final int[] lengths;
    private final double maskValue;
    private final double p;
    private final long seed;

    private ScaledDotProductAttention(int heads, double scale, int[] lengths, double maskValue, double p, long seed) {
        this.heads = heads;
        this.scale = scale;
        this.lengths = lengths == null ? null : lengths.clone();
        this.maskValue = maskValue;
        this.p = p;
        this.seed = seed;
    }

    /**
     * @param q queries, shape (B, T, C), C = H·d, head h in columns [h·d, (h+1)·d)
     * @param k keys, shape (B, T, C)
     * @param v values, shape (B, T, C)
     * @param heads H, must divide C
     * @param scale factor of the scores, usually 1/√d
     * @param lengths valid keys per sequence, length B, each in [0, T]; null: all keys valid
     * @param maskValue score given to masked keys (e.g. −1e4)
     * @param p dropout probability on the attention weights, in [0, 1); 0 for none
     * @param seed dropout mask seed (ignored when p is 0)
     * @return O, shape (B, T, C)
     * @throws IllegalArgumentException if shapes differ or are not (B, T, C), H does not divide C, a
     *     length is out of range, p is outside [0, 1), or a tensor is not on the CPU
     */
    public static Tensor apply(Tensor q, Tensor k, Tensor v, int heads, double scale, int[] lengths, double maskValue,
            double p, long seed) {
        String op = "ScaledDotProductAttention";
        Checks.shape(q.rank() == 3, op, "q", "(B, T, C)", q.shape());
        Checks.shape(Arrays.equals(q.shape(), k.shape()), op, "k", Arrays.toString(q.shape()) + " (as q)", k.shape());
        Checks.shape(Arrays.equals(q.shape(), v.shape()), op, "v", Arrays.toString(q.shape()) + " (as q)", v.shape());
        Checks.positive(op + " heads", heads);
        if (q.dim(2) % heads != 0) {
            throw new IllegalArgumentException(op + ": heads (" + heads + ") must divide channels (" + q.dim(2) + ")");
        }
        if (lengths != null) {
            if (lengths.length != q.dim(0)) {
                throw new IllegalArgumentException(op + ": lengths must have " + q.dim(0) + " entries, got " + lengths.length);
            }
            for (int b = 0; b < lengths.length; b++) {
                if (lengths[b] < 0 || lengths[b] > q.dim(1)) {
                    throw new IllegalArgumentException(op + ": lengths[" + b + "] = " + lengths[b] + " outside [0, " + q.dim(1) + "]");
                }
            }
        }
        Checks.inRange(op + " p", p, 0, 1);
        if (p == 1) throw new IllegalArgumentException(op + ": p : 1.0 (expected: < 1, nothing would be kept)");
        for (Tensor t : new Tensor[] {q, k, v}) {
            if (t.device().kind() != Device.Kind.CPU) {
                throw new IllegalArgumentException(op + ": CPU tensors only, got one on " + t.device());
            }
        }
        if (q.dtype() != DType.F32 && q.dtype() != DType.F64) {
            throw new IllegalArgumentException(op + ": dtype must be F32 or F64, got " + q.dtype());
        }
        return new ScaledDotProductAttention(heads, scale, lengths, maskValue, p, seed).apply(new Tensor[] {q, k, v});
    }

    @Override
    protected Tensor forward(Ctx ctx, Tensor... in) {
        Tensor q = in[0], k = in[1], v = in[2];
        int batch = q.dim(0), frames = q.dim(1), d = q.dim(2) / heads;
        Tensor out = Tensor.zeros(q.dtype(), q.shape());
        Tensor probs = Tensor.zeros(q.dtype(), batch * heads, frames, frames);
        long[] keep = p > 0 ? new long[CpuAttention.keepWords(batch * heads, frames)] : null;
        if (q.dtype() == DType.F32) {
            CpuAttention.forward(out.f32(), probs.f32(), q.f32(), k.f32(), v.f32(), batch, frames, heads, d, scale, lengths,
                    (float) maskValue, p, seed, keep);
        } else {
            CpuAttention.forward(out.f64(), probs.f64(), q.f64(), k.f64(), v.f64(), batch, frames, heads, d, scale, lengths,
                    maskValue, p, seed, keep);
        }
        ctx.save(q, k, v, probs, keep);
        return out;
    }

    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        Tensor q = ctx.tensor(0), k = ctx.tensor(1), v = ctx.tensor(2), probs = ctx.tensor(3);
        long[] keep = (long[]) ctx.saved(4);
        int batch = q.dim(0), frames = q.dim(1), d = q.dim(2) / heads;
        Tensor dq = ctx.needsInputGrad(0) ? Tensor.zeros(q.dtype(), q.shape()) : null;
        Tensor dk = ctx.needsInputGrad(1) ? Tensor.zeros(q.dtype(), q.shape()) : null;
        Tensor dv = ctx.needsInputGrad(2) ? Tensor.zeros(q.dtype(), q.shape()) : null;
        if (q.dtype() == DType.F32) {
            CpuAttention.backward(dq == null ? null : dq.f32(), dk == null ? null : dk.f32(), dv == null ? null : dv.f32(),
                    dOut.f32(), probs.f32(), q.f32(), k.f32(), v.f32(), batch, frames, heads, d, scale, lengths, p, keep);
        } else {
            CpuAttention.backward(dq == null ? null : dq.f64(), dk == null ? null : dk.f64(), dv == null ? null : dv.f64(),
                    dOut.f64(), probs.f64(), q.f64(), k.f64(), v.f64(), batch, frames, heads, d, scale, lengths, p, keep);
        }
        return new Tensor[] {dq, dk, dv};
    }
}
