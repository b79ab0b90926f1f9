package lmu.backend.cpu;

import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import lmu.backend.AttentionKernels;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.Tensor;

/**
 * {@link AttentionKernels} on the CPU: {@link CpuAttention}'s float32 and float64 loops on host
 * tensors, the reference for every device. Forward saves the softmax output P, shape (B·H, T, T),
 * as the {@link Saved} state; the dropout mask it drew (T²/8 bytes per pair, 1/32 of P in float32)
 * is kept beside it in a side table keyed weakly by P's backing array, so backward reuses it rather
 * than drawing it again and the entry goes when P does. A backward whose P has no entry (or one for
 * another p or seed) redraws the mask from (p, seed) with {@link CpuAttention#drawKeep}: the same
 * bits. Any head dimension.
 */
public final class CpuAttentionKernels implements AttentionKernels {
    public static final CpuAttentionKernels INSTANCE = new CpuAttentionKernels();

    /** A mask forward drew, with what it was drawn for. */
    private record Keep(long[] bits, double p, long seed) {}

    /** Forward's masks by the array behind the saved P (identity, weak: arrays do not override equals). */
    private static final Map<Object, Keep> MASKS = Collections.synchronizedMap(new WeakHashMap<>());

    private CpuAttentionKernels() {}

    @Override
    public boolean supports(DType dtype, int headDim) {
        return (dtype == DType.F32 || dtype == DType.F64) && headDim > 0;
    }

    @Override
    public Saved forward(Tensor q, Tensor k, Tensor v, int heads, double scale, int[] lengths, double maskValue, double p,
            long seed) {
        check("forward", q, k, v);
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
        if (keep != null) MASKS.put(array(probs), new Keep(keep, p, seed));
        return new Saved(out, probs);
    }

    @Override
    public Tensor[] backward(Tensor dOut, Tensor q, Tensor k, Tensor v, Saved saved, int heads, double scale,
            int[] lengths, double maskValue, double p, long seed, boolean needQ, boolean needK, boolean needV) {
        check("backward", q, k, v);
        check("backward", dOut, saved.out(), saved.state());
        int batch = q.dim(0), frames = q.dim(1), d = q.dim(2) / heads;
        Tensor probs = saved.state();
        long[] keep = p > 0 && (needQ || needK || needV) ? keep(probs, batch * heads, frames, p, seed) : null;
        Tensor dq = needQ ? Tensor.zeros(q.dtype(), q.shape()) : null;
        Tensor dk = needK ? Tensor.zeros(q.dtype(), q.shape()) : null;
        Tensor dv = needV ? Tensor.zeros(q.dtype(), q.shape()) : null;
        if (q.dtype() == DType.F32) {
            CpuAttention.backward(dq == null ? null : dq.f32(), dk == null ? null : dk.f32(), dv == null ? null : dv.f32(),
                    dOut.f32(), probs.f32(), q.f32(), k.f32(), v.f32(), batch, frames, heads, d, scale, lengths, p, keep);
        } else {
            CpuAttention.backward(dq == null ? null : dq.f64(), dk == null ? null : dk.f64(), dv == null ? null : dv.f64(),
                    dOut.f64(), probs.f64(), q.f64(), k.f64(), v.f64(), batch, frames, heads, d, scale, lengths, p, keep);
        }
        return new Tensor[] {dq, dk, dv};
    }

    /** The mask forward kept for this P, or the same mask drawn again when there is none for (p, seed). */
    static long[] keep(Tensor probs, int pairs, int frames, double p, long seed) {
        Keep k = MASKS.get(array(probs));
        if (k != null && k.p() == p && k.seed() == seed && k.bits().length == CpuAttention.keepWords(pairs, frames)) {
            return k.bits();
        }
        return CpuAttention.drawKeep(pairs, frames, p, seed);
    }

    /** Whether a mask from forward is kept for this P (for tests). */
    static boolean keepsMaskFor(Tensor probs) {
        return MASKS.containsKey(array(probs));
    }

    private static Object array(Tensor probs) {
        return probs.dtype() == DType.F32 ? probs.f32() : probs.f64();
    }

    private static void check(String op, Tensor... ts) {
        DType dtype = ts[0].dtype();
        for (Tensor t : ts) {
            if (t.device().kind() != Device.Kind.CPU) {
                throw new IllegalArgumentException("CpuAttentionKernels." + op + ": CPU tensors only, got one on " + t.device());
            }
            if (t.dtype() != dtype || (dtype != DType.F32 && dtype != DType.F64)) {
                throw new IllegalArgumentException("CpuAttentionKernels." + op + ": tensors must all be F32 or all F64, got "
                        + dtype + " and " + t.dtype());
            }
        }
    }
}
