package lmu.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import lmu.util.Parallel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Both implementations of {@link Gemm} against a naive triple loop in double precision. */
class GemmTest {

    /** m, n, k: tails, ones, non-square, and sizes large enough to take the parallel paths. */
    private static final int[][] SHAPES = {
        {1, 1, 1}, {3, 13, 207}, {13, 3, 1}, {207, 13, 3}, {1, 207, 13}, {65, 70, 259}, {207, 130, 64},
        {13, 300, 300}, {300, 5, 700},
    };

    private static final double[][] ALPHA_BETA = {{1, 0}, {0.5, -2}, {-1.5, 1}, {0, 3}};

    static List<Boolean> implementations() {
        List<Boolean> impls = new ArrayList<>();
        impls.add(false);
        if (Gemm.isNative()) impls.add(true);
        return impls;
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (boolean nat : implementations()) {
            for (int t = 0; t < 4; t++) {
                out.add(Arguments.of(nat, (t & 1) != 0, (t & 2) != 0));
            }
        }
        return out.stream();
    }

    static Stream<Arguments> impls() {
        return implementations().stream().map(Arguments::of);
    }

    /** A stored rows×cols matrix with leading dimension ld >= cols at offset off, rest of the array random too. */
    private record Stored(double[] data, int off, int ld, int rows, int cols) {
        static Stored random(Random rnd, int rows, int cols, int pad, int off) {
            int ld = cols + pad;
            double[] data = new double[off + Math.max(0, (rows - 1) * ld + cols) + 3];
            for (int i = 0; i < data.length; i++) data[i] = rnd.nextDouble() * 2 - 1;
            return new Stored(data, off, ld, rows, cols);
        }

        double op(boolean trans, int i, int j) {
            return trans ? data[off + j * ld + i] : data[off + i * ld + j];
        }

