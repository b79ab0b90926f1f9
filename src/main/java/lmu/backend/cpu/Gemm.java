package lmu.backend.cpu;

import java.util.Objects;
import lmu.util.Parallel;

/**
 * General matrix products on plain row-major arrays, float32 and float64:
 * {@code C = alpha · op(A) · op(B) + beta · C}, where {@code op(X)} is {@code X} or its transpose.
 *
 * <p>Layout (row-major, BLAS style): op(A) is m×k, op(B) is k×n, C is m×n. Element (i, j) of a
 * stored matrix X lives at {@code x[xOff + i * ldx + j]}; the stored A is m×k ({@code lda >= k}) or,
 * with {@code transA}, k×m ({@code lda >= m}); likewise the stored B is k×n ({@code ldb >= n}) or,
 * with {@code transB}, n×k ({@code ldb >= k}); C is m×n with {@code ldc >= n}. Only the m×n block
 * of C is written. With {@code beta == 0} the old C is not read (NaN there does not survive). C must
 * not share elements with A or B.
 *
 * <p>Implementations: OpenBLAS through JavaCPP when it loads (OpenBLAS single-threaded, with the
 * work split over {@link Parallel}), otherwise a pure-Java blocked product. The system property
 * {@code lmu.gemm=java} forces the pure-Java one ({@code openblas}, the default, tries OpenBLAS
 * first); {@code lmu.threads} sets the thread count.
 * {@link #implementation()} names the one in use and, for the fallback, why OpenBLAS was not used.
 * A product called from inside a {@link Parallel} loop runs on the calling thread alone.
 *
 * <p>Example, {@code y = x · w^T} for x of shape (B·T, C_in) and w of shape (C_out, C_in):
 *
 * <pre>{@code
 * Gemm.sgemm(false, true, bt, cOut, cIn, 1f, x, 0, cIn, w, 0, cIn, 0f, y, 0, cOut);
 * }</pre>
 */
public final class Gemm {
    private Gemm() {}

    private static final class Holder {
        static final boolean NATIVE;
        static final String DESCRIPTION;

        static {
            String forced = System.getProperty("lmu.gemm", "").trim();
            boolean nativeOk = false;
            String description;
            if (!forced.isEmpty() && !forced.equalsIgnoreCase("java") && !forced.equalsIgnoreCase("openblas")) {
                System.err.println("lmu.backend.cpu.Gemm: ignoring -Dlmu.gemm=" + forced
                        + " (expected: java or openblas)");
            }
            if (forced.equalsIgnoreCase("java")) {
                description = "pure Java (OpenBLAS not used: -Dlmu.gemm=java)";
            } else {
                String version = null;
                Throwable cause = null;
                try {
                    version = GemmOpenBlas.load();
                } catch (Throwable t) { // UnsatisfiedLinkError, NoClassDefFoundError, ExceptionInInitializerError
                    cause = t;
                }
                if (version != null) {
                    nativeOk = true;
                    description = version + " (" + Parallel.threads() + " threads via lmu.util.Parallel)";
                } else {
                    description = "pure Java (OpenBLAS unavailable: " + describe(cause) + ")";
                    System.err.println("lmu.backend.cpu.Gemm: OpenBLAS unavailable, using the pure-Java product: "
                            + describe(cause));
                }
            }
            NATIVE = nativeOk;
            DESCRIPTION = nativeOk ? description : description + ", " + Parallel.threads() + " threads";
        }

        private static String describe(Throwable t) {
            Throwable root = t;
            while (root.getCause() != null && root.getCause() != root) root = root.getCause();
            String msg = root.getMessage();
            return root.getClass().getSimpleName() + (msg == null ? "" : ": " + msg);
        }
    }

    /**
     * Which implementation runs, e.g. {@code "OpenBLAS 0.3.31 Haswell (2 threads via lmu.util.Parallel)"}
     * or {@code "pure Java (OpenBLAS unavailable: UnsatisfiedLinkError: …), 2 threads"}.
     */
    public static String implementation() {
        return Holder.DESCRIPTION;
    }

