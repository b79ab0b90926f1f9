package lmu.backend.cuda.kernels;

import java.util.ArrayList;
import java.util.List;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;
import lmu.backend.OptimizerKernels;
import lmu.backend.cuda.CudaBackend;
import lmu.backend.cuda.CudaContext;
import lmu.backend.cuda.CudaKernels;
import lmu.backend.cuda.DeviceBuffer;
import lmu.tensor.Tensor;

/**
 * {@link OptimizerKernels} on one GPU: {@code kernels/adamw.cu} for the fused update (one launch
 * per parameter), {@code kernels/clip_unscale.cu} for the global norm (a deterministic two-stage
 * sum of squares into one device float), the clip scaling (decided on the device from that sum)
 * and the unscale with its found-inf flag. The norm and the flag are the only values copied to the
 * host, once per call. Gradients, parameters and moments must be f32 tensors of the backend.
 */
public final class CudaOptimizerKernels implements OptimizerKernels {
    private final CudaBackend backend;
    private final CudaContext ctx;

    public CudaOptimizerKernels(CudaBackend backend) {
        this.backend = backend;
        this.ctx = backend.context();
    }

    /** The pointer of an f32 tensor of this backend ({@link DeviceTensors#f32}: other dtypes are refused). */
    private CUdeviceptr ptr(Tensor t, String op, String arg) {
        return DeviceTensors.f32(backend, "OptimizerKernels." + op, arg, t);
    }

