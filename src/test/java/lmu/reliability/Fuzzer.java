package lmu.reliability;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import lmu.util.Rng;

/**
 * Runs one parser over seeded mutations of valid inputs, bounded by a case count and a time
 * budget, and fails on the first input that escapes the contract: every input must parse or
 * throw the parser's own exception (checked by {@code expected}) within {@link #PER_INPUT_SECONDS},
 * and allocate no more than {@link #ALLOC_BASE} plus {@link #ALLOC_PER_BYTE} times its size (a
 * forged length field must never turn into a huge allocation, even where the heap could hold it).
 * A failing input is saved under {@code target/fuzz-failures/} and named in the message with its
 * seed and case number, so it can be replayed.
 *
 * <p>System properties: {@code lmu.fuzz.seconds} (budget per parser, scaled by its weight;
 * default 2.5), {@code lmu.fuzz.cases} (cap per parser, default 20000), {@code lmu.fuzz.min_cases}
 * (floor per parser, default 1000), {@code lmu.fuzz.seed}.
 */
final class Fuzzer implements AutoCloseable {
    static final double SECONDS = Double.parseDouble(System.getProperty("lmu.fuzz.seconds", "2.5"));
    static final int MAX_CASES = Integer.getInteger("lmu.fuzz.cases", 20_000);
    static final long SEED = Long.getLong("lmu.fuzz.seed", 20261125L);
    /**
     * Every parser gets at least this many inputs, even when the budget runs out first (a heavily
     * loaded machine); an idle core runs thousands per parser within the budget.
     */
    static final int MIN_CASES = Math.min(MAX_CASES, Integer.getInteger("lmu.fuzz.min_cases", 1000));
    static final int PER_INPUT_SECONDS = 10;
    static final long ALLOC_BASE = 48L << 20;
    static final long ALLOC_PER_BYTE = 1024;

    /** A parser under test. */
    @FunctionalInterface
    interface Parser {
        void parse(Path file) throws Exception;
    }

    /** What a run did. */
    record Result(String name, int cases, int parsed, int rejected, long maxAllocated, double seconds, double slowestMs, int slowestCase) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "fuzz %-22s %6d inputs in %.2f s (seed %d): %d parsed, %d rejected; most allocated by one"
                    + " input %.1f MiB; slowest input %.1f ms (#%d)", name, cases, seconds, SEED, parsed, rejected, maxAllocated / 1048576.0,
                    slowestMs, slowestCase);
        }
    }

    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "fuzz-worker");
        t.setDaemon(true); // a parser stuck in a loop must not keep the JVM alive
        return t;
    });

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    private record Outcome(Throwable error, long allocated, long nanos) {}

    /**
     * @param weight share of the time budget: {@code weight * lmu.fuzz.seconds}
     * @param seeds valid inputs to mutate
     * @param text whether to add text-level mutations
     * @param file where each input is written before {@code parser} reads it
     * @param expected accepts the parser's own, clear exceptions
     */
    Result run(String name, double weight, List<byte[]> seeds, boolean text, Path file, Parser parser, Predicate<Throwable> expected)
            throws IOException, InterruptedException {
        long seed = SEED ^ name.hashCode();
        long t0 = System.nanoTime(), deadline = t0 + (long) (SECONDS * weight * 1e9);
        int cases = 0, parsed = 0, rejected = 0;
        long maxAlloc = 0, slowest = 0;
        int slowestCase = -1;
        // the budget ends the run, but never before MIN_CASES inputs: on a loaded machine it takes longer instead of proving less
        while (cases < MAX_CASES && (cases < MIN_CASES || System.nanoTime() < deadline)) {
            int caseNo = cases++;
            Rng rng = Rng.derive(seed, caseNo);
            byte[] input = Mutator.mutate(seeds.get(rng.nextInt(seeds.size())), rng, text);
            Files.write(file, input);
            Future<Outcome> f = worker.submit(() -> {
                long a0 = allocatedBytes(), n0 = System.nanoTime();
                try {
                    parser.parse(file);
                    return new Outcome(null, allocatedBytes() - a0, System.nanoTime() - n0);
                } catch (Throwable t) {
                    return new Outcome(t, allocatedBytes() - a0, System.nanoTime() - n0);
                }
            });
            Outcome o;
            try {
                o = f.get(PER_INPUT_SECONDS, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                f.cancel(true);
                fail(describe(name, caseNo, input) + " did not finish in " + PER_INPUT_SECONDS + " s (a hang)");
                return null;
            } catch (ExecutionException e) {
                throw new AssertionError(e);
            }
            maxAlloc = Math.max(maxAlloc, o.allocated);
            if (o.nanos > slowest) {
                slowest = o.nanos;
                slowestCase = caseNo;
            }
            long allowed = ALLOC_BASE + ALLOC_PER_BYTE * input.length;
            if (o.allocated > allowed) {
                fail(describe(name, caseNo, input) + " allocated " + o.allocated + " bytes, more than the " + allowed
                        + " allowed for its size (a forged length field?); outcome: " + (o.error == null ? "parsed" : o.error));
            }
            if (o.error == null) {
                parsed++;
            } else if (expected.test(o.error)) {
                rejected++;
            } else {
                StringWriter trace = new StringWriter();
                o.error.printStackTrace(new PrintWriter(trace));
                fail(describe(name, caseNo, input) + " escaped with " + o.error + "\n" + trace, o.error);
            }
        }
        Result r = new Result(name, cases, parsed, rejected, maxAlloc, (System.nanoTime() - t0) / 1e9, slowest / 1e6, slowestCase);
        System.out.println(r);
        return r;
    }

    private static String describe(String name, int caseNo, byte[] input) {
        Path saved = Path.of("target", "fuzz-failures", name.replaceAll("[^A-Za-z0-9]+", "_") + "-" + SEED + "-" + caseNo + ".bin");
        try {
            Files.createDirectories(saved.getParent());
            Files.write(saved, input);
        } catch (IOException e) {
            saved = null;
        }
        return name + " input " + caseNo + " of seed " + SEED + " (" + input.length + " bytes" + (saved == null ? "" : ", saved as " + saved) + ")";
    }

    /** True for {@code t} of type {@code type} with a message that contains {@code mustContain}. */
    static Predicate<Throwable> ofType(Class<? extends Throwable> type, String mustContain) {
        return t -> type.isInstance(t) && t.getMessage() != null && t.getMessage().contains(mustContain);
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
