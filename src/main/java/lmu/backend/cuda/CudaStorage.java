package lmu.backend.cuda;

import java.lang.ref.Cleaner;
import java.util.Queue;
import jcuda.driver.CUdeviceptr;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.DeviceStorage;
import lmu.tensor.Storage;

/**
 * Elements in the device memory of one {@link CudaBackend}, from its caching allocator: float32
 * (4 bytes each, what every op computes on) or a 16-bit mixed-precision format, F16 or BF16 (2
 * bytes each; matrix-product operands and casts, see {@link CudaBackend#cast}). {@link #toHost()}
 * and {@link #fromHost} always speak float32 and convert 16-bit elements on the host with {@link
 * lmu.tensor.HalfFloats} (round to nearest even; the device casts of {@code kernels/cast.cu} give the
 * same bits).
 * The memory goes back to the allocator's cache when the storage is garbage-collected (or at once
 * with {@link #release()}): a cleaner queues the block and the backend frees queued blocks on its
 * own thread, at its next allocation, in stream order (work enqueued before still completes first).
 * Element accessors copy one value across the bus each and wait for the stream.
 */
public final class CudaStorage extends DeviceStorage {
    private static final Cleaner CLEANER = Cleaner.create();

    private final CudaBackend backend;
    private final DeviceBuffer buffer;
    private final DType dtype;
    private final int size;
    private final Cleaner.Cleanable cleanable;

    /** Queues the buffer for the backend's thread; holds no reference to the storage. */
    private record Release(Queue<DeviceBuffer> queue, DeviceBuffer buffer) implements Runnable {
        @Override
        public void run() {
            queue.add(buffer);
        }
    }

    /**
     * Uninitialised storage of {@code size} elements of {@code dtype} in {@code buffer}.
     *
     * @throws IllegalArgumentException if dtype is not F32, F16 or BF16, or the buffer is too small
     */
    CudaStorage(CudaBackend backend, DType dtype, int size, DeviceBuffer buffer) {
        if (!isDeviceType(dtype)) {
            throw new IllegalArgumentException("CudaStorage: dtype must be F32, F16 or BF16, got " + dtype);
        }
        if (buffer.bytes() < bytesFor(dtype, size)) {
            throw new IllegalArgumentException("CudaStorage: " + size + " " + dtype + " elements need " + bytesFor(dtype, size)
                    + " bytes, the buffer has " + buffer.bytes());
        }
        this.backend = backend;
        this.dtype = dtype;
        this.size = size;
        this.buffer = buffer;
        this.cleanable = CLEANER.register(this, new Release(backend.pendingFrees(), buffer));
    }

    /** Whether device storage exists for a dtype: F32, F16 and BF16 (not F64). */
    static boolean isDeviceType(DType dtype) {
        return dtype == DType.F32 || dtype == DType.F16 || dtype == DType.BF16;
    }

    /** Bytes reserved for {@code size} elements: the elements, rounded up to whole 4-byte words, at least one word. */
    static long bytesFor(DType dtype, long size) {
        long bytes = (long) dtype.bytes() * Math.max(1, size);
        return (bytes + 3) / 4 * 4;
    }

    /** The device pointer to element 0. */
    public CUdeviceptr ptr() {
        return buffer.ptr();
    }

    /** The device address of element 0, for libraries bound through JavaCPP (NCCL). */
    public long address() {
        return DevicePointers.address(buffer.ptr());
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
    @Override public DType dtype() { return dtype; }
    @Override public int size() { return size; }

    @Override
    public double get(int i) {
        checkIndex(i);
        return backend.readElement(this, i);
    }

    @Override
    public void set(int i, double v) {
        checkIndex(i);
        backend.writeElement(this, i, (float) v); // 16-bit formats: rounded to nearest even
    }

    @Override
    public void add(int i, double v) {
        checkIndex(i);
        backend.writeElement(this, i, (float) (backend.readElement(this, i) + (float) v));
    }

    @Override
    public Storage like(int n) {
        return backend.allocate(dtype, n, true);
    }

    @Override
    public Storage copy() {
        return backend.copyOf(this);
    }

    @Override
    public void fill(double v) {
        backend.fillStorage(this, v);
    }

    /** The elements as float32 (16-bit formats widened exactly); waits for pending work. */
    @Override
    public float[] toHost() {
        return backend.download(this);
    }

    /** Replaces the elements with {@code src}, rounded to nearest even for the 16-bit formats. */
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
        return "CudaStorage[" + size + " " + dtype.name().toLowerCase(java.util.Locale.ROOT) + " on " + device() + "]";
    }
}