    /** Whether products run on OpenBLAS (false: the pure-Java fallback). */
    public static boolean isNative() {
        return Holder.NATIVE;
    }

    /**
     * float32 product {@code C = alpha · op(A) · op(B) + beta · C}; see the class comment for the
     * layout.
     *
     * @param transA use A transposed: the stored A is k×m instead of m×k
     * @param transB use B transposed: the stored B is n×k instead of k×n
     * @param m rows of op(A) and C, {@code >= 0}
     * @param n columns of op(B) and C, {@code >= 0}
     * @param k columns of op(A), rows of op(B), {@code >= 0}
     * @param a stored A, shape (m, k) or (k, m) with transA, from {@code aOff} with row stride {@code lda}
     * @param b stored B, shape (k, n) or (n, k) with transB, from {@code bOff} with row stride {@code ldb}
     * @param c C, shape (m, n), from {@code cOff} with row stride {@code ldc}; overwritten
     * @throws IllegalArgumentException if a size, offset or leading dimension is negative or too
     *     small, an array is too short for its matrix, or C overlaps A or B
     * @throws NullPointerException if an array is null
     */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
            float beta, float[] c, int cOff, int ldc) {
        sgemm(Holder.NATIVE, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    /** {@link #sgemm} on OpenBLAS ({@code useNative}, which must be available) or on the pure-Java product. */
    static void sgemm(boolean useNative, boolean transA, boolean transB, int m, int n, int k, float alpha,
            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
            float beta, float[] c, int cOff, int ldc) {
        Objects.requireNonNull(a, "Gemm.sgemm: a");
        Objects.requireNonNull(b, "Gemm.sgemm: b");
        Objects.requireNonNull(c, "Gemm.sgemm: c");
        checkSingle("Gemm.sgemm", transA, transB, m, n, k, a.length, aOff, lda, b.length, bOff, ldb, c.length, cOff, ldc,
                a == c, b == c);
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0f) {
            GemmJavaFloat.scale(beta, m, n, c, cOff, ldc, false);
            return;
        }
        if (useNative) {
            GemmOpenBlas.sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        } else {
            GemmJavaFloat.gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        }
    }

    /**
     * float64 product {@code C = alpha · op(A) · op(B) + beta · C}; same contract as
     * {@link #sgemm}.
     *
     * @throws IllegalArgumentException if a size, offset or leading dimension is negative or too
     *     small, an array is too short for its matrix, or C overlaps A or B
     * @throws NullPointerException if an array is null
     */
    public static void dgemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
            double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
            double beta, double[] c, int cOff, int ldc) {
        dgemm(Holder.NATIVE, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    /** The argument checks shared by {@link #sgemm} and {@link #dgemm}: sizes, operand extents, no aliasing of C. */
    private static void checkSingle(String op, boolean transA, boolean transB, int m, int n, int k, int aLen, int aOff,
            int lda, int bLen, int bOff, int ldb, int cLen, int cOff, int ldc, boolean aIsC, boolean bIsC) {
        checkSizes(op, m, n, k);
        checkOperand(op, "A", transA ? k : m, transA ? m : k, aOff, lda, 0, 1, aLen);
        checkOperand(op, "B", transB ? n : k, transB ? k : n, bOff, ldb, 0, 1, bLen);
        checkOperand(op, "C", m, n, cOff, ldc, 0, 1, cLen);
        checkNoOverlap(op, aIsC, "A", transA ? k : m, transA ? m : k, aOff, lda, m, n, cOff, ldc);
        checkNoOverlap(op, bIsC, "B", transB ? n : k, transB ? k : n, bOff, ldb, m, n, cOff, ldc);
    }

    /** {@link #dgemm} on OpenBLAS ({@code useNative}, which must be available) or on the pure-Java product. */
    static void dgemm(boolean useNative, boolean transA, boolean transB, int m, int n, int k, double alpha,
            double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
            double beta, double[] c, int cOff, int ldc) {
        Objects.requireNonNull(a, "Gemm.dgemm: a");
        Objects.requireNonNull(b, "Gemm.dgemm: b");
        Objects.requireNonNull(c, "Gemm.dgemm: c");
        checkSingle("Gemm.dgemm", transA, transB, m, n, k, a.length, aOff, lda, b.length, bOff, ldb, c.length, cOff, ldc,
                a == c, b == c);
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0d) {
            GemmJavaDouble.scale(beta, m, n, c, cOff, ldc, false);
            return;
        }
        if (useNative) {
            GemmOpenBlas.dgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        } else {
            GemmJavaDouble.gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        }
    }

    /**
     * A batch of float32 products with equal shapes: for {@code i} in {@code [0, batch)},
     * {@code C_i = alpha · op(A_i) · op(B_i) + beta · C_i} where {@code A_i} starts at
     * {@code aOff + i * strideA} (likewise B and C). Typical use: attention scores
     * {@code Q_i · K_i^T} for each of the B·H (batch, head) pairs, items (T, D) apart by
     * {@code T * D}. A stride of 0 shares one A (or B) across the batch. The items of C must not
     * share elements: either {@code strideC >= (m - 1) * ldc + n}, or all items lie side by side
     * within one row span ({@code strideC >= n} and {@code (batch - 1) * strideC + n <= ldc}, e.g.
     * per-head column blocks of a (T, H·D) matrix). Items run in parallel, each one single-threaded.
     *
     * @param strideA elements between consecutive A items, {@code >= 0}
     * @param strideB elements between consecutive B items, {@code >= 0}
     * @param strideC elements between consecutive C items
     * @param batch number of products, {@code >= 0}
     * @throws IllegalArgumentException as {@link #sgemm}, for any item, if a stride is negative,
     *     or if items of C overlap
     * @throws NullPointerException if an array is null
     */
    public static void sgemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha,
            float[] a, int aOff, int lda, int strideA, float[] b, int bOff, int ldb, int strideB,
            float beta, float[] c, int cOff, int ldc, int strideC, int batch) {
        sgemmStridedBatched(Holder.NATIVE, transA, transB, m, n, k, alpha, a, aOff, lda, strideA, b, bOff, ldb, strideB,
                beta, c, cOff, ldc, strideC, batch);
    }

    /** {@link #sgemmStridedBatched} on OpenBLAS ({@code useNative}, which must be available) or on the pure-Java product. */
    static void sgemmStridedBatched(boolean useNative, boolean transA, boolean transB, int m, int n, int k, float alpha,
            float[] a, int aOff, int lda, int strideA, float[] b, int bOff, int ldb, int strideB,
            float beta, float[] c, int cOff, int ldc, int strideC, int batch) {
        String op = "Gemm.sgemmStridedBatched";
        Objects.requireNonNull(a, op + ": a");
        Objects.requireNonNull(b, op + ": b");
        Objects.requireNonNull(c, op + ": c");
        checkSizes(op, m, n, k);
        checkBatch(op, batch, strideA, strideB, strideC, m, n, ldc);
        checkOperand(op, "A", transA ? k : m, transA ? m : k, aOff, lda, strideA, batch, a.length);
        checkOperand(op, "B", transB ? n : k, transB ? k : n, bOff, ldb, strideB, batch, b.length);
        checkOperand(op, "C", m, n, cOff, ldc, strideC, batch, c.length);
        if (batch > 0) {
            checkNoOverlapBatched(op, a == c, "A", transA ? k : m, transA ? m : k, aOff, lda, strideA, batch,
                    m, n, cOff, ldc, strideC);
            checkNoOverlapBatched(op, b == c, "B", transB ? n : k, transB ? k : n, bOff, ldb, strideB, batch,
                    m, n, cOff, ldc, strideC);
        }
        if (m == 0 || n == 0 || batch == 0) return;
        if (useNative && k > 0 && alpha != 0f) {
            GemmOpenBlas.sgemmBatched(transA, transB, m, n, k, alpha, a, aOff, lda, strideA, b, bOff, ldb, strideB,
                    beta, c, cOff, ldc, strideC, batch);
            return;
        }
        Parallel.forRange(batch, 1, (from, to) -> {
            for (int i = from; i < to; i++) {
                int ci = cOff + i * strideC;
                if (k == 0 || alpha == 0f) {
                    GemmJavaFloat.scale(beta, m, n, c, ci, ldc, false);
                } else {
                    GemmJavaFloat.gemm(transA, transB, m, n, k, alpha, a, aOff + i * strideA, lda,
                            b, bOff + i * strideB, ldb, beta, c, ci, ldc);
                }
            }
        });
    }

    /**
     * A batch of float64 products with equal shapes; same contract as {@link #sgemmStridedBatched}.
     *
     * @throws IllegalArgumentException as {@link #sgemmStridedBatched}
     * @throws NullPointerException if an array is null
     */
    public static void dgemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, double alpha,
            double[] a, int aOff, int lda, int strideA, double[] b, int bOff, int ldb, int strideB,
            double beta, double[] c, int cOff, int ldc, int strideC, int batch) {
        dgemmStridedBatched(Holder.NATIVE, transA, transB, m, n, k, alpha, a, aOff, lda, strideA, b, bOff, ldb, strideB,
                beta, c, cOff, ldc, strideC, batch);
    }

    /** {@link #dgemmStridedBatched} on OpenBLAS ({@code useNative}, which must be available) or on the pure-Java product. */
    static void dgemmStridedBatched(boolean useNative, boolean transA, boolean transB, int m, int n, int k, double alpha,
            double[] a, int aOff, int lda, int strideA, double[] b, int bOff, int ldb, int strideB,
            double beta, double[] c, int cOff, int ldc, int strideC, int batch) {
        String op = "Gemm.dgemmStridedBatched";
        Objects.requireNonNull(a, op + ": a");
        Objects.requireNonNull(b, op + ": b");
        Objects.requireNonNull(c, op + ": c");
        checkSizes(op, m, n, k);
        checkBatch(op, batch, strideA, strideB, strideC, m, n, ldc);
        checkOperand(op, "A", transA ? k : m, transA ? m : k, aOff, lda, strideA, batch, a.length);
        checkOperand(op, "B", transB ? n : k, transB ? k : n, bOff, ldb, strideB, batch, b.length);
        checkOperand(op, "C", m, n, cOff, ldc, strideC, batch, c.length);
        if (batch > 0) {
            checkNoOverlapBatched(op, a == c, "A", transA ? k : m, transA ? m : k, aOff, lda, strideA, batch,
                    m, n, cOff, ldc, strideC);
            checkNoOverlapBatched(op, b == c, "B", transB ? n : k, transB ? k : n, bOff, ldb, strideB, batch,
                    m, n, cOff, ldc, strideC);
        }
        if (m == 0 || n == 0 || batch == 0) return;
        if (useNative && k > 0 && alpha != 0d) {
            GemmOpenBlas.dgemmBatched(transA, transB, m, n, k, alpha, a, aOff, lda, strideA, b, bOff, ldb, strideB,
                    beta, c, cOff, ldc, strideC, batch);
            return;
        }
        Parallel.forRange(batch, 1, (from, to) -> {
            for (int i = from; i < to; i++) {
                int ci = cOff + i * strideC;
                if (k == 0 || alpha == 0d) {
                    GemmJavaDouble.scale(beta, m, n, c, ci, ldc, false);
                } else {
                    GemmJavaDouble.gemm(transA, transB, m, n, k, alpha, a, aOff + i * strideA, lda,
                            b, bOff + i * strideB, ldb, beta, c, ci, ldc);
                }
            }
        });
    }

    // ------------------------------------------------------------------ argument checks

    private static void checkSizes(String op, int m, int n, int k) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException(op + ": m, n, k must be >= 0, got m=" + m + ", n=" + n + ", k=" + k);
        }
    }

    private static void checkBatch(String op, int batch, int strideA, int strideB, int strideC, int m, int n, int ldc) {
        if (batch < 0) throw new IllegalArgumentException(op + ": batch must be >= 0, got " + batch);
        if (strideA < 0 || strideB < 0 || strideC < 0) {
            throw new IllegalArgumentException(op + ": strides must be >= 0, got strideA=" + strideA
                    + ", strideB=" + strideB + ", strideC=" + strideC);
        }
        if (batch > 1 && m > 0 && n > 0) {
            boolean stacked = strideC >= (long) (m - 1) * ldc + n;
            boolean sideBySide = strideC >= n && (long) (batch - 1) * strideC + n <= ldc;
            if (!stacked && !sideBySide) {
                throw new IllegalArgumentException(op + ": items of C overlap: strideC must be >= "
                        + ((long) (m - 1) * ldc + n) + " ((m-1)*ldc+n), or items must sit side by side within ldc="
                        + ldc + ", got strideC=" + strideC + " for batch=" + batch + ", C " + m + "x" + n);
            }
        }
    }

    /**
     * Checks that a stored {@code rows × cols} matrix X with leading dimension {@code ld}, repeated
     * {@code batch} times {@code stride} apart from {@code off}, fits an array of {@code length}.
     */
    private static void checkOperand(String op, String name, int rows, int cols, int off, int ld,
            int stride, int batch, int length) {
        String lower = name.toLowerCase();
        if (off < 0) throw new IllegalArgumentException(op + ": " + lower + "Off must be >= 0, got " + off);
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException(op + ": ld" + lower + " must be >= " + Math.max(1, cols)
                    + " (columns of stored " + name + ", " + rows + "x" + cols + "), got " + ld);
        }
        if (rows == 0 || cols == 0 || batch == 0) return;
        long need = off + (long) (batch - 1) * stride + (long) (rows - 1) * ld + cols;
        if (need > length) {
            throw new IllegalArgumentException(op + ": " + lower + " is too short for stored " + name + " "
                    + rows + "x" + cols + " (ld" + lower + "=" + ld + ", " + lower + "Off=" + off
                    + (batch > 1 ? ", stride=" + stride + ", batch=" + batch : "")
                    + "): needs " + need + " elements, got " + length);
        }
    }

    private static void checkNoOverlap(String op, boolean sameArray, String name, int rows, int cols, int off, int ld,
            int m, int n, int cOff, int ldc) {
        if (!sameArray || rows == 0 || cols == 0 || m == 0 || n == 0) return;
        long xEnd = off + (long) (rows - 1) * ld + cols;
        long cEnd = cOff + (long) (m - 1) * ldc + n;
        if (off < cEnd && cOff < xEnd) {
            throw new IllegalArgumentException(op + ": C must not overlap " + name + " (same array, "
                    + name + " spans [" + off + ", " + xEnd + "), C spans [" + cOff + ", " + cEnd + "))");
        }
    }

    private static void checkNoOverlapBatched(String op, boolean sameArray, String name, int rows, int cols, int off,
            int ld, int stride, int batch, int m, int n, int cOff, int ldc, int strideC) {
        if (!sameArray || rows == 0 || cols == 0 || m == 0 || n == 0) return;
        long xEnd = off + (long) (batch - 1) * stride + (long) (rows - 1) * ld + cols;
        long cEnd = cOff + (long) (batch - 1) * strideC + (long) (m - 1) * ldc + n;
        if (off < cEnd && cOff < xEnd) {
            throw new IllegalArgumentException(op + ": C must not overlap " + name + " (same array, "
                    + name + " spans [" + off + ", " + xEnd + "), C spans [" + cOff + ", " + cEnd + "))");
        }
    }
}
