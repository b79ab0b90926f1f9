package lmu.backend.cuda.kernels;

import java.lang.ref.Reference;
import jcuda.driver.CUdeviceptr;
import lmu.backend.AttentionKernels;
import lmu.backend.DeviceLengths;
import lmu.backend.SeedTable;
import lmu.backend.cuda.CudaBackend;
import lmu.backend.cuda.CudaStorage;
import lmu.backend.cuda.DeviceBuffer;
import lmu.tensor.DType;
import lmu.tensor.Tensor;

/**
 * {@link AttentionKernels} on one GPU: {@link CudaAttention}'s kernels on F32 tensors of a {@link
 * CudaBackend}, {@link CudaHalfAttention}'s tensor-core kernels on F16 or BF16 tensors (q, k, v of
 * one format; output and gradients in that format, statistics fp32), head dimension 32 or 64.
 * Forward saves the output and the per-row softmax statistics (B, H, T, 2); backward recomputes the
 * weights and redraws the dropout mask from (p, seed), so no T×T tensor is ever stored. A gradient
 * dOut of another dtype than q is converted to q's first. Lengths are copied to the device per call
 * (B ints). Asynchronous on the backend's stream.
 */
public final class CudaAttentionKernels implements AttentionKernels {
    private final CudaBackend backend;

    public CudaAttentionKernels(CudaBackend backend) {
        this.backend = backend;
    }

    @Override
    public boolean supports(DType dtype, int headDim) {
        return dtype == DType.F32 ? CudaAttention.supportsHeadDim(headDim) : CudaHalfAttention.supports(dtype, headDim);
    }

    @Override
    public Saved forward(Tensor q, Tensor k, Tensor v, int heads, double scale, int[] lengths, double maskValue, double p,
            long seed) {
        try (DeviceBuffer len = lengths == null ? null : backend.uploadInts(lengths)) {
            return forwardAt(q, k, v, heads, scale, len == null ? null : len.ptr(), maskValue, p, seed, null, 0);
        } // freed in stream order
    }

    /**
     * The device-lengths form: the float32 lengths are converted to int32 scratch on the stream
     * ({@link CudaCtcLoss#intsFromFloats}) and the kernels read them there. The kernels read the seed
     * from slot {@code slot} of the device seed table, so a captured launch replays with its current seed.
     */
    @Override
    public Saved forward(Tensor q, Tensor k, Tensor v, int heads, double scale, Tensor lengths, double maskValue, double p,
            Tensor seeds, int slot) {
        Tensor li = ints("CudaAttentionKernels.forward", lengths, q.dim(0));
        CUdeviceptr table = p == 0 ? null : seedTable("CudaAttentionKernels.forward", seeds, slot);
        Saved r = forwardAt(q, k, v, heads, scale, ((CudaStorage) li.storage()).ptr(), maskValue, p, 0, table, slot);
        Reference.reachabilityFence(li); // the scratch outlives the launch
        Reference.reachabilityFence(seeds);
        return r;
    }

    private Saved forwardAt(Tensor q, Tensor k, Tensor v, int heads, double scale, CUdeviceptr pl, double maskValue, double p,
            long seed, CUdeviceptr seeds, int slot) {
        int batch = q.dim(0), frames = q.dim(1), c = q.dim(2), d = c / heads;
        DType format = format(q, k, v);
        CUdeviceptr pq = ptr(q, "q", format), pk = ptr(k, "k", format), pv = ptr(v, "v", format);
        Tensor out = backend.empty(format, q.shape());
        Tensor stats = backend.empty(DType.F32, batch, heads, frames, 2);
        CUdeviceptr po = ptr(out, "out", format), ps = ptr(stats, "stats", DType.F32);
        if (format == DType.F32) {
            CudaAttention.forward(backend.context(), po, ps, pq, pk, pv, pl, batch, frames, heads, d, (float) scale,
                    (float) maskValue, p, seed, seeds, slot);
        } else {
            CudaHalfAttention.forward(backend.context(), format, po, ps, pq, pk, pv, pl, batch, frames, heads, d,
                    (float) scale, (float) maskValue, p, seed, seeds, slot);
        }
        return new Saved(out, stats);
    }

    @Override
    public Tensor[] backward(Tensor dOut, Tensor q, Tensor k, Tensor v, Saved saved, int heads, double scale,
            int[] lengths, double maskValue, double p, long seed, boolean needQ, boolean needK, boolean needV) {
        try (DeviceBuffer len = lengths == null ? null : backend.uploadInts(lengths)) {
            return backwardAt(dOut, q, k, v, saved, heads, scale, len == null ? null : len.ptr(), maskValue, p, seed, null, 0,
                    needQ, needK, needV);
        }
    }

