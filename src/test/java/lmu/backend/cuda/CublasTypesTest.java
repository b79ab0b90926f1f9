package lmu.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import lmu.tensor.DType;
import org.junit.jupiter.api.Test;

/**
 * The cuBLAS type mapping and the dtype rules of products; no native library is loaded (the
 * org.bytedeco values below are compile-time constants).
 */
class CublasTypesTest {
    @Test
    void dataTypesAreThoseOfTheCudaHeaders() {
        assertEquals(org.bytedeco.cuda.global.cudart.CUDA_R_32F, CublasTypes.dataType(DType.F32));
        assertEquals(org.bytedeco.cuda.global.cudart.CUDA_R_16F, CublasTypes.dataType(DType.F16));
        assertEquals(org.bytedeco.cuda.global.cudart.CUDA_R_16BF, CublasTypes.dataType(DType.BF16));
        assertEquals(org.bytedeco.cuda.global.cublas.CUBLAS_COMPUTE_32F, CublasTypes.COMPUTE_32F);
        assertEquals(org.bytedeco.cuda.global.cublas.CUBLAS_GEMM_DEFAULT, CublasTypes.GEMM_DEFAULT);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CublasTypes.dataType(DType.F64));
        assertTrue(e.getMessage().contains("F64"), e.getMessage());
    }

    @Test
    void productsTakeOneOperandTypeAndWriteF32OrThatType() {
        assertEquals(DType.F32, CublasTypes.operandType(DType.F32, DType.F32, DType.F32));
        assertEquals(DType.F16, CublasTypes.operandType(DType.F16, DType.F16, DType.F32));
        assertEquals(DType.F16, CublasTypes.operandType(DType.F16, DType.F16, DType.F16));
        assertEquals(DType.BF16, CublasTypes.operandType(DType.BF16, DType.BF16, DType.F32));
        assertEquals(DType.BF16, CublasTypes.operandType(DType.BF16, DType.BF16, DType.BF16));
    }

    @Test
    void otherCombinationsAreRejectedWithTheTypesNamed() {
        DType[][] bad = {
            {DType.F16, DType.F32, DType.F32}, {DType.F32, DType.BF16, DType.F32}, {DType.F16, DType.BF16, DType.F32},
            {DType.F32, DType.F32, DType.F16}, {DType.F16, DType.F16, DType.BF16}, {DType.BF16, DType.BF16, DType.F16},
            {DType.F64, DType.F64, DType.F64},
        };
        for (DType[] c : bad) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CublasTypes.operandType(c[0], c[1], c[2]));
            String want = "got " + c[0].name().toLowerCase() + "·" + c[1].name().toLowerCase() + " -> " + c[2].name().toLowerCase();
            assertTrue(e.getMessage().startsWith("CudaBackend.matmul:") && e.getMessage().endsWith(want), e.getMessage());
        }
    }

    @Test
    void deviceStorageSizes() {
        assertTrue(CudaStorage.isDeviceType(DType.F32) && CudaStorage.isDeviceType(DType.F16) && CudaStorage.isDeviceType(DType.BF16));
        assertTrue(!CudaStorage.isDeviceType(DType.F64));
        assertEquals(4, CudaStorage.bytesFor(DType.F16, 0), "at least one word");
        assertEquals(4, CudaStorage.bytesFor(DType.F16, 1), "whole words: element access reads within the block");
        assertEquals(4, CudaStorage.bytesFor(DType.BF16, 2));
        assertEquals(8, CudaStorage.bytesFor(DType.F16, 3));
        assertEquals(12, CudaStorage.bytesFor(DType.F32, 3));
        assertEquals(2L * 3_000_000_001L + 2, CudaStorage.bytesFor(DType.F16, 3_000_000_001L));
    }

    @Test
    void castKernelFormatCodes() {
        assertEquals(0, CudaBackend.formatCode(DType.F16));
        assertEquals(1, CudaBackend.formatCode(DType.BF16));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaBackend.formatCode(DType.F32));
        assertTrue(e.getMessage().contains("F32 is not a 16-bit format"), e.getMessage());
    }
}
