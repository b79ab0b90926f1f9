package lmu.backend.cuda;

import java.util.Locale;
import jcuda.driver.CUdeviceptr;
import lmu.tensor.DType;

/**
 * fp32 matrix products on one context: cuBLAS ({@link Cublas}) when its library loads, else the
 * tiled kernel of {@code kernels/gemm.cu}, with the reason kept for {@link #implementation()}.
 * {@code -Dlmu.cuda.matmul=kernel} forces the kernel; {@code -Dlmu.cuda.tf32=false} keeps cuBLAS
 * in full fp32 (TF32 tensor cores otherwise; parity uses {@link Tolerance#TF32} then).
 */
final class CudaMatmul implements AutoCloseable {
    /** {@code cublas} (default) or {@code kernel}. */
    static final String IMPLEMENTATION_PROPERTY = "lmu.cuda.matmul";
    static final String TF32_PROPERTY = "lmu.cuda.tf32";

    private static final int TILE = 16;
    private static final int MAX_GRID_Z = 65535;

    private final CudaContext ctx;
    private final Cublas cublas;
    private final String implementation;
    private final boolean tf32;

    /** @param useCublas try cuBLAS (fall back to the kernel when it cannot be loaded) */
    CudaMatmul(CudaContext ctx, boolean useCublas, boolean tf32) {
        this.ctx = ctx;
        Cublas c = null;
        String impl;
        if (useCublas) {
            try {
                c = new Cublas(ctx, tf32);
                impl = "cuBLAS (org.bytedeco:cuda" + (tf32 ? ", TF32 tensor cores)" : ", fp32)");
            } catch (LinkageError | RuntimeException e) {
                impl = "kernels/gemm.cu, because cuBLAS could not be used: " + e
                        + " (put libcublas.so.13 of the CUDA 13 toolkit on LD_LIBRARY_PATH)";
            }
        } else {
            impl = "kernels/gemm.cu (-D" + IMPLEMENTATION_PROPERTY + "=kernel)";
        }
        this.cublas = c;
        this.implementation = impl;
        this.tf32 = c != null && tf32;
    }

    /** The settings from the system properties. */
    static CudaMatmul fromProperties(CudaContext ctx) {
        String impl = System.getProperty(IMPLEMENTATION_PROPERTY, "cublas").trim().toLowerCase(Locale.ROOT);
        if (!impl.equals("cublas") && !impl.equals("kernel")) {
            throw new IllegalArgumentException("CudaMatmul: -D" + IMPLEMENTATION_PROPERTY + " must be cublas or kernel, got '"
                    + impl + "'");
        }
        return new CudaMatmul(ctx, impl.equals("cublas"), !"false".equalsIgnoreCase(System.getProperty(TF32_PROPERTY)));
    }

    /** What computes the products, and why. */
    String implementation() {
        return implementation;
    }

    boolean usesCublas() {
        return cublas != null;
    }

    /** The precision of the products, for parity tolerances. */
    Tolerance tolerance() {
        return tf32 ? Tolerance.TF32 : Tolerance.F32;
    }

    /**
     * Row-major {@code C[z] = op(A[z]) · op(B[z]) + beta · C[z]}; argument meaning as {@code
     * lmu.backend.Backend.matmul}, leading dimensions {@code lda = transA ? m : k}, {@code ldb = transB ? k : n}.
     */
    void run(CUdeviceptr c, CUdeviceptr a, CUdeviceptr b, int batch, int m, int n, int k, boolean transA, boolean transB,
            boolean broadcastA, boolean broadcastB, float beta) {
        int lda = transA ? m : k, ldb = transB ? k : n;
        long strideA = broadcastA ? 0 : (long) m * k, strideB = broadcastB ? 0 : (long) k * n, strideC = (long) m * n;
        if (batch == 0 || m == 0 || n == 0) return;
        if (cublas != null) {
            cublas.sgemmStridedBatched(transA, transB, m, n, k, a, lda, strideA, b, ldb, strideB, beta, c, strideC, batch);
            return;
        }
        for (int z0 = 0; z0 < batch; z0 += MAX_GRID_Z) {
            int zs = Math.min(MAX_GRID_Z, batch - z0);
            Launch.kernel(ctx, "gemm", "gemm_kernel")
                    .grid(new Dim3(LaunchGeometry.blocksFor(n, TILE), LaunchGeometry.blocksFor(m, TILE), zs))
                    .block(new Dim3(TILE, TILE, 1))
                    .ptr(c.withByteOffset(4L * z0 * strideC)).ptr(a.withByteOffset(4L * z0 * strideA))
                    .ptr(b.withByteOffset(4L * z0 * strideB)).i32(m).i32(n).i32(k).i32(lda).i32(ldb).i64(strideA)
                    .i64(strideB).i32(transA ? 1 : 0).i32(transB ? 1 : 0).f32(beta).run();
        }
    }

    /**
     * As {@link #run} with operands of the 16-bit dtype {@code ab} (F16 or BF16) and a result of
     * dtype {@code out} (F32 or ab), accumulated in fp32 by cuBLAS.
     *
     * @throws IllegalStateException when cuBLAS is not in use (the caller widens the operands for the kernel)
     */
    void runHalf(DType ab, DType out, CUdeviceptr c, CUdeviceptr a, CUdeviceptr b, int batch, int m, int n, int k,
            boolean transA, boolean transB, boolean broadcastA, boolean broadcastB, float beta) {
        if (cublas == null) throw new IllegalStateException("CudaMatmul: " + ab + " products need cuBLAS, " + implementation);
        int lda = transA ? m : k, ldb = transB ? k : n;
        long strideA = broadcastA ? 0 : (long) m * k, strideB = broadcastB ? 0 : (long) k * n, strideC = (long) m * n;
        if (batch == 0 || m == 0 || n == 0) return;
        cublas.gemmStridedBatchedEx(ab, out, transA, transB, m, n, k, a, lda, strideA, b, ldb, strideB, beta, c, strideC, batch);
    }

    @Override
    public void close() {
        if (cublas != null) cublas.close();
    }
}
