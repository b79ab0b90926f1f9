package lmu.nn.lmu;

import lmu.util.Checks;

/**
 * Matrix exponential e^A of a square float64 matrix by scaling and squaring with the [13/13] Padé
 * approximant (Higham, "The scaling and squaring method for the matrix exponential revisited",
 * SIAM J. Matrix Anal. Appl. 26(4), 2005, Algorithm 2.3 with m = 13): A is divided by 2^s so that
 * its 1-norm is at most θ13 = 5.37, r13(A / 2^s) = (V − U)^{-1}(V + U) is evaluated with six matrix
 * products, and the result is squared s times.
 */
public final class MatrixExponential {
    /** Higham 2005, Table 2.3: largest 1-norm for which r13 is accurate to unit roundoff. */
    static final double THETA_13 = 5.371920351148152;

    /** Coefficients b_0 … b_13 of the [13/13] Padé approximant of e^x. */
    private static final double[] B = {
        64764752532480000d, 32382376266240000d, 7771770303897600d, 1187353796428800d,
        129060195264000d, 10559470521600d, 670442572800d, 33522128640d, 1323241920d,
        40840800d, 960960d, 16380d, 182d, 1d
    };

    private MatrixExponential() {}

    /**
     * Returns e^A.
     *
     * @param a matrix, shape (n, n), row-major; not modified
     * @param n order of the matrix
     * @return e^A, shape (n, n), row-major
     * @throws IllegalArgumentException if n is not positive, a has the wrong size or holds
     *     non-finite values
     */
    public static double[] expm(double[] a, int n) {
        Checks.positive("MatrixExponential.expm n", n);
        if (a.length != n * n) {
            throw new IllegalArgumentException(
                    "MatrixExponential.expm: a must have n*n = " + n * n + " entries, got " + a.length);
        }
        for (double v : a) {
            if (!Double.isFinite(v)) throw new IllegalArgumentException("MatrixExponential.expm: a holds " + v);
        }
        double norm = DenseMatrix.norm1(a, n);
        int s = norm > THETA_13 ? (int) Math.ceil(Math.log(norm / THETA_13) / Math.log(2)) : 0;
        double scale = Math.scalb(1.0, -s);
        double[] x = new double[n * n];
        for (int i = 0; i < x.length; i++) x[i] = a[i] * scale;

        double[] x2 = DenseMatrix.multiply(x, x, n, n, n);
        double[] x4 = DenseMatrix.multiply(x2, x2, n, n, n);
        double[] x6 = DenseMatrix.multiply(x4, x2, n, n, n);
        double[] inner = new double[n * n];
        for (int i = 0; i < inner.length; i++) inner[i] = B[13] * x6[i] + B[11] * x4[i] + B[9] * x2[i];
        double[] u = DenseMatrix.multiply(x6, inner, n, n, n);
        for (int i = 0; i < u.length; i++) u[i] += B[7] * x6[i] + B[5] * x4[i] + B[3] * x2[i];
        for (int i = 0; i < n; i++) u[i * n + i] += B[1];
        u = DenseMatrix.multiply(x, u, n, n, n);

        for (int i = 0; i < inner.length; i++) inner[i] = B[12] * x6[i] + B[10] * x4[i] + B[8] * x2[i];
        double[] v = DenseMatrix.multiply(x6, inner, n, n, n);
        for (int i = 0; i < v.length; i++) v[i] += B[6] * x6[i] + B[4] * x4[i] + B[2] * x2[i];
        for (int i = 0; i < n; i++) v[i * n + i] += B[0];

        double[] num = new double[n * n];
        double[] den = new double[n * n];
        for (int i = 0; i < num.length; i++) {
            num[i] = v[i] + u[i];
            den[i] = v[i] - u[i];
        }
        double[] r = DenseMatrix.solve(den, num, n, n);
        for (int k = 0; k < s; k++) r = DenseMatrix.multiply(r, r, n, n, n);
        return r;
    }
}
