package lmu.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Defaults shared by every kernel benchmark: 4 warm-up and 5 measured iterations of 1 s, 2 forks
 * with a fixed, pre-touched 4 GiB heap. Subclasses may override any annotation, and the JMH command
 * line overrides them all, e.g. {@code -wi 1 -i 2 -f 1 -w 1s -r 1s} for a short run.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 4, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Xms4g", "-Xmx4g", "-XX:+AlwaysPreTouch"})
@State(Scope.Benchmark)
public abstract class AbstractKernelBenchmark {

    /** Parses {@code "AxBxC..."} into its integers, e.g. {@code "3200x384x384"}. */
    protected static int[] dims(String shape, int count) {
        String[] parts = shape.split("x");
        if (parts.length != count) {
            throw new IllegalArgumentException(
                    "shape must have " + count + " sizes separated by 'x', got '" + shape + "'");
        }
        int[] d = new int[count];
        for (int i = 0; i < count; i++) d[i] = Integer.parseInt(parts[i]);
        return d;
    }
}
