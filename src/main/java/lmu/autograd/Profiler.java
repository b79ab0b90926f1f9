package lmu.autograd;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Wall time per op type, forward and backward, when switched on ({@code train --profile},
 * {@code bench-step --profile}). Off by default: then it costs one volatile read per op. Ops record
 * under their {@link Function#name()}; time spent outside ops (optimizer, data loading) is added
 * with {@link #add}.
 */
public final class Profiler {
    private static volatile boolean enabled;
    /** Per key: [forward nanos, forward calls, backward nanos, backward calls, other nanos, other calls]. */
    private static final Map<String, LongAdder[]> STATS = new ConcurrentHashMap<>();

    private Profiler() {}

    public static void enable(boolean on) {
        enabled = on;
    }

    public static boolean enabled() {
        return enabled;
    }

    private static LongAdder[] stats(String key) {
        return STATS.computeIfAbsent(key, k -> {
            LongAdder[] a = new LongAdder[6];
            for (int i = 0; i < a.length; i++) a[i] = new LongAdder();
            return a;
        });
    }

    /** Records one forward ({@code backward == false}) or backward run of op {@code op}. */
    static void record(String op, boolean backward, long nanos) {
        LongAdder[] s = stats(op);
        s[backward ? 2 : 0].add(nanos);
        s[backward ? 3 : 1].increment();
    }

    /** Records time spent outside ops (data loading, optimizer) under {@code key}. */
    public static void add(String key, long nanos) {
        if (!enabled) return;
        LongAdder[] s = stats(key);
        s[4].add(nanos);
        s[5].increment();
    }

    public static void reset() {
        STATS.clear();
    }

    /** A table of forward, backward and total time per entry and its share of all recorded time, largest first. */
    public static String table() {
        return table(0, 0);
    }

    /**
     * The per-op table. With {@code steps > 0} times are per step and shares are of the measured
     * wall time {@code wallNanos} of those steps, with a row for the time outside every op
     * (autograd bookkeeping, gradient accumulation, allocation); otherwise totals and shares of
     * all recorded time.
     *
     * @param steps number of steps the recorded time covers, 0 for totals
     * @param wallNanos wall time of those steps (used when steps &gt; 0)
     */
    public static String table(int steps, long wallNanos) {
        record Row(String key, long fwd, long fwdCalls, long bwd, long bwdCalls, long other, long otherCalls) {
            long total() {
                return fwd + bwd + other;
            }
        }
        List<Row> rows = new ArrayList<>();
        long fwdSum = 0, bwdSum = 0, otherSum = 0;
        for (Map.Entry<String, LongAdder[]> e : STATS.entrySet()) {
            LongAdder[] s = e.getValue();
            Row r = new Row(e.getKey(), s[0].sum(), s[1].sum(), s[2].sum(), s[3].sum(), s[4].sum(), s[5].sum());
            rows.add(r);
            fwdSum += r.fwd;
            bwdSum += r.bwd;
            otherSum += r.other;
        }
        rows.sort((x, y) -> Long.compare(y.total(), x.total()));
        long recorded = fwdSum + bwdSum + otherSum;
        boolean perStep = steps > 0;
        double div = perStep ? steps * 1e6 : 1e6;
        long base = perStep ? Math.max(wallNanos, 1) : Math.max(recorded, 1);
        String unit = perStep ? "ms/step" : "ms";
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-30s %12s %12s %12s %7s %9s%n", "op",
                "fwd " + unit, "bwd " + unit, "total", "share", perStep ? "calls/step" : "calls"));
        for (Row r : rows) {
            long calls = r.fwdCalls + r.bwdCalls + r.otherCalls;
            b.append(line(r.key, r.fwdCalls + r.bwdCalls == 0 ? -1 : r.fwd, r.fwdCalls + r.bwdCalls == 0 ? -1 : r.bwd, r.total(), div, base,
                    perStep ? String.format(Locale.ROOT, "%.1f", calls / (double) steps) : Long.toString(calls)));
        }
        if (perStep) {
            b.append(line("(outside ops)", -1, -1, Math.max(0, wallNanos - recorded), div, base, ""));
            b.append(line("all ops: forward / backward", fwdSum, bwdSum, fwdSum + bwdSum, div, base, ""));
            b.append(line("step (wall)", -1, -1, wallNanos, div, base, ""));
        }
        return b.toString();
    }

    /** One row; a negative forward or backward time prints as "-". */
    private static String line(String key, long fwd, long bwd, long total, double div, long base, String calls) {
        return String.format(Locale.ROOT, "%-30s %12s %12s %12.1f %6.1f%% %9s%n", key, ms(fwd, div), ms(bwd, div), total / div,
                100.0 * total / base, calls);
    }

    private static String ms(long nanos, double div) {
        return nanos < 0 ? "-" : String.format(Locale.ROOT, "%.1f", nanos / div);
    }
}
