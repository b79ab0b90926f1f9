package lmu.backend.cuda;

import java.lang.ref.Cleaner;
import java.util.Queue;
import jcuda.driver.CUdeviceptr;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.DeviceStorage;
import lmu.tensor.Storage;

/**
 * float32 elements in the device memory of one {@link CudaBackend}, from its caching allocator.
 * The memory goes back to the allocator's cache when the storage is garbage-collected (or at once
 * with {@link #release()}): a cleaner queues the block and the backend frees queued blocks on its
 * own thread, at its next allocation, in stream order (work enqueued before still completes first).
 * Element accessors copy one value across the bus each and wait for the stream.
 */
public final class CudaStorage extends DeviceStorage {
    private static final Cleaner CLEANER = Cleaner.create();

    private final CudaBackend backend;
    private final DeviceBuffer buffer;
    private final int size;
    private final Cleaner.Cleanable cleanable;

    /** Queues the buffer for the backend's thread; holds no reference to the storage. */
    private record Release(Queue<DeviceBuffer> queue, DeviceBuffer buffer) implements Runnable {
        @Override
        public void run() {
            queue.add(buffer);
        }
    }

    /** Uninitialised storage of {@code size} floats (at least 4 bytes are reserved). */
    CudaStorage(CudaBackend backend, int size, DeviceBuffer buffer) {
        this.backend = backend;
        this.size = size;
        this.buffer = buffer;
        this.cleanable = CLEANER.register(this, new Release(backend.pendingFrees(), buffer));
    }

    /** The device pointer to element 0. */
    public CUdeviceptr ptr() {
        return buffer.ptr();
    }

    /** The backend that owns this storage. */
    public CudaBackend backend() {
        return backend;
    }

    /** Returns the memory to the allocator now; the storage must not be used afterwards. */
    public void release() {
        cleanable.clean();
    }

    @Override public Device device() { return backend.device(); }
    @Override public DType dtype() { return DType.F32; }
    @Override public int size() { return size; }

    @Override
    public double get(int i) {
        checkIndex(i);
        return backend.readElement(this, i);
    }

    @Override
    public void set(int i, double v) {
        checkIndex(i);
        backend.writeElement(this, i, (float) v);
    }

    @Override
    public void add(int i, double v) {
        checkIndex(i);
        backend.writeElement(this, i, (float) (backend.readElement(this, i) + (float) v));
    }

    @Override
    public Storage like(int n) {
        return backend.allocate(n, true);
    }

    @Override
    public Storage copy() {
        return backend.copyOf(this);
    }

    @Override
    public void fill(double v) {
        backend.fillStorage(this, v);
    }

    @Override
    public float[] toHost() {
        return backend.download(this);
    }

    @Override
    public void fromHost(float[] src) {
        if (src.length != size) {
            throw new IllegalArgumentException("CudaStorage.fromHost: " + src.length + " values for a storage of " + size);
        }
        backend.upload(src, this);
    }

    private void checkIndex(int i) {
        if (i < 0 || i >= size) throw new IndexOutOfBoundsException("CudaStorage: index " + i + " for size " + size);
    }

    @Override
    public String toString() {
        return "CudaStorage[" + size + " f32 on " + device() + "]";
    }
}
