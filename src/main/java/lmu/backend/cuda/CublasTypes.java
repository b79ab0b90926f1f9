package lmu.backend.cuda;

import java.util.Locale;
import lmu.tensor.DType;

/**
 * The element types of cuBLAS products ({@code cublasGemmStridedBatchedEx}): which operand and
 * result dtypes a product may have, and the {@code cudaDataType} / {@code cublasComputeType_t}
 * values that name them. Plain numbers, so the rules can be checked without loading cuBLAS; {@code
 * CublasTypesTest} holds them to the constants of {@code org.bytedeco.cuda}.
 *
 * <p>The combinations are those cuBLAS runs with fp32 accumulation ({@link #COMPUTE_32F}): f32 ·
 * f32 → f32; f16 · f16 → f32 or f16; bf16 · bf16 → f32 or bf16.
 */
final class CublasTypes {
    private CublasTypes() {}

    /** {@code CUDA_R_32F}. */
    static final int CUDA_R_32F = 0;
    /** {@code CUDA_R_16F}. */
    static final int CUDA_R_16F = 2;
    /** {@code CUDA_R_16BF}. */
    static final int CUDA_R_16BF = 14;
    /** {@code CUBLAS_COMPUTE_32F}: fp32 accumulation (tensor cores for 16-bit inputs). */
    static final int COMPUTE_32F = 68;
    /** {@code CUBLAS_GEMM_DEFAULT}: cuBLAS picks the algorithm. */
    static final int GEMM_DEFAULT = -1;

    /**
     * The {@code cudaDataType} of a dtype.
     *
     * @throws IllegalArgumentException for F64 (no product of this backend takes it)
     */
    static int dataType(DType dtype) {
        return switch (dtype) {
            case F32 -> CUDA_R_32F;
            case F16 -> CUDA_R_16F;
            case BF16 -> CUDA_R_16BF;
            case F64 -> throw new IllegalArgumentException("CublasTypes: no cuBLAS product of this backend takes F64");
        };
    }

    /**
     * The common dtype of the operands of a product {@code out = a · b}, after checking the
     * combination.
     *
     * @return F32, F16 or BF16
     * @throws IllegalArgumentException unless a and b have the same dtype (F32, F16 or BF16) and out
     *     is F32 or that dtype
     */
    static DType operandType(DType a, DType b, DType out) {
        boolean ok = a == b && CudaStorage.isDeviceType(a) && (out == DType.F32 || out == a);
        if (!ok) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "CudaBackend.matmul: operands must be f32·f32 -> f32, f16·f16 -> f32|f16 or bf16·bf16 -> f32|bf16, got %s·%s -> %s",
                    name(a), name(b), name(out)));
        }
        return a;
    }

    private static String name(DType d) {
        return d.name().toLowerCase(Locale.ROOT);
    }
}
