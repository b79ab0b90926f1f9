package lmu.ops;

import java.util.Arrays;
import lmu.amp.Autocast;
import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.tensor.DType;
import lmu.tensor.Tensor;

/**
 * Matrix product op(a)·op(b), where op transposes the last two axes when asked. Shapes:
 * a (M, K) or (B, M, K) or (..., M, K); b (K, N) or (B, K, N). A 2-D b is shared by every leading
 * index of a (a linear layer: x (B, T, C) · W^T); 3-D operands are batched, a batch of 1 broadcasts.
 */
public final class MatMul extends Function {
    private final boolean transA, transB;

    private MatMul(boolean transA, boolean transB) {
        this.transA = transA;
        this.transB = transB;
    }

    /**
     * Under a mixed-precision {@link Autocast} policy the operands and the result are stored in
     * half precision (the product itself accumulates in fp32; on a GPU the operands are real
     * F16/BF16 tensors and the result is written in F32, see {@link Autocast#operand}).
     */
    public static Tensor apply(Tensor a, Tensor b, boolean transA, boolean transB) {
        return Autocast.result(new MatMul(transA, transB).apply(new Tensor[] {Autocast.operand(a), Autocast.operand(b)}));
    }

    /** Resolved geometry: batch, m, n, k, broadcastA, broadcastB, and the output shape. */
    private record Geometry(int batch, int m, int n, int k, boolean bcA, boolean bcB, int[] outShape) {}

    private Geometry geometry(Tensor a, Tensor b) {
        int[] sa = a.shape(), sb = b.shape();
        if (sa.length < 2 || sb.length < 2 || sb.length > 3) {
            throw new IllegalArgumentException("MatMul: operands must be (…, M, K) and (K, N) or (B, K, N), got "
                    + Arrays.toString(sa) + " and " + Arrays.toString(sb));
        }
        int m = transA ? sa[sa.length - 1] : sa[sa.length - 2];
        int ka = transA ? sa[sa.length - 2] : sa[sa.length - 1];
        int kb = transB ? sb[sb.length - 1] : sb[sb.length - 2];
        int n = transB ? sb[sb.length - 2] : sb[sb.length - 1];
        if (ka != kb) {
            throw new IllegalArgumentException("MatMul: inner dimensions differ: " + Arrays.toString(sa) + (transA ? "ᵀ" : "")
                    + " · " + Arrays.toString(sb) + (transB ? "ᵀ" : "") + " (" + ka + " vs " + kb + ")");
        }
        if (sb.length == 2) {
            int rows = 1;
            for (int i = 0; i < sa.length - 2; i++) rows *= sa[i];
            int[] out = sa.clone();
            out[out.length - 2] = m;
            out[out.length - 1] = n;
            if (!transA) return new Geometry(1, rows * m, n, ka, false, false, out);
            return new Geometry(rows, m, n, ka, false, true, out);
        }
        if (sa.length != 3 && !(sa.length == 2)) {
            throw new IllegalArgumentException("MatMul: a batched b (B, K, N) needs a of rank 2 or 3, got " + Arrays.toString(sa));
        }
        int ba = sa.length == 3 ? sa[0] : 1, bb = sb[0];
        if (ba != bb && ba != 1 && bb != 1) {
            throw new IllegalArgumentException("MatMul: batch sizes differ: " + Arrays.toString(sa) + " vs " + Arrays.toString(sb));
        }
        int batch = Math.max(ba, bb);
        return new Geometry(batch, m, n, ka, ba == 1 && batch > 1, bb == 1 && batch > 1, new int[] {batch, m, n});
    }

    @Override
    protected Tensor forward(Ctx ctx, Tensor... in) {
        Tensor a = in[0], b = in[1];
        Geometry g = geometry(a, b);
        Backend be = Backends.of(a);
        // 16-bit operands (a device under a mixed-precision policy): the fp32 accumulator is written as F32
        Tensor out = be.empty(a.dtype().isCompute() ? a.dtype() : DType.F32, g.outShape());
        be.matmul(out, a, b, g.batch(), g.m(), g.n(), g.k(), transA, transB, g.bcA(), g.bcB(), 0);
        ctx.save(a, b, g);
        return out;
    }

    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        Tensor a = ctx.tensor(0), b = ctx.tensor(1);
        Geometry g = (Geometry) ctx.saved(2);
        Backend be = Backends.of(dOut);
        if (dOut.dtype() != a.dtype()) { // products take operands of one dtype: the gradient in the operands' format
            Tensor d = be.empty(a.dtype(), dOut.shape());
            be.cast(d, dOut);
            dOut = d;
        }
        Tensor da = null, db = null;
        if (ctx.needsInputGrad(0)) {
            da = be.empty(a.dtype(), a.shape());
            // dA = dC·op(B)ᵀ, or op(B)·dCᵀ when A was transposed
            if (!transA) batched(be, da, dOut, b, g, g.bcA(), g.m(), g.k(), g.n(), false, !transB, false, g.bcB());
            else batched(be, da, b, dOut, g, g.bcA(), g.k(), g.m(), g.n(), transB, true, g.bcB(), false);
        }
        if (ctx.needsInputGrad(1)) {
            db = be.empty(b.dtype(), b.shape());
            // dB = op(A)ᵀ·dC, or dCᵀ·op(A) when B was transposed
            if (!transB) batched(be, db, a, dOut, g, g.bcB(), g.k(), g.n(), g.m(), !transA, false, g.bcA(), false);
            else batched(be, db, dOut, a, g, g.bcB(), g.n(), g.k(), g.m(), true, transA, false, g.bcA());
        }
        return new Tensor[] {da, db};
    }

    /**
     * out (rows p × q per batch) = op(x)·op(y) with inner size r. When the output operand was
     * broadcast over the batch, the per-batch products are summed into it.
     */
    private static void batched(Backend be, Tensor out, Tensor x, Tensor y, Geometry g, boolean outBroadcast, int p, int q,
            int r, boolean tx, boolean ty, boolean bcX, boolean bcY) {
        if (!outBroadcast) {
            be.matmul(out, x, y, g.batch(), p, q, r, tx, ty, bcX, bcY, 0);
            return;
        }
        Tensor tmp = be.empty(out.dtype(), g.batch(), p, q);
        be.matmul(tmp, x, y, g.batch(), p, q, r, tx, ty, bcX, bcY, 0);
        be.sumAxes(new Tensor(out.storage(), new int[] {1, p, q}, out.device()), tmp, new boolean[] {true, false, false});
    }
}
