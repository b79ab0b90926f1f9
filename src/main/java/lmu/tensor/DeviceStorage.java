package lmu.tensor;

/**
 * Elements in an accelerator's memory (e.g. {@code lmu.backend.cuda.CudaStorage}). Ops reach them
 * through the device's {@link lmu.backend.Backend}; the element accessors of {@link Storage} work
 * but copy one element across the bus each (for tests, {@code item()} and printing, never for
 * loops). {@link #toHost()} copies everything at once.
 */
public abstract non-sealed class DeviceStorage extends Storage {
    /** The device holding the elements. */
    public abstract Device device();

    /** A host copy of the elements as float32 (waits for pending work on the device). */
    public abstract float[] toHost();

    /** Replaces the elements with {@code src} (length {@link #size()}). */
    public abstract void fromHost(float[] src);
}
