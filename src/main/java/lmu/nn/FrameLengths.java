package lmu.nn;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import lmu.backend.Backends;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.DeviceStorage;
import lmu.tensor.Tensor;

/**
 * The frame lengths of one device step held in device tensors, one per level of the encoder (level
 * 0: the input frames, level k: after the k-th downsampling), so that a captured step reads the
 * lengths when it runs rather than freezing host values: the host writes every level's lengths
 * ({@link #write}) before the capture and before each replay.
 *
 * <p>While a table is {@linkplain #activate active} on a thread, the code that runs a level maps
 * the host lengths array it hands down to the level's tensor ({@link #map}); the layers below look
 * the tensor up by that array ({@link #deviceFor}, identity) and take the device forms of their
 * kernels and masks, deciding by shape alone. With no table active they use the host arrays.
 *
 * <pre>{@code
 * FrameLengths lengths = new FrameLengths(device);
 * lengths.write(List.of(inputLengths, afterFirstDownsampling));   // before capture or replay
 * try (FrameLengths.Scope s = lengths.activate()) { capturedStep(); }
 * }</pre>
 */
public final class FrameLengths {
    private static final ThreadLocal<FrameLengths> ACTIVE = new ThreadLocal<>();

    private final Device device;
    private final List<Tensor> levels = new ArrayList<>();
    private final Map<int[], Tensor> byArray = new IdentityHashMap<>();

    /**
     * @param device where the tensors live
     * @throws IllegalArgumentException if device is null
     */
    public FrameLengths(Device device) {
        if (device == null) throw new IllegalArgumentException("FrameLengths: device must not be null");
        this.device = device;
    }

    /** Ends the activation of a table on this thread. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Makes this table the one of this thread until the scope closes (forgetting earlier mappings).
     *
     * @throws IllegalStateException when a table is already active on this thread
     */
    public Scope activate() {
        if (ACTIVE.get() != null) throw new IllegalStateException("FrameLengths: a table is already active on this thread");
        byArray.clear();
        ACTIVE.set(this);
        return () -> {
            ACTIVE.remove();
            byArray.clear();
        };
    }

    /**
     * Copies every level's lengths into the level's tensor (float32, shape (B)), allocating a
     * level's tensor on the first write and whenever B changes. Host work: call it outside a capture.
     *
     * @param lengths per level, each of length B
     * @throws IllegalArgumentException if lengths is null or empty, or the levels differ in B
     */
    public void write(List<int[]> lengths) {
        if (lengths == null || lengths.isEmpty()) throw new IllegalArgumentException("FrameLengths: no levels to write");
        int batch = lengths.get(0).length;
        for (int k = 0; k < lengths.size(); k++) {
            int[] l = lengths.get(k);
            if (l.length != batch) {
                throw new IllegalArgumentException("FrameLengths: level " + k + " has " + l.length + " lengths, level 0 has "
                        + batch);
            }
            float[] f = new float[batch];
            for (int b = 0; b < batch; b++) f[b] = l[b];
            if (k == levels.size()) levels.add(null);
            Tensor t = levels.get(k);
            if (t == null || t.dim(0) != batch) {
                t = device.kind() == Device.Kind.CPU ? Tensor.zeros(DType.F32, batch) : Backends.of(device).empty(DType.F32, batch);
                levels.set(k, t);
            }
            if (t.storage() instanceof DeviceStorage d) {
                d.fromHost(f);
            } else {
                for (int b = 0; b < batch; b++) t.set(f[b], b);
            }
        }
    }

    /** Level k's tensor, float32 of shape (B), or null before the level was written. */
    public Tensor level(int k) {
        return k < levels.size() ? levels.get(k) : null;
    }

    /**
     * Maps a host lengths array to level k's tensor for the layers below ({@link #deviceFor}).
     *
     * @throws IllegalStateException if level k was not written or holds another B
     */
    public void map(int k, int[] host) {
        Tensor t = level(k);
        if (t == null || t.dim(0) != host.length) {
            throw new IllegalStateException("FrameLengths: level " + k + " was not written for B = " + host.length);
        }
        byArray.put(host, t);
    }

    /** The table active on this thread, or null. */
    public static FrameLengths active() {
        return ACTIVE.get();
    }

    /**
     * The device tensor the active table maps this host array (by identity) to, or null when no
     * table is active or the array is not mapped (the host form applies).
     */
    public static Tensor deviceFor(int[] host) {
        FrameLengths t = ACTIVE.get();
        return t == null || host == null ? null : t.byArray.get(host);
    }
}
