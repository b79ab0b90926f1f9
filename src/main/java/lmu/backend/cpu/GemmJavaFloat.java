package lmu.backend.cpu;

import lmu.util.Parallel;

/**
 * Pure-Java float32 {@link Gemm}, used when OpenBLAS cannot be loaded (or with
 * {@code -Dlmu.gemm=java}); arguments already checked, {@code m, n, k > 0}.
 *
 * <p>Blocked in the usual way: for each {@code KC × NC} block of op(B), packed once (one array per
 * row), the rows of C are split over {@link Parallel} workers in {@code MC}-row blocks; each worker
 * packs its block of alpha·op(A) and runs the micro-kernel, which accumulates two rows of the
 * product over the block's k range in two per-thread rows and then adds them into C. Its innermost
 * loop runs over contiguous columns of distinct arrays so that C2 vectorises it at full width.
 *
 * <p>Measured on a 2-core AMD EPYC (AVX-512): roughly 60-70% of single-threaded OpenBLAS with
 * 32-byte vectors ({@code -XX:MaxVectorSize=32}), about a third of that with the default 64-byte
 * vectors, whose unaligned accesses each straddle two cache lines.
 */
final class GemmJavaFloat {
    private GemmJavaFloat() {}

    static final int MC = 64;
    static final int KC = 256;
    static final int NC = 512;

    /** Per thread: packed alpha·op(A) block (MC × KC) and two accumulator rows (NC each). */
    private static final class Scratch {
        final float[] packA = new float[MC * KC];
        final float[] acc0 = new float[NC];
        final float[] acc1 = new float[NC];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    static void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
            float beta, float[] c, int cOff, int ldc) {
        boolean parallel = !Parallel.inParallelRegion() && (long) m * n * k >= GemmOpenBlas.PARALLEL_MIN_MACS;
        scale(beta, m, n, c, cOff, ldc, parallel);
        if (alpha == 0f) return;
        // one array per packed row of B: the kernel's loads then differ by array, not by offset,
        // which C2 (JDK 17) vectorises reliably
        float[][] packB = new float[Math.min(KC, k)][Math.min(NC, n)];
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
    private static void block(boolean transA, int m, float alpha, float[] a, int aOff, int lda,
            int i0, int p0, int kcb, int j0, int ncb, float[][] packB, float[] c, int cOff, int ldc) {
        int mcb = Math.min(MC, m - i0);
        Scratch s = SCRATCH.get();
        float[] packA = s.packA;
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
        float[] acc0 = s.acc0, acc1 = s.acc1;
        int i = 0;
        for (; i + 2 <= mcb; i += 2) {
            java.util.Arrays.fill(acc0, 0, ncb, 0f);
            java.util.Arrays.fill(acc1, 0, ncb, 0f);
            kernel2(packA, i * kcb, kcb, packB, ncb, acc0, acc1);
            addRow(acc0, ncb, c, cOff + (i0 + i) * ldc + j0);
            addRow(acc1, ncb, c, cOff + (i0 + i + 1) * ldc + j0);
        }
        if (i < mcb) {
            java.util.Arrays.fill(acc0, 0, ncb, 0f);
            kernel1(packA, i * kcb, kcb, packB, ncb, acc0);
            addRow(acc0, ncb, c, cOff + (i0 + i) * ldc + j0);
        }
    }

    /**
     * Two rows: acc0[j] += sum_p packA[a0 + p] * packB[p][j], acc1 likewise from row a0 + kcb.
     * 8 multiply-adds per 4 loads of B and 2 loads and stores of the accumulators; the j loop
     * runs over separate arrays at the same index, which C2 turns into full-width vector code.
     */
    private static void kernel2(float[] packA, int a0, int kcb, float[][] packB, int ncb, float[] acc0, float[] acc1) {
        int a1 = a0 + kcb;
        int p = 0;
        for (; p + 4 <= kcb; p += 4) {
            float x00 = packA[a0 + p], x01 = packA[a0 + p + 1], x02 = packA[a0 + p + 2], x03 = packA[a0 + p + 3];
            float x10 = packA[a1 + p], x11 = packA[a1 + p + 1], x12 = packA[a1 + p + 2], x13 = packA[a1 + p + 3];
            float[] b0 = packB[p], b1 = packB[p + 1], b2 = packB[p + 2], b3 = packB[p + 3];
            for (int j = 0; j < ncb; j++) {
                float y0 = b0[j], y1 = b1[j], y2 = b2[j], y3 = b3[j];
                acc0[j] += x00 * y0 + x01 * y1 + x02 * y2 + x03 * y3;
                acc1[j] += x10 * y0 + x11 * y1 + x12 * y2 + x13 * y3;
            }
        }
        for (; p < kcb; p++) {
            float x0 = packA[a0 + p], x1 = packA[a1 + p];
            float[] b0 = packB[p];
            for (int j = 0; j < ncb; j++) {
                float y = b0[j];
                acc0[j] += x0 * y;
                acc1[j] += x1 * y;
            }
        }
    }

    /** One row, same contract as {@link #kernel2}. */
    private static void kernel1(float[] packA, int a0, int kcb, float[][] packB, int ncb, float[] acc) {
        int p = 0;
        for (; p + 4 <= kcb; p += 4) {
            float x0 = packA[a0 + p], x1 = packA[a0 + p + 1], x2 = packA[a0 + p + 2], x3 = packA[a0 + p + 3];
            float[] b0 = packB[p], b1 = packB[p + 1], b2 = packB[p + 2], b3 = packB[p + 3];
            for (int j = 0; j < ncb; j++) acc[j] += x0 * b0[j] + x1 * b1[j] + x2 * b2[j] + x3 * b3[j];
        }
        for (; p < kcb; p++) {
            float x = packA[a0 + p];
            float[] b0 = packB[p];
            for (int j = 0; j < ncb; j++) acc[j] += x * b0[j];
        }
    }

    private static void addRow(float[] acc, int ncb, float[] c, int c0) {
        for (int j = 0; j < ncb; j++) c[c0 + j] += acc[j];
    }

    /** packB[p][j] = op(B)[p0+p][j0+j]. */
    private static void packB(boolean transB, float[] b, int bOff, int ldb, int p0, int kcb, int j0, int ncb, float[][] packB) {
        if (transB) {
            for (int j = 0; j < ncb; j++) {
                int src = bOff + (j0 + j) * ldb + p0;
                for (int p = 0; p < kcb; p++) packB[p][j] = b[src + p];
            }
        } else {
            for (int p = 0; p < kcb; p++) {
                System.arraycopy(b, bOff + (p0 + p) * ldb + j0, packB[p], 0, ncb);
            }
        }
    }

    /** C = beta C over the m×n block; beta = 0 writes zeros (NaN in C does not survive). */
    static void scale(float beta, int m, int n, float[] c, int cOff, int ldc, boolean parallel) {
        if (beta == 1f) return;
        Parallel.RangeBody rows = (from, to) -> {
            for (int i = from; i < to; i++) {
                int r = cOff + i * ldc;
                if (beta == 0f) java.util.Arrays.fill(c, r, r + n, 0f);
                else for (int j = r; j < r + n; j++) c[j] *= beta;
            }
        };
        if (parallel) Parallel.forRange(m, Math.max(1, (1 << 16) / n), rows);
        else rows.run(0, m);
    }
}
