package lmu.backend.cuda;

/**
 * A CUDA grid or block extent ({@code dim3}).
 *
 * @param x extent along x, &gt; 0
 * @param y extent along y, &gt; 0
 * @param z extent along z, &gt; 0
 */
public record Dim3(int x, int y, int z) {
    /** A one-dimensional extent {@code (x, 1, 1)}. */
    public static Dim3 of(int x) {
        return new Dim3(x, 1, 1);
    }

    /** A two-dimensional extent {@code (x, y, 1)}. */
    public static Dim3 of(int x, int y) {
        return new Dim3(x, y, 1);
    }

    /** The number of threads (for a block) or blocks (for a grid), as a long. */
    public long volume() {
        return (long) x * y * z;
    }

    @Override
    public String toString() {
        return "(" + x + ", " + y + ", " + z + ")";
    }
}
