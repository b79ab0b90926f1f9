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
        // T 3000: direct 3000 * 3001 / 128 = 70335.9 clocks; FFT N 8192, 5 radix-8 stages:
        // (9 * 8192 * 5 + 4 * 8192 + 12000) / 108.8 = 3799.6 clocks
        assertEquals(70335.9375 / ((9.0 * 8192 * 5 + 4 * 8192 + 12000) / 108.8), CudaLegendreConvolution.directToFftCost(3000),
                1e-9);
        assertEquals(256 * 257 / 128.0 / ((9.0 * 512 * 3 + 4 * 512 + 1024) / 108.8), CudaLegendreConvolution.directToFftCost(256),
                1e-9);
        for (int t = CudaLegendreConvolution.FFT_MIN_FRAMES; t <= CudaLegendreConvolution.FFT_MAX_FRAMES; t++) {
            assertTrue(CudaLegendreConvolution.directToFftCost(t) > 2, "T " + t + ": " + CudaLegendreConvolution.directToFftCost(t));
        }
        // below, the direct form is the cheaper one at some lengths (N doubles at 65 and 129)
        assertTrue(CudaLegendreConvolution.directToFftCost(64) < 1);
        assertTrue(CudaLegendreConvolution.directToFftCost(129) < 1);
        assertTrue(CudaLegendreConvolution.directToFftCost(3000) > 18);
    }
}