    @Override
    public void adamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps,
            double weightDecay, boolean decoupled, long step) {
        int n = param.numel();
        if (grad.numel() != n || m.numel() != n || v.numel() != n) {
            throw new IllegalArgumentException("OptimizerKernels.adamUpdate: grad, m and v must have " + n
                    + " elements like param, got " + grad.numel() + ", " + m.numel() + ", " + v.numel());
        }
        if (step < 1 || step > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("OptimizerKernels.adamUpdate: step must be in [1, 2^31), got " + step);
        }
        CUdeviceptr p = ptr(param, "adamUpdate", "param"), g = ptr(grad, "adamUpdate", "grad");
        CUdeviceptr pm = ptr(m, "adamUpdate", "m"), pv = ptr(v, "adamUpdate", "v");
        if (n == 0) return;
        CudaKernels.adamwUpdate(ctx, p, g, pm, pv, n, (float) lr, (float) beta1, (float) beta2, (float) eps,
                (float) weightDecay, (int) step, 1f, decoupled);
    }

    @Override
    public double globalNorm(Tensor[] grads) {
        try (DeviceBuffer sumsq = sumOfSquares(grads, "globalNorm")) {
            return sumsq == null ? 0 : Math.sqrt(readFloat(sumsq.ptr()));
        }
    }

    @Override
    public double clipGlobalNorm(Tensor[] grads, double maxNorm) {
        try (DeviceBuffer sumsq = sumOfSquares(grads, "clipGlobalNorm")) {
            if (sumsq == null) return 0;
            if (maxNorm > 0) { // the scaling is decided on the device from the same sum
                for (Tensor g : grads) {
                    if (g.numel() > 0) CudaKernels.clipScale(ctx, ptr(g, "clipGlobalNorm", "grads"), g.numel(), sumsq.ptr(), (float) maxNorm);
                }
            }
            return Math.sqrt(readFloat(sumsq.ptr()));
        }
    }

    /** Σ g² into one device float; null when every gradient is empty. */
    private DeviceBuffer sumOfSquares(Tensor[] grads, String op) {
        List<CUdeviceptr> ptrs = new ArrayList<>();
        List<Integer> sizes = new ArrayList<>();
        for (int i = 0; i < grads.length; i++) {
            CUdeviceptr p = ptr(grads[i], op, "grads[" + i + "]");
            if (grads[i].numel() == 0) continue;
            ptrs.add(p);
            sizes.add(grads[i].numel());
        }
        if (ptrs.isEmpty()) return null;
        DeviceBuffer sumsq = ctx.allocator().allocate(4);
        try {
            CudaKernels.clipSumSquares(ctx, sumsq.ptr(), ptrs.toArray(new CUdeviceptr[0]),
                    sizes.stream().mapToInt(Integer::intValue).toArray());
        } catch (RuntimeException e) {
            sumsq.close();
            throw e;
        }
        return sumsq;
    }

    @Override
    public boolean unscaleAllFinite(Tensor[] grads, double invScale) {
        try (DeviceBuffer found = ctx.allocator().allocate(4)) {
            JCudaDriver.cuMemsetD32Async(found.ptr(), 0, 1, ctx.stream());
            for (int i = 0; i < grads.length; i++) {
                CUdeviceptr p = ptr(grads[i], "unscaleAllFinite", "grads[" + i + "]");
                if (grads[i].numel() > 0) CudaKernels.unscaleCheck(ctx, p, grads[i].numel(), (float) invScale, found.ptr());
            }
            int[] flag = new int[1];
            ctx.synchronize();
            JCudaDriver.cuMemcpyDtoH(Pointer.to(flag), found.ptr(), 4);
            return flag[0] == 0;
        }
    }

    private CUdeviceptr state(Tensor state, String op) {
        CUdeviceptr p = ptr(state, op, "state");
        if (state.numel() != STEP_STATE_SIZE) {
            throw new IllegalArgumentException("OptimizerKernels." + op + ": state must have " + STEP_STATE_SIZE
                    + " elements, got " + state.numel());
        }
        return p;
    }

    @Override
    public void unscaleToState(Tensor[] grads, Tensor state) {
        CUdeviceptr st = state(state, "unscaleToState");
        JCudaDriver.cuMemsetD32Async(st.withByteOffset(4L * FOUND_INF), 0, 1, ctx.stream()); // 0.0f
        for (int i = 0; i < grads.length; i++) {
            CUdeviceptr p = ptr(grads[i], "unscaleToState", "grads[" + i + "]");
            if (grads[i].numel() > 0) CudaKernels.unscaleFromState(ctx, p, grads[i].numel(), st);
        }
    }

    @Override
    public void clipToState(Tensor[] grads, Tensor state, double maxNorm) {
        CUdeviceptr st = state(state, "clipToState");
        CUdeviceptr sumsq = st.withByteOffset(4L * SUM_SQUARES);
        List<CUdeviceptr> ptrs = new ArrayList<>();
        List<Integer> sizes = new ArrayList<>();
        for (int i = 0; i < grads.length; i++) {
            CUdeviceptr p = ptr(grads[i], "clipToState", "grads[" + i + "]");
            if (grads[i].numel() == 0) continue;
            ptrs.add(p);
            sizes.add(grads[i].numel());
        }
        if (ptrs.isEmpty()) {
            JCudaDriver.cuMemsetD32Async(sumsq, 0, 1, ctx.stream());
            return;
        }
        CudaKernels.clipSumSquares(ctx, sumsq, ptrs.toArray(new CUdeviceptr[0]), sizes.stream().mapToInt(Integer::intValue).toArray());
        if (maxNorm > 0) {
            for (int i = 0; i < ptrs.size(); i++) CudaKernels.clipScale(ctx, ptrs.get(i), sizes.get(i), sumsq, (float) maxNorm);
        }
    }

    @Override
    public void adamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor state, double beta1, double beta2, double eps,
            double weightDecay, boolean decoupled) {
        int n = param.numel();
        if (grad.numel() != n || m.numel() != n || v.numel() != n) {
            throw new IllegalArgumentException("OptimizerKernels.adamUpdate: grad, m and v must have " + n
                    + " elements like param, got " + grad.numel() + ", " + m.numel() + ", " + v.numel());
        }
        CUdeviceptr p = ptr(param, "adamUpdate", "param"), g = ptr(grad, "adamUpdate", "grad");
        CUdeviceptr pm = ptr(m, "adamUpdate", "m"), pv = ptr(v, "adamUpdate", "v");
        CUdeviceptr st = state(state, "adamUpdate");
        if (n == 0) return;
        CudaKernels.adamwUpdateFromState(ctx, p, g, pm, pv, n, st, (float) beta1, (float) beta2, (float) eps,
                (float) weightDecay, decoupled);
    }

    /** One float from the device after the work enqueued so far. */
    private float readFloat(CUdeviceptr p) {
        float[] v = new float[1];
        ctx.synchronize();
        JCudaDriver.cuMemcpyDtoH(Pointer.to(v), p, 4);
        return v[0];
    }
}
