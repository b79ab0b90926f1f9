package lmu.backend.sim;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.distributed.HostAddressable;
import lmu.tensor.DeviceStorage;
import lmu.tensor.HalfFloats;
import lmu.tensor.Storage;

/**
 * Elements of the simulated device: a float[] behind a {@link DeviceStorage}, so that
 * {@code Tensor.f32()} refuses it exactly as it refuses a GPU tensor and host-only code paths fail.
 * F16 and BF16 storage keeps the float32 values its elements decode to: every write is rounded to
 * the format (nearest even, {@link HalfFloats}), so what is stored is what 16 bits can hold.
 * The element accessors work (as on a GPU, where each copies one value across the bus) and are
 * counted, and so are the elements that {@link #toHost()} copies (per device, {@link
 * SimBackend#hostCopies()}), so a test can check that a training
 * step reads only the scalars it needs. As memory of the host, the elements are {@link
 * HostAddressable}: in-process communicators reduce them in place, as NCCL reduces a GPU's.
 */
public final class SimStorage extends DeviceStorage implements HostAddressable {
    private static final AtomicLong ELEMENT_ACCESSES = new AtomicLong();

    private final SimBackend backend;
    private final DType dtype;
    private final float[] data;

    /** Storage of dtype F32, F16 or BF16 over {@code data} (its values must already be representable). */
    SimStorage(SimBackend backend, DType dtype, float[] data) {
        this.backend = backend;
        this.dtype = dtype;
        this.data = data;
        backend.created(this);
    }

    SimStorage(SimBackend backend, float[] data) {
        this(backend, DType.F32, data);
    }

    /** {@code x} as this storage's format holds it. */
    float round(double x) {
        return dtype == DType.F32 ? (float) x : HalfFloats.decode(dtype, HalfFloats.encode(dtype, (float) x));
    }

    /** Rounds every element to the storage's format (after a CPU op wrote float32 values into the array). */
    void roundAll() {
        if (dtype == DType.F32) return;
        for (int i = 0; i < data.length; i++) data[i] = round(data[i]);
    }

    /** Element reads and writes through {@link #get}/{@link #set}/{@link #add} since the JVM started. */
    public static long elementAccesses() {
        return ELEMENT_ACCESSES.get();
    }

    /** The backing array itself: a collective reduces it in place, as NCCL does a GPU buffer. */
    @Override
    public float[] hostArray() {
        return data;
    }

    /** The backing array (shared): what the simulated backend hands to the CPU backend. */
    float[] data() {
        return data;
    }

    SimBackend backend() {
        return backend;
    }

    @Override public Device device() { return backend.device(); }
    @Override public DType dtype() { return dtype; }
    @Override public int size() { return data.length; }

    @Override
    public double get(int i) {
        backend.hostRead("an element of " + this);
        ELEMENT_ACCESSES.incrementAndGet();
        return data[i];
    }

    @Override
    public void set(int i, double v) {
        ELEMENT_ACCESSES.incrementAndGet();
        backend.run(() -> data[i] = round(v));
    }

    @Override
    public void add(int i, double v) {
        ELEMENT_ACCESSES.incrementAndGet();
        backend.run(() -> data[i] = round(data[i] + (float) v));
    }

    @Override
    public Storage like(int size) {
        return new SimStorage(backend, dtype, new float[size]);
    }

    @Override
    public Storage copy() {
        SimStorage c = new SimStorage(backend, dtype, data.clone());
        backend.run(() -> System.arraycopy(data, 0, c.data, 0, data.length));
        return c;
    }

    @Override
    public void fill(double v) {
        float x = round(v);
        backend.run(() -> Arrays.fill(data, x));
    }

    @Override
    public float[] toHost() {
        backend.hostRead(toString());
        backend.countHostCopy(data.length);
        return data.clone();
    }

    @Override
    public void fromHost(float[] src) {
        if (src.length != data.length) {
            throw new IllegalArgumentException("SimStorage.fromHost: " + src.length + " values for a storage of " + data.length);
        }
        float[] values = new float[data.length];
        for (int i = 0; i < data.length; i++) values[i] = round(src[i]);
        backend.run(() -> System.arraycopy(values, 0, data, 0, values.length)); // captured: the values of now
    }

    @Override
    public String toString() {
        return "SimStorage[" + data.length + " " + dtype.name().toLowerCase(java.util.Locale.ROOT) + " on " + device() + "]";
    }
}
