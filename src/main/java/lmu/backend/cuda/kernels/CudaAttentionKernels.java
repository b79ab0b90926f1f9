package lmu.backend.cuda.kernels;

import jcuda.driver.CUdeviceptr;
import lmu.backend.AttentionKernels;
import lmu.backend.cuda.CudaBackend;
import lmu.backend.cuda.DeviceBuffer;
import lmu.tensor.DType;
import lmu.tensor.Tensor;

/**
 * {@link AttentionKernels} on one GPU: {@link CudaAttention}'s kernels on f32 tensors of a {@link
 * CudaBackend}, head dimension 32 or 64. Forward saves the output and the per-row softmax statistics
 * (B, H, T, 2); backward recomputes the weights and redraws the dropout mask from (p, seed), so no
 * T×T tensor is ever stored. Lengths are copied to the device per call (B ints). Asynchronous on the
 * backend's stream.
 */
public final class CudaAttentionKernels implements AttentionKernels {
    private final CudaBackend backend;

    public CudaAttentionKernels(CudaBackend backend) {
        this.backend = backend;
    }

    @Override
    public boolean supports(DType dtype, int headDim) {
        return dtype == DType.F32 && CudaAttention.supportsHeadDim(headDim);
    }

    @Override
    public Saved forward(Tensor q, Tensor k, Tensor v, int heads, double scale, int[] lengths, double maskValue, double p,
            long seed) {
        int batch = q.dim(0), frames = q.dim(1), c = q.dim(2), d = c / heads;
        CUdeviceptr pq = ptr(q, "q"), pk = ptr(k, "k"), pv = ptr(v, "v");
        Tensor out = backend.empty(DType.F32, q.shape());
        Tensor stats = backend.empty(DType.F32, batch, heads, frames, 2);
        try (DeviceBuffer len = lengths == null ? null : backend.uploadInts(lengths)) {
            CudaAttention.forward(backend.context(), ptr(out, "out"), ptr(stats, "stats"), pq, pk, pv,
                    len == null ? null : len.ptr(), batch, frames, heads, d, (float) scale, (float) maskValue, p, seed);
        }
        return new Saved(out, stats);
    }

    @Override
    public Tensor[] backward(Tensor dOut, Tensor q, Tensor k, Tensor v, Saved saved, int heads, double scale,
            int[] lengths, double maskValue, double p, long seed, boolean needQ, boolean needK, boolean needV) {
        int batch = q.dim(0), frames = q.dim(1), c = q.dim(2), d = c / heads;
        CUdeviceptr pq = ptr(q, "q"), pk = ptr(k, "k"), pv = ptr(v, "v"), pg = ptr(dOut, "dOut");
        CUdeviceptr po = ptr(saved.out(), "saved.out"), ps = ptr(saved.state(), "saved.state");
        Tensor dq = needQ ? backend.empty(DType.F32, q.shape()) : null;
        // dk and dv come from one kernel: both are written when either is needed
        Tensor dk = needK || needV ? backend.empty(DType.F32, q.shape()) : null;
        Tensor dv = needK || needV ? backend.empty(DType.F32, q.shape()) : null;
        if (dq == null && dk == null) return new Tensor[] {null, null, null};
        try (DeviceBuffer len = lengths == null ? null : backend.uploadInts(lengths)) {
            CudaAttention.backward(backend.context(), dq == null ? null : ptr(dq, "dq"), dk == null ? null : ptr(dk, "dk"),
                    dv == null ? null : ptr(dv, "dv"), pg, pq, pk, pv, po, ps, len == null ? null : len.ptr(), batch, frames,
                    heads, d, (float) scale, (float) maskValue, p, seed);
        }
        return new Tensor[] {dq, needK ? dk : null, needV ? dv : null};
    }

    /** The pointer of an f32 tensor of this backend ({@link DeviceTensors#f32}: other dtypes are refused). */
    private CUdeviceptr ptr(Tensor t, String arg) {
        return DeviceTensors.f32(backend, "CudaAttentionKernels", arg, t);
    }
}
