package lmu.util;

import java.util.Arrays;

/**
 * Argument checks that name what was wrong: {@code Checks.positive("blockSize", 0)} throws
 * {@code IllegalArgumentException("blockSize : 0 (expected: > 0)")}.
 */
public final class Checks {
    private Checks() {}

    public static int positive(String name, int value) {
        if (value <= 0) throw new IllegalArgumentException(name + " : " + value + " (expected: > 0)");
        return value;
    }

    public static double positive(String name, double value) {
        if (!(value > 0)) throw new IllegalArgumentException(name + " : " + value + " (expected: > 0)");
        return value;
    }

    public static int nonNegative(String name, int value) {
        if (value < 0) throw new IllegalArgumentException(name + " : " + value + " (expected: >= 0)");
        return value;
    }

    public static double inRange(String name, double value, double lo, double hi) {
        if (!(value >= lo && value <= hi)) {
            throw new IllegalArgumentException(name + " : " + value + " (expected: in [" + lo + ", " + hi + "])");
        }
        return value;
    }

    /** Fails with {@code "<op>: <what> must have shape <expected>, got [..]"} unless {@code ok}. */
    public static void shape(boolean ok, String op, String what, String expected, int[] actual) {
        if (!ok) {
            throw new IllegalArgumentException(op + ": " + what + " must have shape " + expected + ", got " + Arrays.toString(actual));
        }
    }
}
