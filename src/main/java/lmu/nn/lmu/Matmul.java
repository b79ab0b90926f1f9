package lmu.nn.lmu;

import lmu.backend.cpu.Gemm;

/**
 * Float64 matrix products of the LMU on row-major arrays, all accumulating into c ({@code beta =
 * 1}), routed to {@link Gemm#dgemm} (OpenBLAS when it loads, else the pure-Java blocked product).
 */
final class Matmul {
    private Matmul() {}

    /** c (M, N) += a (M, K) · b (K, N). */
    static void multiplyAccumulate(double[] a, double[] b, double[] c, int m, int k, int n) {
        Gemm.dgemm(false, false, m, n, k, 1, a, 0, k, b, 0, n, 1, c, 0, n);
    }

    /** c (M, N) += aᵀ · b with a (R, M), b (R, N). */
    static void multiplyTransposedAAccumulate(double[] a, double[] b, double[] c, int r, int m, int n) {
        Gemm.dgemm(true, false, m, n, r, 1, a, 0, m, b, 0, n, 1, c, 0, n);
    }

    /** c (M, K) += a (M, N) · bᵀ with b (K, N). */
    static void multiplyTransposedBAccumulate(double[] a, double[] b, double[] c, int m, int n, int k) {
        Gemm.dgemm(false, true, m, k, n, 1, a, 0, n, b, 0, n, 1, c, 0, k);
    }

    /** Returns aᵀ, shape (cols, rows), of a (rows, cols). */
    static double[] transpose(double[] a, int rows, int cols) {
        double[] t = new double[a.length];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
        return t;
    }
}
