package lmu.backend.cuda.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import lmu.backend.cuda.kernels.CudaLegendreConvolution.Method;
import org.junit.jupiter.api.Test;

/** The choice between the direct and the FFT form (the kernels themselves run in ModelKernelChecks on a GPU). */
class CudaLegendreConvolutionTest {
    @Test
    void autoTakesTheFftFormFromTheCrossoverToTheLargestFftLength() {
        assertEquals(Method.DIRECT, CudaLegendreConvolution.resolve(Method.AUTO, 1));
        assertEquals(Method.DIRECT, CudaLegendreConvolution.resolve(Method.AUTO, CudaLegendreConvolution.FFT_MIN_FRAMES - 1));
        assertEquals(Method.FFT, CudaLegendreConvolution.resolve(Method.AUTO, CudaLegendreConvolution.FFT_MIN_FRAMES));
        assertEquals(Method.FFT, CudaLegendreConvolution.resolve(Method.AUTO, 3000));
        assertEquals(Method.FFT, CudaLegendreConvolution.resolve(Method.AUTO, 4096));
        assertEquals(Method.DIRECT, CudaLegendreConvolution.resolve(Method.AUTO, 4097)); // beyond the FFT buffer
        assertEquals(Method.DIRECT, CudaLegendreConvolution.resolve(Method.DIRECT, 3000));
        assertEquals(Method.FFT, CudaLegendreConvolution.resolve(Method.FFT, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CudaLegendreConvolution.resolve(Method.FFT, 5000));
        assertTrue(e.getMessage().contains("FFT form : 5000 frames (expected: <= 4096"), e.getMessage());
    }

    @Test
    void crossoverIsWhereTheCostModelFavoursTheFftFormFromThenOn() {
        // the model's ratio (direct / FFT) at lengths worked out by hand:
        // T 3000: direct 3000 * 3001 / 128 = 70335.9 clocks; FFT N 8192, 7 stages:
        // (11 * 8192 * 7 + 4 * 8192 + 12000) / 89.6 = 7539.3 clocks
        assertEquals(70335.9375 / ((11.0 * 8192 * 7 + 4 * 8192 + 12000) / 89.6), CudaLegendreConvolution.directToFftCost(3000), 1e-9);
        assertEquals(256 * 257 / 128.0 / ((11.0 * 512 * 5 + 4 * 512 + 1024) / 89.6), CudaLegendreConvolution.directToFftCost(256), 1e-9);
        for (int t = CudaLegendreConvolution.FFT_MIN_FRAMES; t <= CudaLegendreConvolution.FFT_MAX_FRAMES; t++) {
            assertTrue(CudaLegendreConvolution.directToFftCost(t) > 1.15, "T " + t + ": " + CudaLegendreConvolution.directToFftCost(t));
        }
        // just below, the direct form is the cheaper one somewhere (N doubles at 257)
        assertTrue(CudaLegendreConvolution.directToFftCost(257) < 1);
        assertTrue(CudaLegendreConvolution.directToFftCost(288) < 1);
        assertTrue(CudaLegendreConvolution.directToFftCost(3000) > 9);
    }
}
