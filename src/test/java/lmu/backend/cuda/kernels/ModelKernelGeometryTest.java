package lmu.backend.cuda.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import lmu.backend.cuda.LaunchGeometry;
import lmu.speech.ctc.CtcLoss;
import org.junit.jupiter.api.Test;

class ModelKernelGeometryTest {
    @Test
    void ctcThreadsCoverTheStatesInWarpsBetween64And512() {
        assertEquals(64, ModelKernelGeometry.ctcThreads(1));
        assertEquals(64, ModelKernelGeometry.ctcThreads(64));
        assertEquals(96, ModelKernelGeometry.ctcThreads(65));
        assertEquals(224, ModelKernelGeometry.ctcThreads(201)); // L = 100
        assertEquals(512, ModelKernelGeometry.ctcThreads(801)); // beyond 512 the kernel loops
        for (int s = 1; s < 3000; s += 7) {
            int t = ModelKernelGeometry.ctcThreads(s);
            assertEquals(0, t % 32, "multiple of 32 for S " + s);
            assertTrue(t >= Math.min(s, 512) && t <= 512, "S " + s + " -> " + t);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelKernelGeometry.ctcThreads(0));
        assertTrue(e.getMessage().contains("states : 0"), e.getMessage());
    }

    @Test
    void ctcSharedMemoryMatchesTheKernelsLayout() {
        // forward: two float rows + an int row of S; backward: three float rows + two int rows of S + V ints
        assertEquals(4 * (2 * 201 + 201), ModelKernelGeometry.ctcForwardSharedBytes(201));
        assertEquals(4 * (3 * 201 + 2 * 201 + 29), ModelKernelGeometry.ctcBackwardSharedBytes(201, 29));
    }

    @Test
    void lmuRecurrentThreadsHoldFourHiddenUnitsEach() {
        assertEquals(256, ModelKernelGeometry.lmuRecurrentThreads(1));
        assertEquals(256, ModelKernelGeometry.lmuRecurrentThreads(384));
        assertEquals(288, ModelKernelGeometry.lmuRecurrentThreads(1025 + 100));
        assertEquals(1024, ModelKernelGeometry.lmuRecurrentThreads(4096));
        for (int h = 1; h <= 4096; h += 13) {
            int t = ModelKernelGeometry.lmuRecurrentThreads(h);
            assertTrue(4 * t >= h && t % 32 == 0 && t <= 1024, "H " + h + " -> " + t);
        }
        assertThrows(IllegalArgumentException.class, () -> ModelKernelGeometry.lmuRecurrentThreads(4097));
        assertThrows(IllegalArgumentException.class, () -> ModelKernelGeometry.lmuRecurrentThreads(0));
    }

    @Test
    void lmuSystemMatrixStaysOnChipWhenItFits() {
        int optin = LaunchGeometry.Limits.SM80_SM90.maxSharedPerBlockOptin(); // 163 KiB
        // the seed model: H 384, K 1, d 192: 147 KiB of Abar + 3 KiB of state
        assertEquals(4L * (2 * 192 + 384 + 1), ModelKernelGeometry.lmuRecurrentStateBytes(384, 1, 192, false));
        assertEquals(4L * (2 * 192 + 2 * 384 + 1), ModelKernelGeometry.lmuRecurrentStateBytes(384, 1, 192, true));
        assertTrue(ModelKernelGeometry.lmuMatrixShared(384, 1, 192, true, optin));
        assertFalse(ModelKernelGeometry.lmuMatrixShared(384, 1, 256, false, optin)); // 256 KiB of Abar
        assertTrue(ModelKernelGeometry.lmuMatrixShared(384, 1, 256, false, 1 << 30));
    }

    @Test
    void tileCountsCoverEveryFrame() {
        assertEquals(1, ModelKernelGeometry.convFrameBlocks(1));
        assertEquals(1, ModelKernelGeometry.convFrameBlocks(64));
        assertEquals(2, ModelKernelGeometry.convFrameBlocks(65));
        assertEquals(3, ModelKernelGeometry.convCoefficientBlocks(192));
        assertEquals(7, ModelKernelGeometry.attentionQueryBlocks(200));
        assertEquals(4, ModelKernelGeometry.attentionKeyBlocks(200));
        assertEquals(96 * 200 * 6 / 4, ModelKernelGeometry.attentionDotBlocks(96, 200, 6));
        assertEquals(1, ModelKernelGeometry.attentionDotBlocks(1, 1, 1));
    }

