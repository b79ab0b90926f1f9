package lmu.autograd;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Wall time per op, forward and backward, when switched on ({@code train --profile}). Off by
 * default: then it costs one volatile read per op.
 */
public final class Profiler {
    private static volatile boolean enabled;
    private static final Map<String, LongAdder> NANOS = new ConcurrentHashMap<>();
    private static final Map<String, LongAdder> CALLS = new ConcurrentHashMap<>();

    private Profiler() {}

    public static void enable(boolean on) {
        enabled = on;
    }

    public static boolean enabled() {
        return enabled;
    }

    static void record(String key, long nanos) {
        NANOS.computeIfAbsent(key, k -> new LongAdder()).add(nanos);
        CALLS.computeIfAbsent(key, k -> new LongAdder()).increment();
    }

    /** Records time spent outside ops (data loading, optimizer) under {@code key}. */
    public static void add(String key, long nanos) {
        if (enabled) record(key, nanos);
    }

    public static void reset() {
        NANOS.clear();
        CALLS.clear();
    }

    /** A table of total time, share and calls per entry, largest first. */
    public static String table() {
        long total = NANOS.values().stream().mapToLong(LongAdder::sum).sum();
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-34s %10s %7s %9s%n", "op", "ms", "share", "calls"));
        new TreeMap<>(NANOS).entrySet().stream()
                .sorted((x, y) -> Long.compare(y.getValue().sum(), x.getValue().sum()))
                .forEach(e -> b.append(String.format(Locale.ROOT, "%-34s %10.1f %6.1f%% %9d%n", e.getKey(), e.getValue().sum() / 1e6,
                        100.0 * e.getValue().sum() / Math.max(1, total), CALLS.get(e.getKey()).sum())));
        return b.toString();
    }
}
