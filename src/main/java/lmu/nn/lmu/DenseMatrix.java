package lmu.nn.lmu;

/**
 * Small float64 dense-matrix helpers on row-major {@code double[]} arrays (element (i, j) of an
 * n×m matrix at {@code i * m + j}). Used for the state-space set-up, not in the hot loops.
 */
final class DenseMatrix {
    private DenseMatrix() {}

    /** Returns a·b for a (n, k) and b (k, m). */
    static double[] multiply(double[] a, double[] b, int n, int k, int m) {
        double[] c = new double[n * m];
        for (int i = 0; i < n; i++) {
            int ci = i * m;
            for (int p = 0; p < k; p++) {
                double aip = a[i * k + p];
                if (aip == 0) continue;
                int bp = p * m;
                for (int j = 0; j < m; j++) c[ci + j] += aip * b[bp + j];
            }
        }
        return c;
    }

    static double[] identity(int n) {
        double[] e = new double[n * n];
        for (int i = 0; i < n; i++) e[i * n + i] = 1;
        return e;
    }

    /** Maximum absolute column sum (the induced 1-norm) of an n×n matrix. */
    static double norm1(double[] a, int n) {
        double best = 0;
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int i = 0; i < n; i++) s += Math.abs(a[i * n + j]);
            best = Math.max(best, s);
        }
        return best;
    }

    static double frobenius(double[] a) {
        double s = 0;
        for (double v : a) s += v * v;
        return Math.sqrt(s);
    }

    /**
     * Solves a·x = b for x with LU decomposition and partial pivoting; a is n×n, b is n×m. Both
     * arrays are left unchanged.
     *
     * @throws IllegalArgumentException if a is singular to working precision
     */
    static double[] solve(double[] a, double[] b, int n, int m) {
        double[] lu = a.clone();
        double[] x = b.clone();
        double scale = 0;
        for (double v : lu) scale = Math.max(scale, Math.abs(v));
        for (int col = 0; col < n; col++) {
            int piv = col;
            double best = Math.abs(lu[col * n + col]);
            for (int r = col + 1; r < n; r++) {
                double v = Math.abs(lu[r * n + col]);
                if (v > best) {
                    best = v;
                    piv = r;
                }
            }
            if (!(best > scale * 1e-300)) {
                throw new IllegalArgumentException("DenseMatrix.solve: matrix is singular at column " + col);
            }
            if (piv != col) {
                swapRows(lu, n, piv, col);
                swapRows(x, m, piv, col);
            }
            double inv = 1.0 / lu[col * n + col];
            for (int r = col + 1; r < n; r++) {
                double f = lu[r * n + col] * inv;
                if (f == 0) continue;
                lu[r * n + col] = 0;
                for (int j = col + 1; j < n; j++) lu[r * n + j] -= f * lu[col * n + j];
                for (int j = 0; j < m; j++) x[r * m + j] -= f * x[col * m + j];
            }
        }
        for (int col = n - 1; col >= 0; col--) {
            double inv = 1.0 / lu[col * n + col];
            for (int j = 0; j < m; j++) x[col * m + j] *= inv;
            for (int r = 0; r < col; r++) {
                double f = lu[r * n + col];
                if (f == 0) continue;
                for (int j = 0; j < m; j++) x[r * m + j] -= f * x[col * m + j];
            }
        }
        return x;
    }

    private static void swapRows(double[] a, int m, int r1, int r2) {
        for (int j = 0; j < m; j++) {
            double t = a[r1 * m + j];
            a[r1 * m + j] = a[r2 * m + j];
            a[r2 * m + j] = t;
        }
    }
}
