package lmu.tensor;

import java.util.Arrays;

/** Arithmetic on shapes (int arrays): element counts, row-major strides, broadcasting. */
public final class Shape {
    private Shape() {}

    /** Number of elements; fails on negative dimensions or int overflow. */
    public static int numel(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("Shape: negative dimension in " + Arrays.toString(shape));
            n *= d;
            if (n > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("Shape: " + Arrays.toString(shape) + " has more than 2^31-1 elements");
            }
        }
        return (int) n;
    }

    /** Row-major strides in elements. */
    public static int[] strides(int[] shape) {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    /** Normalises a possibly negative axis against {@code rank}. */
    public static int axis(int axis, int rank, String op) {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw new IllegalArgumentException(op + ": axis " + axis + " out of range for rank " + rank);
        }
        return a;
    }

    /** NumPy broadcasting of two shapes. */
    public static int[] broadcast(int[] a, int[] b, String op) {
        int rank = Math.max(a.length, b.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
            int db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(op + ": shapes " + Arrays.toString(a) + " and " + Arrays.toString(b)
                        + " cannot be broadcast (dimension " + i + ": " + da + " vs " + db + ")");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /**
     * Strides to read a tensor of shape {@code in} as if it had the broadcast shape {@code out}:
     * 0 along broadcast dimensions.
     */
    public static int[] broadcastStrides(int[] in, int[] out) {
        int[] inStrides = strides(in);
        int[] s = new int[out.length];
        int shift = out.length - in.length;
        for (int i = 0; i < out.length; i++) {
            if (i < shift) s[i] = 0;
            else s[i] = in[i - shift] == 1 ? 0 : inStrides[i - shift];
        }
        return s;
    }

    public static String str(int[] shape) {
        return Arrays.toString(shape);
    }
}
