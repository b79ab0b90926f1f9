package lmu.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LaunchGeometryTest {
    private static final LaunchGeometry.Limits L = LaunchGeometry.Limits.SM80_SM90;

    @Test
    void validGeometriesPass() {
        LaunchGeometry.check("k", Dim3.of(1), Dim3.of(1), 0, L);
        LaunchGeometry.check("k", new Dim3(Integer.MAX_VALUE, 65535, 65535), new Dim3(16, 8, 8), 163 * 1024, L);
        LaunchGeometry.check("k", Dim3.of(4), new Dim3(1, 1, 64), 0, L);
    }

    @Test
    void badGeometriesNameTheKernelAxisAndLimit() {
        String m = assertThrows(IllegalArgumentException.class,
                () -> LaunchGeometry.check("softmax_forward_kernel", Dim3.of(0), Dim3.of(256), 0, L)).getMessage();
        assertEquals("softmax_forward_kernel: grid.x : 0 (expected: 1 to 2147483647)", m);
        m = assertThrows(IllegalArgumentException.class,
                () -> LaunchGeometry.check("k", Dim3.of(1, 65536), Dim3.of(32), 0, L)).getMessage();
        assertEquals("k: grid.y : 65536 (expected: 1 to 65535)", m);
        m = assertThrows(IllegalArgumentException.class,
                () -> LaunchGeometry.check("k", Dim3.of(1), Dim3.of(64, 32), 0, L)).getMessage();
        assertEquals("k: block (64, 32, 1) has 2048 threads (expected: <= 1024)", m);
        m = assertThrows(IllegalArgumentException.class,
                () -> LaunchGeometry.check("k", Dim3.of(1), new Dim3(1, 1, 65), 0, L)).getMessage();
        assertEquals("k: block.z : 65 (expected: 1 to 64)", m);
        m = assertThrows(IllegalArgumentException.class,
                () -> LaunchGeometry.check("k", Dim3.of(1), Dim3.of(32), 200 * 1024, L)).getMessage();
        assertTrue(m.startsWith("k: dynamic shared memory 204800 bytes"), m);
    }

    @Test
    void blocksForCoversTheItems() {
        assertEquals(1, LaunchGeometry.blocksFor(1, 256));
        assertEquals(1, LaunchGeometry.blocksFor(256, 256));
        assertEquals(2, LaunchGeometry.blocksFor(257, 256));
        assertThrows(IllegalArgumentException.class, () -> LaunchGeometry.blocksFor(0, 256));
    }

    @Test
    void rowAndGridStrideChoices() {
        assertEquals(32, LaunchGeometry.rowBlockThreads(29));
        assertEquals(32, LaunchGeometry.rowBlockThreads(64));
        assertEquals(32, LaunchGeometry.rowBlockThreads(65));
        assertEquals(96, LaunchGeometry.rowBlockThreads(384));
        assertEquals(1024, LaunchGeometry.rowBlockThreads(1 << 20));
        for (int c = 1; c < 5000; c += 7) {
            int t = LaunchGeometry.rowBlockThreads(c);
            assertTrue(t % 32 == 0 && t >= 32 && t <= 1024, c + " -> " + t);
        }
        assertEquals(4, LaunchGeometry.gridStrideBlocks(1000, 256, 132));
        assertEquals(32 * 132, LaunchGeometry.gridStrideBlocks(1L << 30, 256, 132));
        assertEquals(73, LaunchGeometry.rowsPerBlock(19200, 132)); // 19200 rows over 264 blocks
        assertEquals(1, LaunchGeometry.rowsPerBlock(5, 132));
    }

    @Test
    void cudaExceptionMessageNamesOpCodeAndGeometry() {
        CudaException e = new CudaException("softmax_forward_kernel", 1, "CUDA_ERROR_INVALID_VALUE", Dim3.of(12),
                Dim3.of(1024, 2), "launch failed");
        assertEquals("softmax_forward_kernel: CUDA_ERROR_INVALID_VALUE (1), grid (12, 1, 1), block (1024, 2, 1):"
                + " launch failed", e.getMessage());
        assertEquals(1, e.code());
        assertEquals(Dim3.of(12), e.grid());
        CudaException plain = new CudaException("cuInit", 100, "CUDA_ERROR_NO_DEVICE", null, null, null);
        assertEquals("cuInit: CUDA_ERROR_NO_DEVICE (100)", plain.getMessage());
    }
}
