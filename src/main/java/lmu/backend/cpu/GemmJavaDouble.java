package lmu.backend.cpu;

import lmu.util.Parallel;

/**
 * Pure-Java float64 {@link Gemm}, used when OpenBLAS cannot be loaded (or with
 * {@code -Dlmu.gemm=java}); arguments already checked, {@code m, n, k > 0}.
 *
 * <p>Blocked in the usual way: for each {@code KC × NC} block of op(B), packed row-major once, the
 * rows of C are split over {@link Parallel} workers in {@code MC}-row blocks; each worker packs its
 * block of alpha·op(A) and runs the micro-kernel. The micro-kernel updates 4 rows of C from 4 rows
 * of packed B per pass (16 multiply-adds per 4 loads of B and 4 loads and stores of C), with the
 * innermost loop over contiguous columns so that C2 vectorises it.
 */
final class GemmJavaDouble {
    private GemmJavaDouble() {}

    static final int MC = 64;
    static final int KC = 256;
    static final int NC = 512;

    private static final ThreadLocal<double[]> PACK_A = ThreadLocal.withInitial(() -> new double[MC * KC]);

    static void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
            double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
            double beta, double[] c, int cOff, int ldc) {
        boolean parallel = !Parallel.inParallelRegion() && (long) m * n * k >= GemmOpenBlas.PARALLEL_MIN_MACS;
        scale(beta, m, n, c, cOff, ldc, parallel);
        if (alpha == 0d) return;
        double[] packB = new double[Math.min(KC, k) * Math.min(NC, n)];
        int rowBlocks = (m + MC - 1) / MC;
        for (int pc = 0; pc < k; pc += KC) {
            int kcb = Math.min(KC, k - pc);
            for (int jc = 0; jc < n; jc += NC) {
                int ncb = Math.min(NC, n - jc);
                packB(transB, b, bOff, ldb, pc, kcb, jc, ncb, packB);
                final int p0 = pc, j0 = jc;
                if (parallel && rowBlocks > 1) {
                    Parallel.forRange(rowBlocks, 1, (from, to) -> {
                        for (int blk = from; blk < to; blk++) {
                            block(transA, m, alpha, a, aOff, lda, blk * MC, p0, kcb, j0, ncb, packB, c, cOff, ldc);
                        }
                    });
                } else {
                    for (int blk = 0; blk < rowBlocks; blk++) {
                        block(transA, m, alpha, a, aOff, lda, blk * MC, p0, kcb, j0, ncb, packB, c, cOff, ldc);
                    }
                }
            }
        }
    }

    /** C[i0:i0+MC, j0:j0+ncb] += alpha op(A)[i0:, p0:p0+kcb] · packB. */
    private static void block(boolean transA, int m, double alpha, double[] a, int aOff, int lda,
            int i0, int p0, int kcb, int j0, int ncb, double[] packB, double[] c, int cOff, int ldc) {
        int mcb = Math.min(MC, m - i0);
        double[] packA = PACK_A.get();
        // packA[i*kcb + p] = alpha * op(A)[i0+i][p0+p]
        if (transA) {
            for (int p = 0; p < kcb; p++) {
                int src = aOff + (p0 + p) * lda + i0;
                for (int i = 0; i < mcb; i++) packA[i * kcb + p] = alpha * a[src + i];
            }
        } else {
            for (int i = 0; i < mcb; i++) {
                int src = aOff + (i0 + i) * lda + p0;
                int dst = i * kcb;
                for (int p = 0; p < kcb; p++) packA[dst + p] = alpha * a[src + p];
            }
        }
        int i = 0;
        for (; i + 4 <= mcb; i += 4) {
            int c0 = cOff + (i0 + i) * ldc + j0;
            kernel4(packA, i * kcb, kcb, packB, ncb, c, c0, ldc);
        }
        for (; i < mcb; i++) {
            int c0 = cOff + (i0 + i) * ldc + j0;
            kernel1(packA, i * kcb, kcb, packB, ncb, c, c0);
        }
    }

    /** Four rows of C: c[c0 + r*ldc + j] += sum_p packA[a0 + r*kcb + p] * packB[p*ncb + j]. */
    private static void kernel4(double[] packA, int a0, int kcb, double[] packB, int ncb, double[] c, int c0, int ldc) {
        int a1 = a0 + kcb, a2 = a1 + kcb, a3 = a2 + kcb;
        int c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        int p = 0;
        for (; p + 4 <= kcb; p += 4) {
            double x00 = packA[a0 + p], x01 = packA[a0 + p + 1], x02 = packA[a0 + p + 2], x03 = packA[a0 + p + 3];
            double x10 = packA[a1 + p], x11 = packA[a1 + p + 1], x12 = packA[a1 + p + 2], x13 = packA[a1 + p + 3];
            double x20 = packA[a2 + p], x21 = packA[a2 + p + 1], x22 = packA[a2 + p + 2], x23 = packA[a2 + p + 3];
            double x30 = packA[a3 + p], x31 = packA[a3 + p + 1], x32 = packA[a3 + p + 2], x33 = packA[a3 + p + 3];
            int b0 = p * ncb, b1 = b0 + ncb, b2 = b1 + ncb, b3 = b2 + ncb;
            for (int j = 0; j < ncb; j++) {
                double y0 = packB[b0 + j], y1 = packB[b1 + j], y2 = packB[b2 + j], y3 = packB[b3 + j];
                c[c0 + j] += x00 * y0 + x01 * y1 + x02 * y2 + x03 * y3;
                c[c1 + j] += x10 * y0 + x11 * y1 + x12 * y2 + x13 * y3;
                c[c2 + j] += x20 * y0 + x21 * y1 + x22 * y2 + x23 * y3;
                c[c3 + j] += x30 * y0 + x31 * y1 + x32 * y2 + x33 * y3;
            }
        }
        for (; p < kcb; p++) {
            double x0 = packA[a0 + p], x1 = packA[a1 + p], x2 = packA[a2 + p], x3 = packA[a3 + p];
            int b0 = p * ncb;
            for (int j = 0; j < ncb; j++) {
                double y = packB[b0 + j];
                c[c0 + j] += x0 * y;
                c[c1 + j] += x1 * y;
                c[c2 + j] += x2 * y;
                c[c3 + j] += x3 * y;
            }
        }
    }

    /** One row of C, same contract as {@link #kernel4} with a single row. */
    private static void kernel1(double[] packA, int a0, int kcb, double[] packB, int ncb, double[] c, int c0) {
        int p = 0;
        for (; p + 4 <= kcb; p += 4) {
            double x0 = packA[a0 + p], x1 = packA[a0 + p + 1], x2 = packA[a0 + p + 2], x3 = packA[a0 + p + 3];
            int b0 = p * ncb, b1 = b0 + ncb, b2 = b1 + ncb, b3 = b2 + ncb;
            for (int j = 0; j < ncb; j++) {
                c[c0 + j] += x0 * packB[b0 + j] + x1 * packB[b1 + j] + x2 * packB[b2 + j] + x3 * packB[b3 + j];
            }
        }
        for (; p < kcb; p++) {
            double x = packA[a0 + p];
            int b0 = p * ncb;
            for (int j = 0; j < ncb; j++) c[c0 + j] += x * packB[b0 + j];
        }
    }

    /** packB[p*ncb + j] = op(B)[p0+p][j0+j]. */
    private static void packB(boolean transB, double[] b, int bOff, int ldb, int p0, int kcb, int j0, int ncb, double[] packB) {
        if (transB) {
            for (int j = 0; j < ncb; j++) {
                int src = bOff + (j0 + j) * ldb + p0;
                for (int p = 0; p < kcb; p++) packB[p * ncb + j] = b[src + p];
            }
        } else {
            for (int p = 0; p < kcb; p++) {
                System.arraycopy(b, bOff + (p0 + p) * ldb + j0, packB, p * ncb, ncb);
            }
        }
    }

    /** C = beta C over the m×n block; beta = 0 writes zeros (NaN in C does not survive). */
    static void scale(double beta, int m, int n, double[] c, int cOff, int ldc, boolean parallel) {
        if (beta == 1d) return;
        Parallel.RangeBody rows = (from, to) -> {
            for (int i = from; i < to; i++) {
                int r = cOff + i * ldc;
                if (beta == 0d) java.util.Arrays.fill(c, r, r + n, 0d);
                else for (int j = r; j < r + n; j++) c[j] *= beta;
            }
        };
        if (parallel) Parallel.forRange(m, Math.max(1, (1 << 16) / n), rows);
        else rows.run(0, m);
    }
}
