package lmu.nn.lmu;

import lmu.util.Parallel;

/**
 * Float64 matrix products for the parallel LMU, row-major, spread over row blocks on the common
 * fork-join pool ({@link Parallel}). Straightforward loops with contiguous inner axpy/dot loops
 * (several times faster here than the reference triple loop of {@code lmu.backend.cpu.Gemm}).
 */
final class Matmul {
    private static final int ROWS_PER_TASK = 16;

    private Matmul() {}

    /** c (M, N) += a (M, K) · b (K, N). */
    static void multiplyAccumulate(double[] a, double[] b, double[] c, int m, int k, int n) {
        Parallel.forRange((m + ROWS_PER_TASK - 1) / ROWS_PER_TASK, blk -> {
            int start = blk * ROWS_PER_TASK, end = Math.min(m, start + ROWS_PER_TASK);
            // p outside i: row p of b is reused by every row of the block while it is in cache
            for (int p = 0; p < k; p++) {
                int bp = p * n;
                for (int i = start; i < end; i++) {
                    double v = a[i * k + p];
                    if (v == 0) continue;
                    int ci = i * n;
                    for (int j = 0; j < n; j++) c[ci + j] += v * b[bp + j];
                }
            }
        });
    }

    /** c (M, N) += aᵀ · b with a (R, M), b (R, N). */
    static void multiplyTransposedAAccumulate(double[] a, double[] b, double[] c, int r, int m, int n) {
        Parallel.forRange((m + ROWS_PER_TASK - 1) / ROWS_PER_TASK, blk -> {
            int end = Math.min(m, (blk + 1) * ROWS_PER_TASK);
            for (int row = 0; row < r; row++) {
                int ar = row * m, br = row * n;
                for (int p = blk * ROWS_PER_TASK; p < end; p++) {
                    double v = a[ar + p];
                    if (v == 0) continue;
                    int cp = p * n;
                    for (int j = 0; j < n; j++) c[cp + j] += v * b[br + j];
                }
            }
        });
    }

    /**
     * c (M, K) += a (M, N) · bᵀ with b (K, N). b is transposed first (K·N copies) so that the inner
     * loop is an axpy the JIT vectorises, not a dot-product reduction it must keep in order.
     */
    static void multiplyTransposedBAccumulate(double[] a, double[] b, double[] c, int m, int n, int k) {
        multiplyAccumulate(a, transpose(b, k, n), c, m, n, k);
    }

    /** Returns aᵀ, shape (cols, rows), of a (rows, cols). */
    static double[] transpose(double[] a, int rows, int cols) {
        double[] t = new double[a.length];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
        return t;
    }
}