    /** The device-lengths form of the backward (see the forward of that form). */
    @Override
    public Tensor[] backward(Tensor dOut, Tensor q, Tensor k, Tensor v, Saved saved, int heads, double scale, Tensor lengths,
            double maskValue, double p, Tensor seeds, int slot, boolean needQ, boolean needK, boolean needV) {
        Tensor li = ints("CudaAttentionKernels.backward", lengths, q.dim(0));
        CUdeviceptr table = p == 0 ? null : seedTable("CudaAttentionKernels.backward", seeds, slot);
        Tensor[] r = backwardAt(dOut, q, k, v, saved, heads, scale, ((CudaStorage) li.storage()).ptr(), maskValue, p, 0,
                table, slot, needQ, needK, needV);
        Reference.reachabilityFence(li); // the scratch outlives the launch
        Reference.reachabilityFence(seeds);
        return r;
    }

    private Tensor[] backwardAt(Tensor dOut, Tensor q, Tensor k, Tensor v, Saved saved, int heads, double scale,
            CUdeviceptr pl, double maskValue, double p, long seed, CUdeviceptr seeds, int slot, boolean needQ, boolean needK,
            boolean needV) {
        int batch = q.dim(0), frames = q.dim(1), c = q.dim(2), d = c / heads;
        DType format = format(q, k, v);
        if (saved.out().dtype() != format) {
            throw new IllegalArgumentException("CudaAttentionKernels: saved.out must have q's dtype " + format + ", got "
                    + saved.out().dtype());
        }
        if (dOut.dtype() != format) { // e.g. an f32 gradient of a 16-bit output
            Tensor converted = backend.empty(format, dOut.shape());
            backend.cast(converted, dOut);
            dOut = converted;
        }
        CUdeviceptr pq = ptr(q, "q", format), pk = ptr(k, "k", format), pv = ptr(v, "v", format);
        CUdeviceptr pg = ptr(dOut, "dOut", format);
        CUdeviceptr po = ptr(saved.out(), "saved.out", format), ps = ptr(saved.state(), "saved.state", DType.F32);
        Tensor dq = needQ ? backend.empty(format, q.shape()) : null;
        // dk and dv come from one kernel: both are written when either is needed
        Tensor dk = needK || needV ? backend.empty(format, q.shape()) : null;
        Tensor dv = needK || needV ? backend.empty(format, q.shape()) : null;
        if (dq == null && dk == null) return new Tensor[] {null, null, null};
        CUdeviceptr pdq = dq == null ? null : ptr(dq, "dq", format), pdk = dk == null ? null : ptr(dk, "dk", format);
        CUdeviceptr pdv = dv == null ? null : ptr(dv, "dv", format);
        if (format == DType.F32) {
            CudaAttention.backward(backend.context(), pdq, pdk, pdv, pg, pq, pk, pv, po, ps, pl, batch, frames, heads, d,
                    (float) scale, (float) maskValue, p, seed, seeds, slot);
        } else {
            CudaHalfAttention.backward(backend.context(), format, pdq, pdk, pdv, pg, pq, pk, pv, po, ps, pl, batch, frames,
                    heads, d, (float) scale, (float) maskValue, p, seed, seeds, slot);
        }
        return new Tensor[] {dq, needK ? dk : null, needV ? dv : null};
    }

    /** int32 scratch converted on the stream from a float32 lengths tensor of shape (B) of this backend. */
    private Tensor ints(String op, Tensor lengths, int batch) {
        DeviceLengths.check(op, lengths, batch);
        CUdeviceptr pl = ptr(lengths, "lengths", DType.F32);
        Tensor scratch = backend.empty(DType.F32, Math.max(batch, 1));
        CudaCtcLoss.intsFromFloats(backend.context(), ((CudaStorage) scratch.storage()).ptr(), pl, batch);
        return scratch;
    }

    /** The pointer of an f32 seed table of this backend after checking that slot is inside it. */
    private CUdeviceptr seedTable(String op, Tensor seeds, int slot) {
        CUdeviceptr ps = ptr(seeds, "seeds", DType.F32);
        if (slot < 0 || SeedTable.FLOATS_PER_SEED * (slot + 1) > seeds.numel()) {
            throw new IllegalArgumentException(op + ": slot must be in [0, " + seeds.numel() / SeedTable.FLOATS_PER_SEED
                    + "), got " + slot);
        }
        return ps;
    }

    /** The dtype of q, k and v: F32, F16 or BF16, the same for all three. */
    static DType format(Tensor q, Tensor k, Tensor v) {
        DType f = q.dtype();
        if (f != DType.F32 && f != DType.F16 && f != DType.BF16) {
            throw new IllegalArgumentException("CudaAttentionKernels: q must have dtype F32, F16 or BF16, got " + f);
        }
        if (k.dtype() != f || v.dtype() != f) {
            throw new IllegalArgumentException("CudaAttentionKernels: q, k and v must share a dtype, got " + f + ", " + k.dtype()
                    + " and " + v.dtype());
        }
        return f;
    }

    /**
     * The pointer of a tensor of this backend holding the elements the kernel reads: the format's
     * for q, k, v, the output and the gradients, f32 for the statistics ({@link DeviceTensors#of}:
     * another dtype is refused before the launch).
     */
    private CUdeviceptr ptr(Tensor t, String arg, DType dtype) {
        return DeviceTensors.of(backend, "CudaAttentionKernels", arg, t, dtype);
    }
}