    @Test
    void attentionSupportsHeadDimensions32And64() {
        assertEquals("hd64", ModelKernelGeometry.attentionVariant(64));
        assertEquals("hd32", ModelKernelGeometry.attentionVariant(32));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelKernelGeometry.attentionVariant(48));
        assertTrue(e.getMessage().contains("head dimension : 48"), e.getMessage());
    }

    @Test
    void ctcStridesFollowTheLayout() {
        // (B, T, V) = (3, 5, 7): element (b, t, v) at b*35 + t*7 + v; time-major at t*21 + b*7 + v
        assertArrayEquals(new long[] {35, 7}, CudaCtcLoss.strides(CtcLoss.Layout.BATCH_MAJOR, 3, 5, 7));
        assertArrayEquals(new long[] {7, 21}, CudaCtcLoss.strides(CtcLoss.Layout.TIME_MAJOR, 3, 5, 7));
        assertEquals(0, CudaCtcLoss.reductionCode(CtcLoss.Reduction.MEAN));
        assertEquals(1, CudaCtcLoss.reductionCode(CtcLoss.Reduction.SUM));
        assertEquals(2, CudaCtcLoss.reductionCode(CtcLoss.Reduction.NONE));
    }

    @Test
    void attentionScaleIsOneOverSqrtHeadDim() {
        assertEquals(0.125f, CudaAttention.scale(64));
        assertEquals((float) (1 / Math.sqrt(32)), CudaAttention.scale(32));
    }

    @Test
    void convFftLengthIsTheSmallestPowerOfTwoAtLeast2TMinus1() {
        assertEquals(4, ModelKernelGeometry.convFftLog2(1)); // N 16 at least
        assertEquals(4, ModelKernelGeometry.convFftLog2(8));
        assertEquals(5, ModelKernelGeometry.convFftLog2(9)); // 2T - 1 = 17
        assertEquals(12, ModelKernelGeometry.convFftLog2(1500));
        assertEquals(12, ModelKernelGeometry.convFftLog2(2048)); // 4095
        assertEquals(13, ModelKernelGeometry.convFftLog2(2049));
        assertEquals(13, ModelKernelGeometry.convFftLog2(3000));
        assertEquals(13, ModelKernelGeometry.convFftLog2(4096));
        for (int t = 9; t <= 4096; t++) {
            long n = 1L << ModelKernelGeometry.convFftLog2(t);
            assertTrue(n >= 2L * t - 1 && n / 2 < 2L * t - 1, "T " + t + " -> N " + n);
            // H cut at N/2 rows keeps every lag < T and wraps onto no frame < T
            int rows = ModelKernelGeometry.convFftResponseRows(1 << 20, ModelKernelGeometry.convFftLog2(t));
            assertTrue(rows >= t && rows + t <= n, "T " + t + ": " + rows + " rows of H for N " + n);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelKernelGeometry.convFftLog2(4097));
        assertTrue(e.getMessage().contains("frames : 4097 (expected: 1 to 4096)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ModelKernelGeometry.convFftLog2(0));
        assertThrows(IllegalArgumentException.class, () -> ModelKernelGeometry.convFftLanes(14));
        assertThrows(IllegalArgumentException.class, () -> ModelKernelGeometry.convFftLanes(3));
    }

    @Test
    void convFftBuffersFitTheSharedMemoryOfSm80AndSm90() {
        int optin = LaunchGeometry.Limits.SM80_SM90.maxSharedPerBlockOptin();
        for (int log2 = ModelKernelGeometry.CONV_FFT_MIN_LOG2; log2 <= 13; log2++) {
            int lanes = ModelKernelGeometry.convFftLanes(log2);
            assertEquals(ModelKernelGeometry.CONV_FFT_BUFFER, lanes << log2);
            // the highest padded index: a = lanes (N + 1) - 1 at a + a / 16
            int last = lanes * ((1 << log2) + 1) - 1;
            assertTrue(ModelKernelGeometry.convFftSharedBytes(log2, false) >= 8 * (last + last / 16 + 1), "N 2^" + log2);
            assertEquals(ModelKernelGeometry.convFftSharedBytes(log2, false) + 8 * ((1 << log2) / 2 + 1),
                    ModelKernelGeometry.convFftSharedBytes(log2, true));
            assertTrue(ModelKernelGeometry.convFftSharedBytes(log2, true) <= optin, "N 2^" + log2);
        }
        assertEquals(8 * (8193 + 512 + 1), ModelKernelGeometry.convFftSharedBytes(13, false)); // 68 KiB
        assertEquals(8 * (8704 + 544 + 1), ModelKernelGeometry.convFftSharedBytes(4, false)); // 512 lanes of 17
        assertEquals(8 * (8193 + 512 + 1 + 4097), ModelKernelGeometry.convFftSharedBytes(13, true)); // 100 KiB
    }

    @Test
    void convFftSlicesCoverEveryColumnPairOnce() {
        for (int log2 = ModelKernelGeometry.CONV_FFT_MIN_LOG2; log2 <= 13; log2++) {
            int lanes = ModelKernelGeometry.convFftLanes(log2);
            int pps = ModelKernelGeometry.convFftPairsPerSlice(log2);
            assertEquals(0, pps % lanes, "whole rounds of lanes");
            assertTrue(pps >= ModelKernelGeometry.CONV_FFT_PAIRS_PER_SLICE && pps < ModelKernelGeometry.CONV_FFT_PAIRS_PER_SLICE + lanes);
            for (int d : new int[] {1, 2, 7, 33, 64, 192, 193}) {
                int pairs = (d + 1) / 2, slices = ModelKernelGeometry.convFftSlices(d, log2);
                assertTrue(slices * pps >= pairs && (slices - 1) * pps < pairs, "d " + d + " N 2^" + log2);
            }
        }
        assertEquals(6, ModelKernelGeometry.convFftSlices(192, 13)); // seed: 96 pairs, 16 per block
        assertEquals(48, ModelKernelGeometry.convFftBlocks(192, 12)); // 2 lanes: 4 columns per block
        assertEquals(96, ModelKernelGeometry.convFftBlocks(192, 13));
        assertEquals(200, ModelKernelGeometry.convFftResponseRows(200, 13));
        assertEquals(4096, ModelKernelGeometry.convFftResponseRows(5000, 13));
    }
}
