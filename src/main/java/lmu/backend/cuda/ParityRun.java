package lmu.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * What a {@link ParityCheck} body works with: the device context, pinned copies, a random source
 * seeded from the check's name (a failure reproduces), device buffers that are freed when the
 * check ends, and {@link #compare} which holds each output to {@link Tolerance}.
 *
 * <p>Only {@link CudaSelfTest} creates these.
 */
public final class ParityRun implements AutoCloseable {
    /** How many mismatches a failed comparison lists. */
    static final int SHOWN_MISMATCHES = 5;

    private final String checkName;
    private final CudaContext ctx;
    private final PinnedStaging io;
    private final Random random;
    private final List<DeviceBuffer> owned = new ArrayList<>();
    private final List<String> mismatches = new ArrayList<>();
    private final java.util.function.Supplier<CudaBackend> shared;
    private CudaBackend own;
    private double worst; // largest error / bound over all comparisons
    private int comparisons;

    ParityRun(String checkName, CudaContext ctx, PinnedStaging io, java.util.function.Supplier<CudaBackend> shared) {
        this.checkName = checkName;
        this.shared = shared;
        this.ctx = ctx;
        this.io = io;
        this.random = new Random(checkName.hashCode() * 0x9E3779B97F4A7C15L);
    }

    /** The device the check runs on. */
    public CudaContext ctx() {
        return ctx;
    }

    /** Pinned host↔device copies on the context's stream. */
    public PinnedStaging staging() {
        return io;
    }

    /**
     * The {@link CudaBackend} on this context, shared by the checks of one run (matrix products per
     * the system properties), or the one set by {@link #useBackend}.
     */
    public CudaBackend backend() {
        return own != null ? own : shared.get();
    }

    /** Uses {@code b} as this check's backend (closed when the check ends). */
    void useBackend(CudaBackend b) {
        if (own != null) own.close();
        own = b;
    }

    /** The check's random source (seeded from its name). */
    public Random random() {
        return random;
    }

    /** {@code n} normal values times {@code scale}. */
    public float[] randn(int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (random.nextGaussian() * scale);
        return a;
    }

    /** {@code n} values uniform in [lo, hi). */
    public float[] uniform(int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (lo + (hi - lo) * random.nextDouble());
        return a;
    }

    /** A device buffer of {@code floats} floats (at least 1), freed when the check ends; contents undefined. */
    public DeviceBuffer alloc(int floats) {
        DeviceBuffer b = ctx.allocator().allocate(4L * Math.max(1, floats));
        owned.add(b);
        return b;
    }

    /** A device copy of {@code a}, freed when the check ends. */
    public DeviceBuffer upload(float[] a) {
        DeviceBuffer b = alloc(a.length);
        if (a.length > 0) io.upload(a, 0, a.length, b.ptr());
        return b;
    }

    /** The first {@code n} floats of {@code b} (waits for the work enqueued before). */
    public float[] download(DeviceBuffer b, int n) {
        float[] a = new float[n];
        if (n > 0) io.download(b.ptr(), a, 0, n);
        return a;
    }

    /** As {@link #compare(String, float[], double[], int, Tolerance)} with a float reference. */
    public void compare(String what, float[] got, float[] ref, int n, Tolerance tol) {
        double[] r = new double[ref.length];
        for (int i = 0; i < r.length; i++) r[i] = ref[i];
        compare(what, got, r, n, tol);
    }

    /**
     * Holds {@code got} to {@code ref} under {@code tol}; records the first mismatches (index, value,
     * reference, bound) for the report. A length difference is a mismatch.
     *
     * @param what the output's name within the check, e.g. {@code "dx"}
     * @param got the GPU's values
     * @param ref the reference values
     * @param n length of the longest sum behind each value (see {@link Tolerance})
     * @param tol the precision's tolerance
     */
    public void compare(String what, float[] got, double[] ref, int n, Tolerance tol) {
        comparisons++;
        if (got.length != ref.length) {
            mismatches.add(what + ": length " + got.length + ", reference length " + ref.length);
            worst = Double.POSITIVE_INFINITY;
            return;
        }
        int bad = 0;
        List<String> shown = new ArrayList<>();
        for (int i = 0; i < got.length; i++) {
            double bound = tol.bound(ref[i], n);
            boolean ok = tol.matches(got[i], ref[i], n);
            double ratio = Double.isFinite(ref[i]) ? Math.abs(got[i] - ref[i]) / bound : (ok ? 0 : Double.POSITIVE_INFINITY);
            if (Double.isNaN(ratio)) ratio = Double.POSITIVE_INFINITY;
            worst = Math.max(worst, ratio);
            if (!ok) {
                bad++;
                if (shown.size() < SHOWN_MISMATCHES) {
                    shown.add(String.format(Locale.ROOT, "[%d] %s vs %s (bound %.3g)", i, got[i], (float) ref[i], bound));
                }
            }
        }
        if (bad > 0) {
            mismatches.add(String.format(Locale.ROOT, "%s: %d of %d outside %s, n %d: %s", what, bad, got.length, tol, n,
                    String.join(", ", shown)));
        }
    }

    /** Records a failed expectation that is not a numeric comparison (a flag, a count). */
    public void expect(boolean ok, String what) {
        comparisons++;
        if (!ok) {
            mismatches.add(what);
            worst = Double.POSITIVE_INFINITY;
        }
    }

    String checkName() {
        return checkName;
    }

    /** The mismatches recorded so far. */
    List<String> mismatches() {
        return mismatches;
    }

    /** Largest error as a fraction of its bound (≤ 1 passes). */
    double worst() {
        return worst;
    }

    int comparisons() {
        return comparisons;
    }

    /** Frees the check's buffers (stream-ordered). */
    @Override
    public void close() {
        for (DeviceBuffer b : owned) b.close();
        owned.clear();
        if (own != null) own.close();
        own = null;
    }
}
