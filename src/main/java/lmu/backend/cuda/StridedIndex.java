package lmu.backend.cuda;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Builds the by-value index structs of {@code kernels/strided.cuh} ({@code Strided} and {@code
 * Reduction}) as int arrays for {@link Launch#struct(int[])}: dimensions of size 1 are dropped,
 * neighbouring dimensions that are contiguous in every operand are merged, and the rest is stored
 * right-aligned in {@value #MAX_RANK} slots. Plain Java (no JCuda), so the index arithmetic is
 * tested on any machine.
 */
public final class StridedIndex {
    /** {@code MAX_RANK} of strided.cuh. */
    public static final int MAX_RANK = 8;

    /** Number of ints of {@code struct Strided}: rank, shape[8], stride[3][8]. */
    public static final int STRIDED_INTS = 1 + 4 * MAX_RANK;

    /** Number of ints of {@code struct Reduction}: kept rank, shape, stride; reduced rank, shape, stride. */
    public static final int REDUCTION_INTS = 2 + 4 * MAX_RANK;

    private StridedIndex() {}

    /**
     * {@code struct Strided} for a contiguous output of {@code shape} read from up to three
     * operands through {@code strides} (each of the output's rank; missing operands get 0).
     *
     * @throws IllegalArgumentException when more than three operands are given, a stride array has
     *     the wrong length, or the merged rank exceeds {@value #MAX_RANK}
     */
    public static int[] strided(String op, int[] shape, int[]... strides) {
        if (strides.length > 3) {
            throw new IllegalArgumentException(op + ": at most 3 strided operands, got " + strides.length);
        }
        for (int[] s : strides) {
            if (s.length != shape.length) {
                throw new IllegalArgumentException(op + ": strides " + Arrays.toString(s) + " do not match shape "
                        + Arrays.toString(shape));
            }
        }
        List<int[]> dims = merge(shape, strides, null);
        int rank = dims.size();
        checkRank(op, rank, shape);
        int[] t = new int[STRIDED_INTS];
        t[0] = rank;
        for (int d = 0; d < rank; d++) {
            int slot = MAX_RANK - rank + d;
            int[] dim = dims.get(d);
            t[1 + slot] = dim[0];
            for (int k = 0; k < strides.length; k++) t[1 + MAX_RANK * (k + 1) + slot] = dim[1 + k];
        }
        return t;
    }

    /**
     * {@code struct Reduction} for summing a contiguous tensor of {@code shape} over the flagged axes
     * into a contiguous output with the kept axes in order.
     *
     * @throws IllegalArgumentException when {@code reduce} does not match the rank or a merged rank
     *     exceeds {@value #MAX_RANK}
     */
    public static int[] reduction(String op, int[] shape, boolean[] reduce) {
        if (reduce.length != shape.length) {
            throw new IllegalArgumentException(op + ": " + reduce.length + " reduce flags for shape " + Arrays.toString(shape));
        }
        int[] strides = lmu.tensor.Shape.strides(shape);
        List<int[]> kept = merge(shape, new int[][] {strides}, reduce, false);
        List<int[]> red = merge(shape, new int[][] {strides}, reduce, true);
        checkRank(op, kept.size(), shape);
        checkRank(op, red.size(), shape);
        int[] t = new int[REDUCTION_INTS];
        fill(t, 0, kept);
        fill(t, 1 + 2 * MAX_RANK, red);
        return t;
    }

    private static void fill(int[] t, int at, List<int[]> dims) {
        int rank = dims.size();
        t[at] = rank;
        for (int d = 0; d < rank; d++) {
            int slot = MAX_RANK - rank + d;
            t[at + 1 + slot] = dims.get(d)[0];
            t[at + 1 + MAX_RANK + slot] = dims.get(d)[1];
        }
    }

    private static void checkRank(String op, int rank, int[] shape) {
        if (rank > MAX_RANK) {
            throw new IllegalArgumentException(op + ": shape " + Arrays.toString(shape) + " needs " + rank
                    + " strided dimensions after merging (expected: <= " + MAX_RANK + ")");
        }
    }

    private static List<int[]> merge(int[] shape, int[][] strides, boolean[] select) {
        return merge(shape, strides, select, true);
    }

    /**
     * The dimensions (those with {@code select[d] == want}, all when select is null) of size &gt; 1
     * as {shape, stride0, stride1, ...}, neighbours merged where every operand is contiguous across them.
     */
    private static List<int[]> merge(int[] shape, int[][] strides, boolean[] select, boolean want) {
        List<int[]> out = new ArrayList<>();
        for (int d = shape.length - 1; d >= 0; d--) { // innermost first
            if (shape[d] == 1 || (select != null && select[d] != want)) continue;
            int[] dim = new int[1 + strides.length];
            dim[0] = shape[d];
            for (int k = 0; k < strides.length; k++) dim[1 + k] = strides[k][d];
            if (!out.isEmpty()) {
                int[] inner = out.get(out.size() - 1);
                boolean contiguous = true;
                for (int k = 0; k < strides.length; k++) contiguous &= dim[1 + k] == inner[1 + k] * inner[0];
                if (contiguous && (long) inner[0] * dim[0] <= Integer.MAX_VALUE) {
                    inner[0] *= dim[0];
                    continue;
                }
            }
            out.add(dim);
        }
        java.util.Collections.reverse(out);
        return out;
    }

    /**
     * The offsets of output element {@code idx} in each operand, as the device function {@code
     * strided_offsets} computes them (for tests and host-side checks).
     */
    public static int[] offsets(int[] t, int idx, int operands) {
        int[] off = new int[operands];
        int rank = t[0];
        for (int d = MAX_RANK - 1; d >= MAX_RANK - rank; d--) {
            int size = t[1 + d];
            int c = idx % size;
            idx /= size;
            for (int k = 0; k < operands; k++) off[k] += c * t[1 + MAX_RANK * (k + 1) + d];
        }
        return off;
    }

    /** The input offset of output {@code o}, reduction step {@code r}, as {@code reduction_*_offset} compute it. */
    public static int reductionOffset(int[] t, int o, int r) {
        return part(t, 0, o) + part(t, 1 + 2 * MAX_RANK, r);
    }

    private static int part(int[] t, int at, int idx) {
        int off = 0;
        int rank = t[at];
        for (int d = MAX_RANK - 1; d >= MAX_RANK - rank; d--) {
            int size = t[at + 1 + d];
            off += (idx % size) * t[at + 1 + MAX_RANK + d];
            idx /= size;
        }
        return off;
    }
}
