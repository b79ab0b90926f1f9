package lmu.nn;

import java.util.ArrayList;
import java.util.List;
import lmu.backend.Backends;
import lmu.backend.SeedTable;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.DeviceStorage;
import lmu.tensor.Tensor;

/**
 * The dropout mask seeds of one training step held in a device-side {@link SeedTable}, so that a
 * captured step (a CUDA graph) draws new masks on every replay: the launches read their seed from a
 * fixed slot of the table, and the host rewrites the table before each replay.
 *
 * <p>While a table is {@linkplain #activate active} on a thread, every {@link Dropout} call (and
 * every fused op that draws a dropout layer's mask seed) takes the next slot, in call order, and
 * the table remembers which layer and which call of that layer it was. In <em>learning</em> mode
 * the ops still get the seed as a host value (an ordinary eager step that only notes the order);
 * in <em>device</em> mode they get the slot, and the call order must be the learned one. {@link
 * #refresh} recomputes every slot's seed from the layers' current seeds (after {@link
 * Dropout#reseed}) and copies the table to the device: the same masks an eager step would draw.
 *
 * <pre>{@code
 * MaskSeeds seeds = new MaskSeeds(device, 256);
 * try (MaskSeeds.Scope s = seeds.activate(false)) { eagerStep(); }      // learns the order
 * Dropout.reseed(model, nextStepSeed);
 * seeds.refresh();                                                       // before capture or replay
 * try (MaskSeeds.Scope s = seeds.activate(true)) { capturedStep(); }
 * }</pre>
 */
public final class MaskSeeds {
    private static final ThreadLocal<MaskSeeds> ACTIVE = new ThreadLocal<>();

    private final Tensor table;
    private final float[] host;
    private final int capacity;
    private final List<Dropout> layers = new ArrayList<>();
    private final List<Long> calls = new ArrayList<>();
    private boolean onDevice;
    private int next;

    /**
     * @param device where the table lives
     * @param capacity the most dropout calls one step may make, &gt; 0
     * @throws IllegalArgumentException when capacity is not positive
     */
    public MaskSeeds(Device device, int capacity) {
        if (capacity <= 0) throw new IllegalArgumentException("MaskSeeds: capacity must be > 0, got " + capacity);
        this.capacity = capacity;
        this.host = new float[SeedTable.FLOATS_PER_SEED * capacity];
        this.table = device.kind() == Device.Kind.CPU ? Tensor.zeros(DType.F32, host.length)
                : Backends.of(device).empty(DType.F32, host.length);
    }

    /** Ends the activation of a table on this thread. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Makes this table the one the dropout calls of this thread use, until the scope closes.
     *
     * @param device false: learn the call order from an eager step (its slots restart at 0); true:
     *     hand the ops slots of the table, in the learned order
     * @throws IllegalStateException when a table is already active on this thread
     */
    public Scope activate(boolean device) {
        if (ACTIVE.get() != null) throw new IllegalStateException("MaskSeeds: a seed table is already active on this thread");
        if (!device) {
            layers.clear();
            calls.clear();
        }
        this.onDevice = device;
        this.next = 0;
        ACTIVE.set(this);
        return () -> ACTIVE.remove();
    }

    /** The table active on this thread, or null. */
    public static MaskSeeds active() {
        return ACTIVE.get();
    }

    /** Whether the ops take their seeds from the table (device mode) rather than as host values. */
    public boolean onDevice() {
        return onDevice;
    }

    /** The table, float32, {@code SeedTable.FLOATS_PER_SEED * capacity} elements on the device. */
    public Tensor table() {
        return table;
    }

    /** Slots taken by the learned step. */
    public int slots() {
        return layers.size();
    }

    /**
     * The next slot, for call {@code call} of {@code layer} whose mask seed is {@code seed}.
     *
     * @throws IllegalStateException when the step makes more calls than the capacity, or (device
     *     mode) its calls differ from the learned ones
     */
    int take(Dropout layer, long call, long seed) {
        if (onDevice) {
            if (next >= layers.size() || layers.get(next) != layer || calls.get(next) != call) {
                throw new IllegalStateException("MaskSeeds: dropout call " + next + " of the step differs from the learned step"
                        + " (" + layers.size() + " calls); the step's dropout calls must not depend on the data");
            }
        } else {
            if (next >= capacity) {
                throw new IllegalStateException("MaskSeeds: the step makes more than " + capacity + " dropout calls");
            }
            layers.add(layer);
            calls.add(call);
        }
        SeedTable.encode(seed, host, next);
        return next++;
    }

    /** Recomputes every learned slot's seed from its layer's current seed and copies the table to the device. */
    public void refresh() {
        for (int i = 0; i < layers.size(); i++) SeedTable.encode(layers.get(i).maskSeed(calls.get(i)), host, i);
        if (table.storage() instanceof DeviceStorage d) d.fromHost(host);
        else System.arraycopy(host, 0, table.f32(), 0, host.length);
    }
}