        float[] floats() {
            float[] f = new float[data.length];
            for (int i = 0; i < f.length; i++) f[i] = (float) data[i];
            return f;
        }
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    /**
     * Checks c (after) against alpha op(A) op(B) + beta c (before), computed in double from the
     * given operand values, inside the m×n block, and unchanged outside it.
     */
    private static void check(String what, double[] got, double[] before, boolean ta, boolean tb, int m, int n, int k,
            double alpha, Stored a, Stored b, double beta, int cOff, int ldc, double eps) {
        boolean[] inBlock = new boolean[got.length];
        int shown = 0;
        StringBuilder errors = new StringBuilder();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0, mag = 0;
                for (int p = 0; p < k; p++) {
                    double x = a.op(ta, i, p) * b.op(tb, p, j);
                    sum += x;
                    mag += Math.abs(x);
                }
                int idx = cOff + i * ldc + j;
                inBlock[idx] = true;
                double old = beta == 0 ? 0 : beta * before[idx];
                double ref = alpha * sum + old;
                double tol = 2 * (k + 2) * eps * (Math.abs(alpha) * mag + Math.abs(old)) + 1e-30;
                if (!(Math.abs(got[idx] - ref) <= tol) && shown++ < 5) {
                    errors.append(String.format("  C[%d,%d] = %s, expected %s (tol %.3g)%n", i, j, got[idx], ref, tol));
                }
            }
        }
        for (int i = 0; i < got.length; i++) {
            if (!inBlock[i] && Double.compare(got[i], before[i]) != 0 && shown++ < 5) {
                errors.append(String.format("  c[%d] outside C changed: %s -> %s%n", i, before[i], got[i]));
            }
        }
        if (shown > 0) fail(what + ": " + shown + " mismatches, first ones:\n" + errors);
    }

    @ParameterizedTest(name = "native={0} transA={1} transB={2}")
    @MethodSource("cases")
    void sgemmMatchesNaiveProduct(boolean nat, boolean ta, boolean tb) {
        Random rnd = new Random(17);
        for (int[] s : SHAPES) {
            int m = s[0], n = s[1], k = s[2];
            for (double[] ab : ALPHA_BETA) {
                Stored a = ta ? Stored.random(rnd, k, m, 3, 5) : Stored.random(rnd, m, k, 3, 5);
                Stored b = tb ? Stored.random(rnd, n, k, 0, 2) : Stored.random(rnd, k, n, 1, 0);
                Stored c0 = Stored.random(rnd, m, n, 2, 7);
                float[] af = a.floats(), bf = b.floats(), cf = c0.floats();
                double[] before = toDouble(cf);
                Gemm.sgemm(nat, ta, tb, m, n, k, (float) ab[0], af, a.off, a.ld, bf, b.off, b.ld,
                        (float) ab[1], cf, c0.off, c0.ld);
                // reference from the float-rounded inputs
                Stored ar = new Stored(toDouble(af), a.off, a.ld, a.rows, a.cols);
                Stored br = new Stored(toDouble(bf), b.off, b.ld, b.rows, b.cols);
                check("sgemm " + m + "x" + n + "x" + k + " alpha=" + ab[0] + " beta=" + ab[1], toDouble(cf), before,
                        ta, tb, m, n, k, (float) ab[0], ar, br, (float) ab[1], c0.off, c0.ld, Math.ulp(1f));
            }
        }
    }

    @ParameterizedTest(name = "native={0} transA={1} transB={2}")
    @MethodSource("cases")
    void dgemmMatchesNaiveProduct(boolean nat, boolean ta, boolean tb) {
        Random rnd = new Random(23);
        for (int[] s : SHAPES) {
            int m = s[0], n = s[1], k = s[2];
            for (double[] ab : ALPHA_BETA) {
                Stored a = ta ? Stored.random(rnd, k, m, 0, 1) : Stored.random(rnd, m, k, 2, 0);
                Stored b = tb ? Stored.random(rnd, n, k, 5, 3) : Stored.random(rnd, k, n, 0, 4);
                Stored c0 = Stored.random(rnd, m, n, 1, 2);
                double[] cd = c0.data.clone();
                Gemm.dgemm(nat, ta, tb, m, n, k, ab[0], a.data, a.off, a.ld, b.data, b.off, b.ld, ab[1], cd, c0.off, c0.ld);
                check("dgemm " + m + "x" + n + "x" + k + " alpha=" + ab[0] + " beta=" + ab[1], cd, c0.data,
                        ta, tb, m, n, k, ab[0], a, b, ab[1], c0.off, c0.ld, Math.ulp(1d));
            }
        }
    }

    @ParameterizedTest(name = "native={0}")
    @MethodSource("impls")
    void betaZeroIgnoresNaNInC(boolean nat) {
        float[] a = {1, 2, 3, 4}; // 2x2
        float[] b = {5, 6, 7, 8};
        float[] c = {Float.NaN, Float.NaN, Float.NaN, Float.NaN};
        Gemm.sgemm(nat, false, false, 2, 2, 2, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2);
        assertArrayEquals(new float[] {19, 22, 43, 50}, c);
        double[] cd = {Double.NaN, 1, 1, 1};
        Gemm.dgemm(nat, true, false, 2, 2, 2, 2.0, new double[] {1, 2, 3, 4}, 0, 2, new double[] {5, 6, 7, 8}, 0, 2,
                0.0, cd, 0, 2);
        // A^T = [[1,3],[2,4]]: A^T B = [[26, 30], [38, 44]]
        assertArrayEquals(new double[] {52, 60, 76, 88}, cd);
    }

    @ParameterizedTest(name = "native={0}")
    @MethodSource("impls")
    void emptyProductScalesC(boolean nat) {
        float[] c = {1, 2, 3, 4, 99};
        Gemm.sgemm(nat, false, false, 2, 2, 0, 1f, new float[0], 0, 1, new float[0], 0, 2, 3f, c, 0, 2);
        assertArrayEquals(new float[] {3, 6, 9, 12, 99}, c);
        Gemm.sgemm(nat, false, false, 0, 2, 5, 1f, new float[0], 0, 5, new float[10], 0, 2, 3f, c, 0, 2);
        assertArrayEquals(new float[] {3, 6, 9, 12, 99}, c);
    }

    @ParameterizedTest(name = "native={0}")
    @MethodSource("impls")
    void stridedBatchedMatchesItemByItem(boolean nat) {
        Random rnd = new Random(5);
        // (transA, transB, m, n, k, batch): attention-like 40x24 · 24x40, and enough work for the parallel path
        int[][] cases = {{0, 1, 40, 40, 24, 7}, {1, 0, 13, 9, 207, 3}, {0, 0, 64, 64, 64, 6}, {1, 1, 1, 3, 2, 1}};
        for (int[] cs : cases) {
            boolean ta = cs[0] == 1, tb = cs[1] == 1;
            int m = cs[2], n = cs[3], k = cs[4], batch = cs[5];
            for (boolean shareB : new boolean[] {false, true}) {
                int aSize = m * k, bSize = k * n, cSize = m * n;
                int strideA = aSize + 3, strideB = shareB ? 0 : bSize + 1, strideC = cSize + 2;
                float[] a = randomFloats(rnd, 4 + batch * strideA);
                float[] b = randomFloats(rnd, 1 + batch * (bSize + 1));
                float[] c = randomFloats(rnd, 2 + batch * strideC);
                float[] expect = c.clone();
                int lda = ta ? m : k, ldb = tb ? k : n;
                for (int i = 0; i < batch; i++) {
                    Gemm.sgemm(false, ta, tb, m, n, k, 0.7f, a, 4 + i * strideA, lda, b, 1 + i * strideB, ldb,
                            0.3f, expect, 2 + i * strideC, n);
                }
                Gemm.sgemmStridedBatched(nat, ta, tb, m, n, k, 0.7f, a, 4, lda, strideA, b, 1, ldb, strideB,
                        0.3f, c, 2, n, strideC, batch);
                assertClose(expect, c, 1e-4f, "sgemmStridedBatched " + m + "x" + n + "x" + k + " batch " + batch);

                double[] ad = toDouble(a), bd = toDouble(b), cd = toDouble(c), expectD = cd.clone();
                for (int i = 0; i < batch; i++) {
                    Gemm.dgemm(false, ta, tb, m, n, k, -1.0, ad, 4 + i * strideA, lda, bd, 1 + i * strideB, ldb,
                            2.0, expectD, 2 + i * strideC, n);
                }
                Gemm.dgemmStridedBatched(nat, ta, tb, m, n, k, -1.0, ad, 4, lda, strideA, bd, 1, ldb, strideB,
                        2.0, cd, 2, n, strideC, batch);
                for (int i = 0; i < cd.length; i++) {
                    assertEquals(expectD[i], cd[i], 1e-12 * (1 + Math.abs(expectD[i])), "dgemmStridedBatched at " + i);
                }
            }
        }
    }

    @ParameterizedTest(name = "native={0}")
    @MethodSource("impls")
    void stridedBatchedWritesSideBySideHeads(boolean nat) {
        // C of shape (T, H*D) where head h writes columns [h*D, (h+1)*D): items interleave within each row
        int t = 50, h = 6, d = 16, k = 30;
        Random rnd = new Random(9);
        float[] a = randomFloats(rnd, h * t * k); // (H, T, k)
        float[] b = randomFloats(rnd, h * k * d); // (H, k, D)
        float[] c = new float[t * h * d];
        Gemm.sgemmStridedBatched(nat, false, false, t, d, k, 1f, a, 0, k, t * k, b, 0, d, k * d, 0f, c, 0, h * d, d, h);
        for (int head = 0; head < h; head++) {
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < d; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += (double) a[head * t * k + i * k + p] * b[head * k * d + p * d + j];
                    assertEquals(s, c[i * h * d + head * d + j], 1e-4, "head " + head + " (" + i + "," + j + ")");
                }
            }
        }
    }

    @ParameterizedTest(name = "native={0}")
    @MethodSource("impls")
    void productsInsideParallelLoopsMatchSequentialOnes(boolean nat) {
        Random rnd = new Random(3);
        int m = 120, n = 90, k = 110, items = 8;
        float[] a = randomFloats(rnd, m * k), b = randomFloats(rnd, k * n);
        float[] expect = new float[m * n];
        Gemm.sgemm(nat, false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, expect, 0, n);
        float[][] outs = new float[items][m * n];
        Parallel.forRange(items, i -> Gemm.sgemm(nat, false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, outs[i], 0, n));
        for (float[] out : outs) assertClose(expect, out, 1e-4f, "nested product");
    }

    @Test
    void implementationIsDescribed() {
        String impl = Gemm.implementation();
        if (Gemm.isNative()) {
            assertTrue(impl.startsWith("OpenBLAS "), impl);
        } else {
            assertTrue(impl.startsWith("pure Java ("), impl);
        }
        assertTrue(impl.contains(Parallel.threads() + " threads"), impl);
    }

    @Test
    void badArgumentsAreNamed() {
        float[] a = new float[6], b = new float[5], c = new float[4];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.sgemm(false, false, 2, 2, 3, 1f, a, 0, 3, b, 0, 2, 0f, c, 0, 2));
        assertTrue(e.getMessage().contains("Gemm.sgemm: b is too short for stored B 3x2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.sgemm(false, false, 2, 2, 3, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2));
        assertTrue(e.getMessage().contains("lda must be >= 3 (columns of stored A, 2x3), got 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.sgemm(true, false, 2, 2, 3, 1f, a, 0, 1, new float[9], 0, 3, 0f, c, 0, 2));
        assertTrue(e.getMessage().contains("lda must be >= 2 (columns of stored A, 3x2), got 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.sgemm(false, false, 2, 2, 3, 1f, a, 1, 3, new float[6], 0, 2, 0f, c, 0, 2));
        assertTrue(e.getMessage().contains("a is too short for stored A 2x3 (lda=3, aOff=1): needs 7 elements, got 6"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.dgemm(false, false, 2, -1, 3, 1, new double[6], 0, 3, new double[6], 0, 2, 0, new double[4], 0, 2));
        assertTrue(e.getMessage().contains("Gemm.dgemm: m, n, k must be >= 0, got m=2, n=-1, k=3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.sgemm(false, false, 2, 2, 2, 1f, c, 0, 2, b, 0, 2, 0f, c, 0, 2));
        assertTrue(e.getMessage().contains("C must not overlap A"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Gemm.sgemmStridedBatched(false, false, 2, 2, 2, 1f,
                new float[8], 0, 2, 4, new float[8], 0, 2, 4, 0f, new float[8], 0, 2, 3, 2));
        assertTrue(e.getMessage().contains("items of C overlap"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Gemm.sgemmStridedBatched(false, false, 2, 2, 2, 1f,
                new float[8], 0, 2, 4, new float[7], 0, 2, 4, 0f, new float[8], 0, 2, 4, 2));
        assertTrue(e.getMessage().contains("b is too short for stored B 2x2 (ldb=2, bOff=0, stride=4, batch=2)"),
                e.getMessage());
        assertThrows(NullPointerException.class, () -> Gemm.sgemm(false, false, 1, 1, 1, 1f, null, 0, 1, b, 0, 1, 0f, c, 0, 1));
    }

    private static float[] randomFloats(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = rnd.nextFloat() * 2 - 1;
        return x;
    }

    private static void assertClose(float[] expect, float[] got, float tol, String what) {
        for (int i = 0; i < expect.length; i++) {
            if (!(Math.abs(expect[i] - got[i]) <= tol * (1 + Math.abs(expect[i])))) {
                fail(what + ": at " + i + " got " + got[i] + ", expected " + expect[i]);
            }
        }
    }
}
