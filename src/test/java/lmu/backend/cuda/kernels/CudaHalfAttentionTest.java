package lmu.backend.cuda.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import jcuda.driver.CUdeviceptr;
import lmu.backend.cuda.ParityCheck;
import lmu.tensor.DType;
import org.junit.jupiter.api.Test;

/** The host side of the tensor-core attention (attention_half.cu): geometry, names, argument checks (no GPU needed). */
class CudaHalfAttentionTest {
    private static final CUdeviceptr P = new CUdeviceptr();

    @Test
    void sixteenBitFormatsAndHeadDimensions32And64AreSupported() {
        for (DType f : new DType[] {DType.F16, DType.BF16}) {
            assertTrue(CudaHalfAttention.supports(f, 32) && CudaHalfAttention.supports(f, 64), f.toString());
            assertFalse(CudaHalfAttention.supports(f, 48) || CudaHalfAttention.supports(f, 128), f.toString());
        }
        assertFalse(CudaHalfAttention.supports(DType.F32, 64) || CudaHalfAttention.supports(DType.F64, 64));
    }

    @Test
    void variantsNameTheHeadDimensionAndTheFormat() {
        assertEquals("hd64_f16", ModelKernelGeometry.halfAttentionVariant(64, DType.F16));
        assertEquals("hd32_bf16", ModelKernelGeometry.halfAttentionVariant(32, DType.BF16));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelKernelGeometry.halfAttentionVariant(64, DType.F32));
        assertTrue(e.getMessage().contains("attention_half: format : F32 (expected: F16 or BF16)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelKernelGeometry.halfAttentionVariant(48, DType.F16));
        assertTrue(e.getMessage().contains("head dimension : 48 (expected: 32 or 64)"), e.getMessage());
    }

    /** 64 query rows per forward/dq block and 64 keys per dk/dv block, as the .cu's launch geometry note says. */
    @Test
    void blocksCoverTheFramesIn64RowTiles() {
        assertEquals(4, ModelKernelGeometry.halfAttentionQueryBlocks(200)); // the seed shape: 3 full tiles and 8 rows
        assertEquals(4, ModelKernelGeometry.halfAttentionKeyBlocks(200));
        assertEquals(1, ModelKernelGeometry.halfAttentionQueryBlocks(1));
        assertEquals(1, ModelKernelGeometry.halfAttentionQueryBlocks(64));
        assertEquals(2, ModelKernelGeometry.halfAttentionKeyBlocks(65));
    }

    /** Every kernel name the launchers build is an entry point instantiated in kernels/attention_half.cu. */
    @Test
    void launcherNamesAreTheKernelFilesEntryPoints() throws IOException {
        Path cu = Path.of("kernels/attention_half.cu");
        String src = Files.readString(cu);
        for (String kernel : new String[] {"forward", "backward_dot", "backward_dq", "backward_dkdv"}) {
            assertTrue(src.contains("extern \"C\" __global__ void __launch_bounds__(AH_THREADS) attention_half_" + kernel
                    + "_kernel_hd##D##_##S("), kernel);
        }
        for (DType f : new DType[] {DType.F16, DType.BF16}) {
            String type = f == DType.F16 ? "__half" : "__nv_bfloat16";
            for (int d : new int[] {32, 64}) {
                String suffix = ModelKernelGeometry.halfAttentionVariant(d, f);
                assertEquals("hd" + d + "_" + f.name().toLowerCase(java.util.Locale.ROOT), suffix);
                assertTrue(src.contains("AH_ENTRY_POINTS(" + d + ", " + type + ", " + suffix.substring(suffix.indexOf('_') + 1) + ")"),
                        suffix);
            }
        }
        // the tiles the launchers assume
        assertTrue(src.contains("#define AH_QT (AH_WARPS * 16)") && src.contains("#define AH_WARPS 4"));
        assertEquals(4 * 16, ModelKernelGeometry.HALF_ATTENTION_QUERY_TILE);
        assertEquals(4 * 16, ModelKernelGeometry.HALF_ATTENTION_KEY_TILE);
        assertEquals(4 * 32, ModelKernelGeometry.ATTENTION_THREADS);
    }

    /** Bad arguments are refused before anything is launched (no context is touched: it is null here). */
    @Test
    void badArgumentsAreRefusedBeforeALaunch() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaHalfAttention.forward(null, DType.F32,
                P, P, P, P, P, null, 2, 10, 2, 64, 0.125f, -1e4f, 0, 1));
        assertTrue(e.getMessage().contains("expected: F16 or BF16"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CudaHalfAttention.forward(null, DType.F16, P, P, P, P, P, null, 2, 10,
                2, 40, 0.125f, -1e4f, 0, 1));
        assertTrue(e.getMessage().contains("head dimension : 40"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CudaHalfAttention.forward(null, DType.F16, P, P, P, P, P, null, 0, 10,
                2, 64, 0.125f, -1e4f, 0, 1));
        assertTrue(e.getMessage().contains("attention_half batch"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CudaHalfAttention.forward(null, DType.BF16, P, P, P, P, P, null, 2,
                10, 70000, 64, 0.125f, -1e4f, 0, 1));
        assertTrue(e.getMessage().contains("H 70000 (expected: <= 65535 each)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CudaHalfAttention.forward(null, DType.BF16, P, P, P, P, P, null, 2,
                10, 2, 64, 0.125f, -1e4f, 1.0, 1));
        assertTrue(e.getMessage().contains("p : 1.0 (expected: 0 <= p < 1)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CudaHalfAttention.backward(null, DType.F16, P, null, P, P, P, P, P,
                P, P, null, 2, 10, 2, 64, 0.125f, -1e4f, 0, 1));
        assertTrue(e.getMessage().contains("attention_half: dk and dv must both be given or both be null, got dk null and dv given"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CudaHalfAttention.backward(null, DType.F64, P, P, P, P, P, P, P, P,
                P, null, 2, 10, 2, 64, 0.125f, -1e4f, 0, 1));
        assertTrue(e.getMessage().contains("format : F64"), e.getMessage());
        // nothing asked for: no launch, no context needed
        CudaHalfAttention.backward(null, DType.F16, null, null, null, P, P, P, P, P, P, null, 2, 10, 2, 64, 0.125f, -1e4f, 0, 1);
    }

    /** CudaAttentionKernels picks the kernel file by the dtype q, k and v share (tensors of the simulated device). */
    @Test
    void theFamilyTakesOneDtypeForQKAndV() {
        lmu.backend.sim.SimBackend sim = new lmu.backend.sim.SimBackend(lmu.tensor.Device.cuda(0));
        lmu.tensor.Tensor h = sim.empty(DType.F16, 2, 3, 64), bh = sim.empty(DType.BF16, 2, 3, 64), f = sim.empty(DType.F32, 2, 3, 64);
        assertEquals(DType.F16, CudaAttentionKernels.format(h, h, h));
        assertEquals(DType.BF16, CudaAttentionKernels.format(bh, bh, bh));
        assertEquals(DType.F32, CudaAttentionKernels.format(f, f, f));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaAttentionKernels.format(h, bh, h));
        assertTrue(e.getMessage().contains("CudaAttentionKernels: q, k and v must share a dtype, got F16, BF16 and F16"),
                e.getMessage());
        lmu.tensor.Tensor d = lmu.tensor.Tensor.zeros(DType.F64, 2, 3, 64);
        e = assertThrows(IllegalArgumentException.class, () -> CudaAttentionKernels.format(d, d, d));
        assertTrue(e.getMessage().contains("q must have dtype F32, F16 or BF16, got F64"), e.getMessage());
    }

    @Test
    void checksCoverBothFormatsWithUniqueNames() {
        java.util.List<ParityCheck> all = HalfAttentionChecks.all();
        java.util.Set<String> names = new java.util.HashSet<>();
        for (ParityCheck c : all) assertTrue(names.add(c.name()), c.name());
        assertTrue(names.stream().anyMatch(n -> n.startsWith("attention f16 dropout")), names.toString());
        assertTrue(names.stream().anyMatch(n -> n.startsWith("attention bf16 dropout")), names.toString());
        assertTrue(lmu.backend.cuda.CudaSelfTest.checks().stream().anyMatch(c -> c.name().equals("attention bf16 hd64 B3 T77 H3")),
                "registered in CudaSelfTest");
    }
}
