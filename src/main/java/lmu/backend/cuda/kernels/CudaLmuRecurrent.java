package lmu.backend.cuda.kernels;

import jcuda.driver.CUdeviceptr;
import lmu.backend.cuda.CudaContext;
import lmu.backend.cuda.Launch;
import lmu.nn.lmu.Activation;
import lmu.util.Checks;

/**
 * Launchers of {@code kernels/lmu_recurrent.cu}: the recurrent LMU cell of {@link
 * lmu.nn.lmu.LmuRecurrent} as one persistent kernel over time per layer and direction (one block per
 * sequence), forward and backward through time. The step-independent products are the caller's
 * (matrix products before and after): {@code ux = x e_x + b_u}, {@code ax = x W_x + b_h} before the
 * forward; after the backward, every parameter gradient and dx from the returned dz and du (see the
 * {@code .cu} file's header for the formulas). All arrays fp32, row-major; weights (fan_in,
 * fan_out) as in {@link lmu.nn.lmu.LmuParameters}. Asynchronous on the context's stream.
 */
public final class CudaLmuRecurrent {
    private CudaLmuRecurrent() {}

    /**
     * Sizes of one layer.
     *
     * @param hidden H
     * @param memoryD K, memory channels
     * @param order d, Legendre coefficients per channel
     * @param activation f of h = f(...)
     */
    public record Shape(int hidden, int memoryD, int order, Activation activation) {
        /** @throws IllegalArgumentException when a size is not positive, H &gt; 4096 or f is null */
        public Shape {
            Checks.positive("LmuRecurrent hidden", hidden);
            Checks.positive("LmuRecurrent memoryD", memoryD);
            Checks.positive("LmuRecurrent order", order);
            ModelKernelGeometry.lmuRecurrentThreads(hidden);
            if (activation == null) throw new IllegalArgumentException("LmuRecurrent: activation : null");
        }

        int activationCode() {
            switch (activation) {
                case TANH:
                    return 0;
                case RELU:
                    return 1;
                default:
                    return 2;
            }
        }
    }

    /**
     * Runs the cell over every sequence.
     *
     * @param h output, shape (B, T, H), 0 at padded frames
     * @param m output, shape (B, T, K d), channel k d + i, 0 at padded frames
     * @param ux x e_x + b_u, shape (B, T, K)
     * @param ax x W_x + b_h, shape (B, T, H) (just b_h broadcast without W_x)
     * @param aBarTransposed Abar transposed, shape (d, d): element [j][i] = Abar[i][j]
     * @param bBar shape (d)
     * @param eh shape (H, K), or null (no hidden-to-memory)
     * @param em shape (K d, K), or null (no memory-to-memory)
     * @param wh shape (H, H), or null (no hidden-to-hidden)
     * @param wm shape (K d, H)
     * @param lengths int32, shape (B), each in [0, T]
     */
    public static void forward(CudaContext ctx, CUdeviceptr h, CUdeviceptr m, CUdeviceptr ux, CUdeviceptr ax,
            CUdeviceptr aBarTransposed, CUdeviceptr bBar, CUdeviceptr eh, CUdeviceptr em, CUdeviceptr wh, CUdeviceptr wm,
            CUdeviceptr lengths, int batch, int frames, Shape s) {
        launch(ctx, "lmu_recurrent_forward_kernel", false, batch, frames, s).ptr(h).ptr(m).ptr(ux).ptr(ax)
                .ptr(aBarTransposed).ptr(bBar).ptrOrNull(eh).ptrOrNull(em).ptrOrNull(wh).ptr(wm).ptr(lengths).i32(frames)
                .i32(s.hidden()).i32(s.memoryD()).i32(s.order()).i32(s.activationCode())
                .i32(matrixShared(ctx, s, false) ? 1 : 0).run();
    }

    /**
     * Backward through time: the gradients of the pre-activation (dz) and of the memory input (du)
     * at every frame, from which the caller's matrix products give the parameter gradients and dx.
     *
     * @param dz output, shape (B, T, H), 0 at padded frames
     * @param du output, shape (B, T, K), 0 at padded frames
     * @param dh gradient with respect to h, shape (B, T, H); padded frames ignored
     * @param h the forward's output, shape (B, T, H)
     * @param aBar Abar itself (not transposed), shape (d, d)
     */
    public static void backward(CudaContext ctx, CUdeviceptr dz, CUdeviceptr du, CUdeviceptr dh, CUdeviceptr h,
            CUdeviceptr aBar, CUdeviceptr bBar, CUdeviceptr eh, CUdeviceptr em, CUdeviceptr wh, CUdeviceptr wm,
            CUdeviceptr lengths, int batch, int frames, Shape s) {
        launch(ctx, "lmu_recurrent_backward_kernel", true, batch, frames, s).ptr(dz).ptr(du).ptr(dh).ptr(h).ptr(aBar)
                .ptr(bBar).ptrOrNull(eh).ptrOrNull(em).ptrOrNull(wh).ptr(wm).ptr(lengths).i32(frames).i32(s.hidden())
                .i32(s.memoryD()).i32(s.order()).i32(s.activationCode()).i32(matrixShared(ctx, s, true) ? 1 : 0).run();
    }

    private static boolean matrixShared(CudaContext ctx, Shape s, boolean backward) {
        return ModelKernelGeometry.lmuMatrixShared(s.hidden(), s.memoryD(), s.order(), backward,
                ctx.limits().maxSharedPerBlockOptin());
    }

    private static Launch launch(CudaContext ctx, String kernel, boolean backward, int batch, int frames, Shape s) {
        Checks.positive("LmuRecurrent batch", batch);
        Checks.positive("LmuRecurrent frames", frames);
        if (s == null) throw new IllegalArgumentException("LmuRecurrent: shape : null");
        long bytes = ModelKernelGeometry.lmuRecurrentStateBytes(s.hidden(), s.memoryD(), s.order(), backward);
        if (matrixShared(ctx, s, backward)) bytes += ModelKernelGeometry.lmuMatrixBytes(s.order());
        if (bytes > ctx.limits().maxSharedPerBlockOptin()) {
            throw new IllegalArgumentException("LmuRecurrent: state of " + s + " needs " + bytes
                    + " bytes of shared memory (expected: <= " + ctx.limits().maxSharedPerBlockOptin() + " on " + ctx + ")");
        }
        return Launch.kernel(ctx, "lmu_recurrent", kernel).grid(batch).block(ModelKernelGeometry.lmuRecurrentThreads(s.hidden()))
                .sharedBytes((int) bytes);
    }
}
