package lmu.backend.cuda;

/**
 * Checks a kernel's grid, block and dynamic shared memory against a device's limits before the
 * launch, so a bad geometry fails in Java with the kernel's name instead of as an opaque
 * {@code CUDA_ERROR_INVALID_VALUE} from the driver. Plain Java: testable without a GPU.
 */
public final class LaunchGeometry {
    private LaunchGeometry() {}

    /**
     * A device's launch limits (the {@code CU_DEVICE_ATTRIBUTE_MAX_*} attributes).
     *
     * @param maxThreadsPerBlock threads per block, 1024 on every GPU since Fermi
     * @param maxBlock largest block extent per axis
     * @param maxGrid largest grid extent per axis
     * @param maxSharedPerBlock dynamic shared memory per block without opt-in (48 KiB)
     * @param maxSharedPerBlockOptin dynamic shared memory per block after {@code
     *     cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)} (227 KiB on sm_90)
     */
    public record Limits(
            int maxThreadsPerBlock, Dim3 maxBlock, Dim3 maxGrid, int maxSharedPerBlock, int maxSharedPerBlockOptin) {
        /** The limits of compute capability 8.0 and 9.0 devices (A100, H100, H200). */
        public static final Limits SM80_SM90 =
                new Limits(1024, new Dim3(1024, 1024, 64), new Dim3(Integer.MAX_VALUE, 65535, 65535), 48 * 1024, 163 * 1024);
    }

    /**
     * Fails unless {@code grid}, {@code block} and {@code sharedBytes} fit {@code limits}.
     *
     * @param kernel the kernel's name, used in the message
     * @param grid blocks per axis, each &gt; 0 and within {@code limits.maxGrid()}
     * @param block threads per axis, each &gt; 0, within {@code limits.maxBlock()}, product at most
     *     {@code limits.maxThreadsPerBlock()}
     * @param sharedBytes dynamic shared memory per block, 0 to {@code limits.maxSharedPerBlockOptin()}
     * @param limits the device's limits
     * @throws IllegalArgumentException naming the kernel, the axis, the limit and the value
     */
    public static void check(String kernel, Dim3 grid, Dim3 block, int sharedBytes, Limits limits) {
        if (grid == null || block == null) {
            throw new IllegalArgumentException(kernel + ": grid and block must be given, got grid " + grid + ", block " + block);
        }
        axes(kernel, "grid", grid, limits.maxGrid());
        axes(kernel, "block", block, limits.maxBlock());
        if (block.volume() > limits.maxThreadsPerBlock()) {
            throw new IllegalArgumentException(kernel + ": block " + block + " has " + block.volume()
                    + " threads (expected: <= " + limits.maxThreadsPerBlock() + ")");
        }
        if (sharedBytes < 0 || sharedBytes > limits.maxSharedPerBlockOptin()) {
            throw new IllegalArgumentException(kernel + ": dynamic shared memory " + sharedBytes
                    + " bytes (expected: 0 to " + limits.maxSharedPerBlockOptin() + ")");
        }
    }

    private static void axes(String kernel, String what, Dim3 d, Dim3 max) {
        check(kernel, what, "x", d.x(), max.x());
        check(kernel, what, "y", d.y(), max.y());
        check(kernel, what, "z", d.z(), max.z());
    }

    private static void check(String kernel, String what, String axis, int v, int max) {
        if (v <= 0 || v > max) {
            throw new IllegalArgumentException(
                    kernel + ": " + what + "." + axis + " : " + v + " (expected: 1 to " + max + ")");
        }
    }

    /** The number of blocks of {@code blockSize} threads that cover {@code n} items. */
    public static int blocksFor(long n, int blockSize) {
        if (n <= 0 || blockSize <= 0) {
            throw new IllegalArgumentException("blocksFor: n " + n + " and blockSize " + blockSize + " must be > 0");
        }
        long blocks = (n + blockSize - 1) / blockSize;
        if (blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("blocksFor: " + n + " items need " + blocks + " blocks of " + blockSize
                    + " (expected: <= " + Integer.MAX_VALUE + ")");
        }
        return (int) blocks;
    }

    /**
     * Threads per block for the one-block-per-row kernels (softmax, layer norm): 32 for rows of at
     * most 64 columns (the CTC vocabulary), else a multiple of 32 giving each thread about four
     * columns, at most 1024.
     *
     * @param cols columns per row, &gt; 0
     */
    public static int rowBlockThreads(int cols) {
        if (cols <= 0) throw new IllegalArgumentException("rowBlockThreads: cols : " + cols + " (expected: > 0)");
        if (cols <= 64) return 32;
        return (int) Math.min(1024, 32L * ((cols + 127L) / 128));
    }

    /**
     * Blocks for a grid-stride loop over {@code n} items: enough to cover them, at most 32 per
     * multiprocessor (more only adds scheduling overhead).
     *
     * @param n items, &gt; 0
     * @param blockSize threads per block, &gt; 0
     * @param multiprocessors the device's SM count, &gt; 0
     */
    public static int gridStrideBlocks(long n, int blockSize, int multiprocessors) {
        if (multiprocessors <= 0) {
            throw new IllegalArgumentException("gridStrideBlocks: multiprocessors : " + multiprocessors + " (expected: > 0)");
        }
        return (int) Math.min(blocksFor(n, blockSize), 32L * multiprocessors);
    }

    /**
     * Rows per block for {@code layernorm_backward_kernel}: about two blocks per multiprocessor, so
     * the partial sums stay few while every SM has work.
     *
     * @param rows rows R, &gt; 0
     * @param multiprocessors the device's SM count, &gt; 0
     */
    public static int rowsPerBlock(int rows, int multiprocessors) {
        if (rows <= 0 || multiprocessors <= 0) {
            throw new IllegalArgumentException("rowsPerBlock: rows " + rows + " and multiprocessors " + multiprocessors
                    + " must be > 0");
        }
        return Math.max(1, (int) ((rows + 2L * multiprocessors - 1) / (2L * multiprocessors)));
    }
}
