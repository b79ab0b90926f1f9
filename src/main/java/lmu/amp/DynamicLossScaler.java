package lmu.amp;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import lmu.backend.Backends;
import lmu.backend.OptimizerKernels;
import lmu.tensor.Tensor;

/**
 * Dynamic loss scaling for fp16 training. The loss is multiplied by {@link #scale()} before
 * backward so that small gradients do not underflow fp16; {@link #unscale} divides the gradients
 * by it again, in the same pass checking that every gradient is finite; {@link #update} then
 * halves the scale after an overflow (the caller skips that optimizer step) or doubles it after
 * {@code growthInterval} consecutive clean steps, within [{@code min}, {@code max}].
 *
 * <p>bf16 and fp32 runs use {@link #disabled()}: the scale stays 1 (unscaling is only the finite
 * check) and a non-finite gradient still skips the step. The overflow decision goes through an
 * {@link OverflowVote}, so every data-parallel rank skips the same steps.
 *
 * <pre>{@code
 * loss.mul(scaler.scale()).backward();
 * if (scaler.unscale(params)) optimizer.step(lr);   // false: inf/NaN somewhere, step skipped
 * scaler.update(!finite);
 * }</pre>
 */
public final class DynamicLossScaler {
    /**
     * Scaler settings.
     *
     * @param initial starting scale (2^16)
     * @param growthInterval clean steps after which the scale doubles (2000)
     * @param min floor of the scale (1)
     * @param max cap of the scale (2^24)
     */
    public record Settings(double initial, int growthInterval, double min, double max) {
        /** The defaults: start 2^16, double after 2000 clean steps, floor 1, cap 2^24. */
        public static final Settings DEFAULT = new Settings(65536, 2000, 1, 16777216);

        /** @throws IllegalArgumentException unless 0 < min ≤ initial ≤ max (all finite) and growthInterval > 0 */
        public Settings {
            if (!(min > 0) || !(initial >= min) || !(max >= initial) || Double.isInfinite(max)) {
                throw new IllegalArgumentException(String.format(Locale.ROOT,
                        "DynamicLossScaler: need 0 < min <= initial <= max < infinity, got min %s, initial %s, max %s", min,
                        initial, max));
            }
            if (growthInterval <= 0) {
                throw new IllegalArgumentException("DynamicLossScaler: growthInterval must be > 0, got " + growthInterval);
            }
        }
    }

    private final boolean dynamic;
    private final Settings settings;
    private OverflowVote vote = OverflowVote.LOCAL;
    private double scale;
    private int cleanSteps;
    private long skipped;

    private DynamicLossScaler(boolean dynamic, Settings settings) {
        this.dynamic = dynamic;
        this.settings = settings;
        this.scale = dynamic ? settings.initial() : 1;
    }

    /** A dynamic scaler (fp16). */
    public static DynamicLossScaler dynamic(Settings settings) {
        if (settings == null) throw new IllegalArgumentException("DynamicLossScaler: settings are null");
        return new DynamicLossScaler(true, settings);
    }

    /** Scale fixed at 1 (fp32, bf16): only the finite check and the skip accounting. */
    public static DynamicLossScaler disabled() {
        return new DynamicLossScaler(false, Settings.DEFAULT);
    }

    /** The scaler a precision needs: dynamic for fp16, disabled otherwise. */
    public static DynamicLossScaler forPrecision(Precision precision, Settings settings) {
        return precision.needsLossScaling() ? dynamic(settings) : disabled();
    }

    /**
     * Sets how ranks agree on an overflow (default {@link OverflowVote#LOCAL}).
     *
     * @throws IllegalArgumentException if vote is null
     */
    public void agreeWith(OverflowVote vote) {
        if (vote == null) throw new IllegalArgumentException("DynamicLossScaler: vote is null");
        this.vote = vote;
    }

    public boolean isDynamic() {
        return dynamic;
    }

    public Settings settings() {
        return settings;
    }

    /** The factor the loss is multiplied by before backward. */
    public double scale() {
        return scale;
    }

    /** Consecutive clean steps since the last change of scale or overflow. */
    public int cleanSteps() {
        return cleanSteps;
    }

    /** Optimizer steps skipped because a gradient was not finite. */
    public long skipped() {
        return skipped;
    }

    /**
     * Divides every gradient by the scale and checks, in the same pass, that all are finite (on
     * the gradients' device, {@link OptimizerKernels#unscaleAllFinite}; one wait for the flag); the
     * finding is then put to the {@link OverflowVote}. Parameters without a gradient are ignored.
     *
     * @param params parameters whose {@code grad()} holds scaled gradients (F32 or F64)
     * @return true when every gradient on every rank is finite (the step may be taken); on false
     *     the gradients are partly unscaled and must be discarded
     */
    public boolean unscale(Collection<Tensor> params) {
        List<Tensor> grads = new ArrayList<>();
        for (Tensor p : params) if (p.grad() != null) grads.add(p.grad());
        boolean overflow = false;
        if (!grads.isEmpty()) {
            Tensor[] g = grads.toArray(new Tensor[0]);
            overflow = !Backends.kernels(g[0], OptimizerKernels.class).unscaleAllFinite(g, 1 / scale);
        }
        return !vote.anyOverflow(overflow);
    }

    /**
     * Records the outcome of a step: after an overflow the scale is halved (not below the floor)
     * and the clean count restarts; after a clean step the count grows and the scale doubles (not
     * above the cap) when it reaches the growth interval. A disabled scaler only counts.
     *
     * @param overflow the (agreed) result of {@link #unscale}, negated
     * @return true when an overflow lowered the scale (the skip was the scaler's doing, not a
     *     sign of divergence); false otherwise
     */
    public boolean update(boolean overflow) {
        if (overflow) {
            skipped++;
            cleanSteps = 0;
            if (!dynamic || scale <= settings.min()) return false;
            scale = Math.max(settings.min(), scale * 0.5);
            return true;
        }
        cleanSteps++;
        if (dynamic && cleanSteps >= settings.growthInterval()) {
            scale = Math.min(settings.max(), scale * 2);
            cleanSteps = 0;
        }
        return false;
    }

    /**
     * Restores the state saved with a checkpoint ({@link #scale()}, {@link #cleanSteps()},
     * {@link #skipped()}).
     *
     * @throws IllegalArgumentException if the scale is outside [min, max] or a count is negative,
     *     or the scaler is disabled and the scale is not 1
     */
    public void restore(double scale, int cleanSteps, long skipped) {
        double lo = dynamic ? settings.min() : 1, hi = dynamic ? settings.max() : 1;
        if (!(scale >= lo && scale <= hi) || cleanSteps < 0 || skipped < 0) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "DynamicLossScaler: saved state must have scale in [%s, %s] and counts >= 0, got scale %s, clean steps %d,"
                            + " skipped %d", lo, hi, scale, cleanSteps, skipped));
        }
        this.scale = scale;
        this.cleanSteps = cleanSteps;
        this.skipped = skipped;
    }
}
