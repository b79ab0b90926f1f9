package lmu.nn;

import lmu.tensor.Tensor;
import lmu.util.Checks;
import lmu.util.Rng;

/**
 * Inverted dropout as a layer: active only in training mode. Each call draws a fresh mask from a
 * counter: call n of a layer with seed s uses the mask seed {@code Rng.derive(s, n).nextLong()}, so a
 * run is reproducible from its seeds. {@link #reseed(Module, long)} resets every dropout layer below a
 * module (for example per training step, to make resumed runs draw the same masks).
 */
public final class Dropout extends Module {
    private final double p;
    private long seed;
    private long calls;

    /**
     * @param p probability of zeroing an element, in [0, 1)
     * @param seed seed of this layer's mask stream
     * @throws IllegalArgumentException if p is outside [0, 1)
     */
    public Dropout(double p, long seed) {
        Checks.inRange("Dropout p", p, 0, 1);
        if (p == 1) throw new IllegalArgumentException("Dropout p : 1.0 (expected: < 1, nothing would be kept)");
        this.p = p;
        this.seed = seed;
    }

    /**
     * @param x input, any shape
     * @return x itself outside training or when p is 0, otherwise x with dropped elements, same shape
     */
    public Tensor forward(Tensor x) {
        if (!isTraining() || p == 0) return x;
        long call = calls++;
        long maskSeed = maskSeed(call);
        MaskSeeds table = MaskSeeds.active();
        if (table != null) {
            int slot = table.take(this, call, maskSeed);
            if (table.onDevice()) return lmu.ops.Dropout.apply(x, p, table.table(), slot);
        }
        return lmu.ops.Dropout.apply(x, p, maskSeed);
    }

    /** Whether {@link #forward} drops anything now: training mode and p &gt; 0. */
    public boolean active() {
        return isTraining() && p > 0;
    }

    /**
     * The mask seed of this layer's next call, consumed as {@link #forward} consumes it: for ops
     * that fuse dropout into a larger kernel and must draw the same mask stream.
     */
    public long nextMaskSeed() {
        long call = calls++;
        long maskSeed = maskSeed(call);
        MaskSeeds table = MaskSeeds.active();
        if (table != null) {
            if (table.onDevice()) {
                throw new IllegalStateException("Dropout: a device seed table is active; draw the seed with nextMaskSlot");
            }
            table.take(this, call, maskSeed);
        }
        return maskSeed;
    }

    /**
     * The slot of the active {@link MaskSeeds} table (device mode) holding the mask seed of this
     * layer's next call, consumed as {@link #nextMaskSeed} consumes it.
     *
     * @throws IllegalStateException when no table is active in device mode
     */
    public int nextMaskSlot() {
        MaskSeeds table = MaskSeeds.active();
        if (table == null || !table.onDevice()) throw new IllegalStateException("Dropout: no device seed table is active");
        long call = calls++;
        return table.take(this, call, maskSeed(call));
    }

    /** The mask seed of call {@code call} of this layer (since its last reseed). */
    long maskSeed(long call) {
        return Rng.derive(seed, call).nextLong();
    }

    public double p() {
        return p;
    }

    /**
     * Gives every {@link Dropout} below {@code root} (in registration order) the seed
     * {@code Rng.derive(seed, i).nextLong()} for its i-th position and restarts its call counter.
     */
    public static void reseed(Module root, long seed) {
        long[] index = {0};
        visit(root, seed, index);
    }

    private static void visit(Module m, long seed, long[] index) {
        if (m instanceof Dropout d) {
            d.seed = Rng.derive(seed, index[0]++).nextLong();
            d.calls = 0;
        }
        for (Module c : m.children().values()) visit(c, seed, index);
    }
}
