package lmu.backend.cuda.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import lmu.nn.lmu.LegendreConvolution;
import org.junit.jupiter.api.Test;

class CudaLmuKernelsTest {
    @Test
    void everyLayerMethodMapsToTheSameNamedCudaForm() {
        assertEquals(CudaLegendreConvolution.Method.AUTO, CudaLmuKernels.cudaMethod(LegendreConvolution.Method.AUTO));
        assertEquals(CudaLegendreConvolution.Method.DIRECT, CudaLmuKernels.cudaMethod(LegendreConvolution.Method.DIRECT));
        assertEquals(CudaLegendreConvolution.Method.FFT, CudaLmuKernels.cudaMethod(LegendreConvolution.Method.FFT));
        assertEquals(LegendreConvolution.Method.values().length, CudaLegendreConvolution.Method.values().length);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaLmuKernels.cudaMethod(null));
        assertTrue(e.getMessage().contains("CudaLmuKernels") && e.getMessage().contains("got null"), e.getMessage());
    }
}
