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
            int end = Math.min(m, (blk + 1) * ROWS_PER_TASK);
            for (int i = blk * ROWS_PER_TASK; i < end; i++) {
                int ci = i * n, ai = i * k;
                for (int p = 0; p < k; p++) {
                    double v = a[ai + p];
                    if (v == 0) continue;
                    int bp = p * n;
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

    /** c (M, K) += a (M, N) · bᵀ with b (K, N). */
    static void multiplyTransposedBAccumulate(double[] a, double[] b, double[] c, int m, int n, int k) {
        Parallel.forRange((m + ROWS_PER_TASK - 1) / ROWS_PER_TASK, blk -> {
            int end = Math.min(m, (blk + 1) * ROWS_PER_TASK);
            for (int i = blk * ROWS_PER_TASK; i < end; i++) {
                int ai = i * n, ci = i * k;
                for (int q = 0; q < k; q++) {
                    int bq = q * n;
                    double s = 0;
                    for (int j = 0; j < n; j++) s += a[ai + j] * b[bq + j];
                    c[ci + q] += s;
                }
            }
        });
    }
}
