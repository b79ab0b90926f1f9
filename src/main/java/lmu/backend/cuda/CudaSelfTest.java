package lmu.backend.cuda;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The CPU-vs-CUDA parity suite: every {@link ParityCheck} of {@link #checks()} runs on device 0 and
 * prints one PASS/FAIL row, then a summary. {@code java -jar lmu-engine.jar check --parity} and the
 * {@code @Tag("gpu")} JUnit test {@code CudaParityTest} run this same list, so the checks live in
 * one place.
 *
 * <p>To add checks, add one line to {@link #checks()} ({@code c.add(ParityCheck.of(...))} or {@code
 * c.addAll(MyKernelParity.checks())}).
 *
 * <p>{@code java -cp lmu-engine.jar lmu.backend.cuda.CudaSelfTest [regex]} runs the checks whose
 * name contains a match of the regex (all without one); exit status 1 on a failure or without CUDA.
 */
public final class CudaSelfTest {
    private CudaSelfTest() {}

    /**
     * Every parity check, in the order they run. Names are unique.
     *
     * <p>Registration point: one line per group of checks.
     */
    public static List<ParityCheck> checks() {
        List<ParityCheck> c = new ArrayList<>();
        c.addAll(KernelChecks.all()); // launchers of CudaKernels against float64 code written out
        c.addAll(BackendParity.all()); // every Backend op: CudaBackend against CpuBackend, forward and backward
        c.addAll(HalfParity.all()); // f16/bf16 storage, casts and products against the CPU's rounding emulation
        c.addAll(lmu.backend.cuda.kernels.OptimizerKernelChecks.all()); // the OptimizerKernels family against the CPU's
        for (var k : lmu.backend.cuda.kernels.ModelKernelChecks.checks()) { // CTC, LMU recurrence/convolution, attention
            c.add(ParityCheck.of(k.name(), p -> k.body().run(p.ctx(), p.staging(), (w, g, r, n) -> p.compare(w, g, r, n, Tolerance.F32))));
        }
        c.addAll(lmu.backend.cuda.kernels.HalfAttentionChecks.all()); // tensor-core attention (f16/bf16) against float64
        c.addAll(lmu.backend.cuda.kernels.LmuLayerChecks.all()); // the LMU layer on the device path through autograd
        c.addAll(lmu.backend.cuda.kernels.FeatureKernelChecks.checks()); // log-mel features against LogMel
        return c;
    }

    /** The outcome of one check. */
    public record Outcome(String name, boolean passed, double worst, List<String> problems) {}

    /** Runs every check on device 0; returns the failure messages (empty when all pass). */
    public static List<String> run() {
        return run(name -> true);
    }

    /**
     * Runs the checks whose name passes {@code filter} on device 0, printing a table; returns the
     * failure messages (empty when all pass).
     *
     * @throws IllegalStateException when CUDA is not available
     */
    public static List<String> run(Predicate<String> filter) {
        List<String> failures = new ArrayList<>();
        for (Outcome o : runChecks(filter)) {
            if (!o.passed()) failures.add(o.name() + ": " + String.join("; ", o.problems()));
        }
        return failures;
    }

    /**
     * Runs the selected checks and returns their outcomes (also printed as a table).
     *
     * @throws IllegalStateException when CUDA is not available
     */
    public static List<Outcome> runChecks(Predicate<String> filter) {
        Cuda.ensureAvailable();
        List<ParityCheck> all = checks();
        requireUniqueNames(all);
        List<Outcome> outcomes = new ArrayList<>();
        CudaBackend[] shared = new CudaBackend[1];
        try (CudaContext ctx = CudaContext.open(0);
                PinnedStaging io = new PinnedStaging(ctx, 1 << 16)) { // small chunks: exercise chunking
            System.out.println("device: " + ctx + ", " + CachingAllocator.bytes(ctx.totalBytes()) + ", "
                    + ctx.multiprocessors() + " SMs");
            Supplier<CudaBackend> backend = () -> {
                if (shared[0] == null) {
                    shared[0] = CudaBackend.on(ctx);
                    System.out.println("matmul: " + shared[0].matmulImplementation());
                }
                return shared[0];
            };
            System.out.printf(Locale.ROOT, "%-48s %-6s %s%n", "check", "result", "worst error / bound");
            for (ParityCheck check : all) {
                if (!filter.test(check.name())) continue;
                Outcome o = runOne(check, ctx, io, backend);
                outcomes.add(o);
                System.out.printf(Locale.ROOT, "%-48s %-6s %s%n", check.name(), o.passed() ? "PASS" : "FAIL",
                        Double.isFinite(o.worst()) ? String.format(Locale.ROOT, "%.3f", o.worst()) : "-");
                for (String problem : o.problems()) System.out.println("    " + problem);
            }
            ctx.synchronize();
            System.out.println("allocator: " + ctx.allocator().stats());
            if (shared[0] != null) shared[0].close();
        }
        long failed = outcomes.stream().filter(o -> !o.passed()).count();
        System.out.println(failed == 0 ? "all " + outcomes.size() + " checks passed"
                : failed + " of " + outcomes.size() + " check(s) failed");
        return outcomes;
    }

    private static Outcome runOne(ParityCheck check, CudaContext ctx, PinnedStaging io, Supplier<CudaBackend> backend) {
        try (ParityRun p = new ParityRun(check.name(), ctx, io, backend)) {
            try {
                check.body().run(p);
                ctx.synchronize(); // an asynchronous fault belongs to this check
            } catch (RuntimeException e) {
                List<String> problems = new ArrayList<>(p.mismatches());
                problems.add(e.toString());
                try {
                    ctx.synchronize();
                } catch (RuntimeException later) { // a fault that poisons the context: later checks fail too
                    problems.add("after the failure: " + later.getMessage());
                }
                return new Outcome(check.name(), false, Double.POSITIVE_INFINITY, problems);
            }
            if (p.comparisons() == 0) {
                return new Outcome(check.name(), false, Double.POSITIVE_INFINITY, List.of("the check compared nothing"));
            }
            return new Outcome(check.name(), p.mismatches().isEmpty(), p.worst(), List.copyOf(p.mismatches()));
        }
    }

    /**
     * @throws IllegalStateException naming the first duplicate
     */
    static void requireUniqueNames(List<ParityCheck> checks) {
        Set<String> seen = new HashSet<>();
        for (ParityCheck c : checks) {
            if (!seen.add(c.name())) throw new IllegalStateException("CudaSelfTest: two checks are named '" + c.name() + "'");
        }
    }

    /**
     * Runs the checks (those matching the regex in {@code args[0]}, if given).
     *
     * @throws IllegalStateException when CUDA is not available or a check failed (exit status 1)
     */
    public static void main(String[] args) {
        Cuda.ensureAvailable();
        Predicate<String> filter = args.length == 0 ? n -> true : java.util.regex.Pattern.compile(args[0]).asPredicate();
        List<String> failures = run(filter);
        if (!failures.isEmpty()) throw new IllegalStateException("CudaSelfTest: " + failures.size() + " check(s) failed");
    }
}
