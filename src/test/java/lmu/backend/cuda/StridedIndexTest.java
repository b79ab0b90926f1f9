package lmu.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import lmu.tensor.Shape;
import org.junit.jupiter.api.Test;

/**
 * The index structs the strided kernels receive: evaluated here exactly as strided.cuh evaluates
 * them, they must give the same offsets as the plain row-major arithmetic for every element.
 */
class StridedIndexTest {
    /** Offset of output element idx under full (unmerged) strides. */
    private static int direct(int[] shape, int[] strides, int idx) {
        int off = 0;
        for (int d = shape.length - 1; d >= 0; d--) {
            off += (idx % shape[d]) * strides[d];
            idx /= shape[d];
        }
        return off;
    }

    private static int[] randomShape(Random r) {
        int rank = 1 + r.nextInt(6);
        int[] s = new int[rank];
        for (int i = 0; i < rank; i++) s[i] = r.nextInt(4) == 0 ? 1 : 1 + r.nextInt(5);
        return s;
    }

    @Test
    void broadcastOffsetsMatchRowMajorArithmetic() {
        Random r = new Random(7);
        for (int trial = 0; trial < 300; trial++) {
            int[] out = randomShape(r);
            int[] a = out.clone(), b = out.clone();
            for (int i = 0; i < out.length; i++) {
                if (r.nextInt(3) == 0) a[i] = 1;
                if (r.nextInt(3) == 0) b[i] = 1;
            }
            int[] bTrimmed = java.util.Arrays.copyOfRange(b, r.nextInt(b.length), b.length); // lower rank
            int[] sa = Shape.broadcastStrides(a, out), sb = Shape.broadcastStrides(bTrimmed, out);
            int[] t = StridedIndex.strided("test", out, sa, sb);
            assertTrue(t[0] <= out.length, "rank never grows");
            for (int i = 0; i < Shape.numel(out); i++) {
                int[] got = StridedIndex.offsets(t, i, 2);
                assertEquals(direct(out, sa, i), got[0], () -> "a offset, shape " + Shape.str(out));
                assertEquals(direct(out, sb, i), got[1], () -> "b offset, shape " + Shape.str(out));
            }
        }
    }

    @Test
    void permutedOffsetsMatch() {
        int[] x = {2, 3, 4, 5};
        int[] axes = {3, 1, 0, 2};
        int[] xs = Shape.strides(x);
        int[] shape = new int[4], st = new int[4];
        for (int i = 0; i < 4; i++) {
            shape[i] = x[axes[i]];
            st[i] = xs[axes[i]];
        }
        int[] t = StridedIndex.strided("permute", shape, st);
        for (int i = 0; i < Shape.numel(shape); i++) assertEquals(direct(shape, st, i), StridedIndex.offsets(t, i, 1)[0]);
    }

    @Test
    void contiguousDimensionsMergeIntoOne() {
        int[] shape = {3, 4, 5};
        int[] t = StridedIndex.strided("copy", shape, Shape.strides(shape), Shape.strides(shape));
        assertEquals(1, t[0]);
        assertEquals(60, t[StridedIndex.MAX_RANK]); // the one dimension sits in the last slot
        // a bias (last axis only) keeps two dimensions: rows (stride 0) and columns
        int[] bias = StridedIndex.strided("bias", shape, Shape.strides(shape), Shape.broadcastStrides(new int[] {5}, shape));
        assertEquals(2, bias[0]);
    }

    @Test
    void reductionVisitsEveryInputElementOnce() {
        Random r = new Random(11);
        for (int trial = 0; trial < 200; trial++) {
            int[] shape = randomShape(r);
            boolean[] reduce = new boolean[shape.length];
            int nOut = 1, rLen = 1;
            for (int i = 0; i < shape.length; i++) {
                reduce[i] = r.nextBoolean();
                if (reduce[i]) rLen *= shape[i];
                else nOut *= shape[i];
            }
            int[] t = StridedIndex.reduction("test", shape, reduce);
            int[] strides = Shape.strides(shape);
            int[] hits = new int[Shape.numel(shape)];
            for (int o = 0; o < nOut; o++) {
                for (int k = 0; k < rLen; k++) {
                    int off = StridedIndex.reductionOffset(t, o, k);
                    hits[off]++;
                    // the output index of that element (kept coordinates, row-major) must be o
                    int rem = off, outIdx = 0;
                    for (int d = 0; d < shape.length; d++) {
                        int c = rem / strides[d];
                        rem %= strides[d];
                        if (!reduce[d]) outIdx = outIdx * shape[d] + c;
                    }
                    assertEquals(o, outIdx, () -> "shape " + Shape.str(shape) + " reduce " + java.util.Arrays.toString(reduce));
                }
            }
            int[] ones = new int[hits.length];
            java.util.Arrays.fill(ones, 1);
            assertArrayEquals(ones, hits);
        }
    }

    @Test
    void badArgumentsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StridedIndex.strided("binary", new int[] {2, 3}, new int[] {1}));
        assertTrue(e.getMessage().startsWith("binary: strides [1] do not match shape [2, 3]"), e.getMessage());
        int[] big = {2, 3, 2, 3, 2, 3, 2, 3, 2};
        int[] alternating = new int[9];
        for (int i = 0; i < 9; i++) alternating[i] = i % 2 == 0 ? 0 : Shape.strides(big)[i];
        e = assertThrows(IllegalArgumentException.class, () -> StridedIndex.strided("expand", big, alternating));
        assertTrue(e.getMessage().contains("(expected: <= 8)"), e.getMessage());
    }
}
