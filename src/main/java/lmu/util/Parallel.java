package lmu.util;

import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/** Parallel loops over an index range. */
public final class Parallel {
    private Parallel() {}

    public static int threads() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** Runs body(i) for i in [0, n), in parallel when n > 1. */
    public static void forRange(int n, IntConsumer body) {
        if (n <= 1) {
            for (int i = 0; i < n; i++) body.accept(i);
        } else {
            IntStream.range(0, n).parallel().forEach(body);
        }
    }
}
