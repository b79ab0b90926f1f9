package lmu.backend.sim;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.DeviceStorage;
import lmu.tensor.Storage;

/**
 * float32 elements of the simulated device: a float[] behind a {@link DeviceStorage}, so that
 * {@code Tensor.f32()} refuses it exactly as it refuses a GPU tensor and host-only code paths fail.
 * The element accessors work (as on a GPU, where each copies one value across the bus) and are
 * counted, so a test can check that a training step reads only the scalars it needs.
 */
public final class SimStorage extends DeviceStorage {
    private static final AtomicLong ELEMENT_ACCESSES = new AtomicLong();

    private final SimBackend backend;
    private final float[] data;

    SimStorage(SimBackend backend, float[] data) {
        this.backend = backend;
        this.data = data;
    }

    /** Element reads and writes through {@link #get}/{@link #set}/{@link #add} since the JVM started. */
    public static long elementAccesses() {
        return ELEMENT_ACCESSES.get();
    }

    /** The backing array (shared): what the simulated backend hands to the CPU backend. */
    float[] data() {
        return data;
    }

    SimBackend backend() {
        return backend;
    }

    @Override public Device device() { return backend.device(); }
    @Override public DType dtype() { return DType.F32; }
    @Override public int size() { return data.length; }

    @Override
    public double get(int i) {
        ELEMENT_ACCESSES.incrementAndGet();
        return data[i];
    }

    @Override
    public void set(int i, double v) {
        ELEMENT_ACCESSES.incrementAndGet();
        data[i] = (float) v;
    }

    @Override
    public void add(int i, double v) {
        ELEMENT_ACCESSES.incrementAndGet();
        data[i] += (float) v;
    }

    @Override
    public Storage like(int size) {
        return new SimStorage(backend, new float[size]);
    }

    @Override
    public Storage copy() {
        return new SimStorage(backend, data.clone());
    }

    @Override
    public void fill(double v) {
        Arrays.fill(data, (float) v);
    }

    @Override
    public float[] toHost() {
        return data.clone();
    }

    @Override
    public void fromHost(float[] src) {
        if (src.length != data.length) {
            throw new IllegalArgumentException("SimStorage.fromHost: " + src.length + " values for a storage of " + data.length);
        }
        System.arraycopy(src, 0, data, 0, data.length);
    }

    @Override
    public String toString() {
        return "SimStorage[" + data.length + " f32 on " + device() + "]";
    }
}
