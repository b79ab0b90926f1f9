package lmu.backend.cuda.kernels;

import jcuda.driver.CUdeviceptr;
import lmu.backend.cuda.CudaContext;
import lmu.backend.cuda.Dim3;
import lmu.backend.cuda.Launch;
import lmu.util.Checks;

/**
 * Launchers of {@code kernels/lmu_conv.cu}: the parallel LMU's causal convolution with the impulse
 * response H (what {@link lmu.nn.lmu.LegendreConvolution} computes), direct Toeplitz form, padding
 * fused (frames t &ge; lengths[b] of u are not read, of m and du written as 0). fp32, row-major.
 * Asynchronous on the context's stream.
 */
public final class CudaLegendreConvolution {
    private CudaLegendreConvolution() {}

    /**
     * {@code m[b, t, k d + i] = sum_{lag <= t} H[lag, i] u[b, t - lag, k]}.
     *
     * @param m output, shape (B, T, K d)
     * @param u input, shape (B, T, K)
     * @param h impulse response, shape (hLength, d), H[lag] = Abar^lag Bbar
     * @param lengths int32, shape (B), each in [0, min(T, hLength)] (not checked on the device)
     * @param channels K = memory_d
     * @param order d
     * @param hLength rows of H
     */
    public static void forward(CudaContext ctx, CUdeviceptr m, CUdeviceptr u, CUdeviceptr h, CUdeviceptr lengths, int batch,
            int frames, int channels, int order, int hLength) {
        check(batch, frames, channels, order, hLength);
        Launch.kernel(ctx, "lmu_conv", "lmu_conv_forward_kernel")
                .grid(new Dim3(ModelKernelGeometry.convCoefficientBlocks(order), ModelKernelGeometry.convFrameBlocks(frames),
                        batch * channels))
                .block(ModelKernelGeometry.CONV_THREADS).ptr(m).ptr(u).ptr(h).ptr(lengths).i32(frames).i32(channels)
                .i32(order).i32(hLength).run();
    }

    /**
     * {@code du[b, s, k] = sum_{s <= t < len_b} sum_i H[t - s, i] dm[b, t, k d + i]} (written).
     *
     * @param du output, shape (B, T, K)
     * @param dm gradient with respect to m, shape (B, T, K d); padded frames ignored
     */
    public static void backward(CudaContext ctx, CUdeviceptr du, CUdeviceptr dm, CUdeviceptr h, CUdeviceptr lengths,
            int batch, int frames, int channels, int order, int hLength) {
        check(batch, frames, channels, order, hLength);
        Launch.kernel(ctx, "lmu_conv", "lmu_conv_backward_kernel")
                .grid(new Dim3(ModelKernelGeometry.convFrameBlocks(frames), batch * channels, 1))
                .block(ModelKernelGeometry.CONV_THREADS).ptr(du).ptr(dm).ptr(h).ptr(lengths).i32(frames).i32(channels)
                .i32(order).i32(hLength).run();
    }

    private static void check(int batch, int frames, int channels, int order, int hLength) {
        Checks.positive("LegendreConvolution batch", batch);
        Checks.positive("LegendreConvolution frames", frames);
        Checks.positive("LegendreConvolution channels", channels);
        Checks.positive("LegendreConvolution order", order);
        Checks.positive("LegendreConvolution hLength", hLength);
        if ((long) batch * channels > 65535) {
            throw new IllegalArgumentException("LegendreConvolution: B * K : " + (long) batch * channels
                    + " (expected: <= 65535, the grid's y/z limit)");
        }
    }
}
