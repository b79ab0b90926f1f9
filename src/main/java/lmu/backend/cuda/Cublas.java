package lmu.backend.cuda;

import static org.bytedeco.cuda.global.cublas.*;

import jcuda.driver.CUdeviceptr;
import lmu.tensor.DType;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * cuBLAS through the JavaCPP presets ({@code org.bytedeco:cuda}, {@code libcublas.so.13}): one
 * handle bound to the context's stream, fp32 strided-batched products (TF32 tensor cores when
 * asked) and fp16/bf16 ones with fp32 accumulation ({@link #gemmStridedBatchedEx}). Loading this class loads the native libraries; {@link CudaMatmul} does that inside a
 * try and falls back to {@code kernels/gemm.cu} with the reason.
 */
final class Cublas implements AutoCloseable {
    private final cublasContext handle = new cublasContext();
    private final FloatPointer alpha = new FloatPointer(1f); // host memory: the default pointer mode
    private final FloatPointer beta = new FloatPointer(0f);
    private final CudaContext ctx;
    private boolean closed;

    /**
     * @throws CudaException when a cuBLAS call fails (named with its status)
     * @throws UnsatisfiedLinkError or another LinkageError when libcublas cannot be loaded
     */
    Cublas(CudaContext ctx, boolean tf32) {
        this.ctx = ctx;
        ctx.makeCurrent(); // cuBLAS uses the runtime API's current context: the same primary context
        check("cublasCreate_v2", cublasCreate_v2(handle), "");
        check("cublasSetStream_v2", cublasSetStream_v2(handle, new CUstream_st(at(DevicePointers.handle(ctx.stream())))), "");
        check("cublasSetMathMode", cublasSetMathMode(handle, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH), "");
    }

    /**
     * A JavaCPP pointer at a raw address (not owned: nothing is freed). The parameter is not named
     * {@code address}: inside the anonymous class that name is the inherited field.
     */
    static Pointer at(long raw) {
        return new Pointer() {
            {
                address = raw;
            }
        };
    }

    /**
     * Row-major {@code C[z] = op(A[z]) · op(B[z]) + beta · C[z]} for z &lt; batch, as {@code
     * lmu.backend.cpu.Gemm.sgemmStridedBatched}: computed as the column-major product {@code C^T =
     * op(B)^T · op(A)^T}.
     */
    void sgemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, CUdeviceptr a, int lda, long strideA,
            CUdeviceptr b, int ldb, long strideB, float betaValue, CUdeviceptr c, long strideC, int batch) {
        beta.put(0, betaValue);
        int rc = cublasSgemmStridedBatched(handle, transB ? CUBLAS_OP_T : CUBLAS_OP_N, transA ? CUBLAS_OP_T : CUBLAS_OP_N,
                n, m, k, alpha, new FloatPointer(at(DevicePointers.address(b))), ldb, strideB,
                new FloatPointer(at(DevicePointers.address(a))), lda, strideA, beta,
                new FloatPointer(at(DevicePointers.address(c))), n, strideC, batch);
        check("cublasSgemmStridedBatched", rc, String.format(java.util.Locale.ROOT,
                "batch %d, M %d, N %d, K %d, transA %b, transB %b, lda %d, ldb %d, strideA %d, strideB %d",
                batch, m, n, k, transA, transB, lda, ldb, strideA, strideB));
    }

    /**
     * As {@link #sgemmStridedBatched} with operands of dtype {@code ab} and a result of dtype {@code
     * cType} (a combination of {@link CublasTypes#operandType}), accumulated in fp32 ({@code
     * CUBLAS_COMPUTE_32F}, tensor cores for 16-bit operands); alpha and beta are fp32.
     */
    void gemmStridedBatchedEx(DType ab, DType cType, boolean transA, boolean transB, int m, int n, int k, CUdeviceptr a,
            int lda, long strideA, CUdeviceptr b, int ldb, long strideB, float betaValue, CUdeviceptr c, long strideC,
            int batch) {
        CublasTypes.operandType(ab, ab, cType);
        int t = CublasTypes.dataType(ab), tc = CublasTypes.dataType(cType);
        beta.put(0, betaValue);
        int rc = cublasGemmStridedBatchedEx(handle, transB ? CUBLAS_OP_T : CUBLAS_OP_N, transA ? CUBLAS_OP_T : CUBLAS_OP_N,
                n, m, k, alpha, at(DevicePointers.address(b)), t, ldb, strideB, at(DevicePointers.address(a)), t, lda, strideA,
                beta, at(DevicePointers.address(c)), tc, n, strideC, batch, CublasTypes.COMPUTE_32F, CublasTypes.GEMM_DEFAULT);
        check("cublasGemmStridedBatchedEx", rc, String.format(java.util.Locale.ROOT,
                "%s operands, %s result, batch %d, M %d, N %d, K %d, transA %b, transB %b, lda %d, ldb %d, strideA %d, strideB %d",
                ab, cType, batch, m, n, k, transA, transB, lda, ldb, strideA, strideB));
    }

    private void check(String call, int status, String what) {
        if (status != CUBLAS_STATUS_SUCCESS) {
            String name;
            try {
                name = cublasGetStatusString(status).getString();
            } catch (RuntimeException | LinkageError e) {
                name = "cuBLAS status " + status;
            }
            throw new CudaException(call, status, name, null, null, "cuBLAS on " + ctx + (what.isEmpty() ? "" : ", " + what));
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        cublasDestroy_v2(handle);
        alpha.close();
        beta.close();
    }
}
