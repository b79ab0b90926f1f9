package lmu.backend.cuda.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import lmu.util.Rng;
import org.junit.jupiter.api.Test;

/** The host side of the attention kernels' dropout arguments (no GPU needed). */
class CudaAttentionTest {
    /** The kernels keep element i when (Rng.bits(seed, i) >>> 11) >= threshold: exactly Rng.uniform(seed, i) >= p. */
    @Test
    void thresholdGivesTheCpuKeepRule() {
        for (double p : new double[] {0.1, 0.5, 0.37, 1e-9}) {
            long thr = CudaAttention.threshold(p);
            for (long i = 0; i < 20_000; i++) {
                boolean kernel = (Rng.bits(42, i) >>> 11) >= thr;
                assertEquals(Rng.uniform(42, i) >= p, kernel, "p " + p + " counter " + i);
            }
        }
        assertEquals(0, CudaAttention.threshold(0)); // no dropout: the kernels skip the hash
        assertEquals((long) Math.ceil(0.1 * 0x1.0p53), CudaAttention.threshold(0.1));
        assertEquals((float) (1 / (1 - 0.1)), CudaAttention.keepScale(0.1));
        assertEquals(1f, CudaAttention.keepScale(0));
    }

    @Test
    void badProbabilitiesAndHeadDimensionsAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaAttention.threshold(1));
        assertTrue(e.getMessage().contains("attention: p : 1.0 (expected: 0 <= p < 1)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CudaAttention.threshold(Double.NaN));
        assertTrue(CudaAttention.supportsHeadDim(32) && CudaAttention.supportsHeadDim(64));
        assertFalse(CudaAttention.supportsHeadDim(48) || CudaAttention.supportsHeadDim(128) || CudaAttention.supportsHeadDim(16));
    }
}
