package lmu.backend.cuda;

import static jcuda.driver.CUdevice_attribute.*;

import java.nio.charset.StandardCharsets;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/**
 * One GPU as the engine uses it: the device's primary context, one stream on which every kernel,
 * copy and free of this device is ordered, the device's launch limits, its kernel modules and its
 * caching allocator. One context per device, driven by one thread; a thread other than the one
 * that opened it calls {@link #makeCurrent()} first.
 *
 * <p>Open only after {@link Cuda#isAvailable()}: this class refers to JCuda.
 *
 * <pre>{@code
 * try (CudaContext gpu = CudaContext.open(0)) {
 *     CUfunction f = gpu.kernels().function("gelu", "gelu_forward_kernel");
 *     ...
 *     gpu.synchronize();
 * }
 * }</pre>
 */
public final class CudaContext implements AutoCloseable {
    private final int index;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUstream stream = new CUstream();
    private final String name;
    private final int ccMajor;
    private final int ccMinor;
    private final int multiprocessors;
    private final long totalBytes;
    private final LaunchGeometry.Limits limits;
    private KernelLoader kernels;
    private DeviceAllocator allocator;
    private boolean closed;

    private CudaContext(int index) {
        this.index = index;
        Driver.check("cuDeviceGet", () -> JCudaDriver.cuDeviceGet(device, index), "device " + index);
        Driver.check("cuDevicePrimaryCtxRetain", () -> JCudaDriver.cuDevicePrimaryCtxRetain(context, device));
        Driver.check("cuCtxSetCurrent", () -> JCudaDriver.cuCtxSetCurrent(context));
        // A created (non-blocking) stream rather than the legacy default stream: graph capture and
        // overlap with copy streams need it.
        Driver.check("cuStreamCreate", () -> JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING));
        byte[] buf = new byte[256];
        Driver.check("cuDeviceGetName", () -> JCudaDriver.cuDeviceGetName(buf, buf.length, device));
        int len = 0;
        while (len < buf.length && buf[len] != 0) len++;
        this.name = new String(buf, 0, len, StandardCharsets.US_ASCII);
        this.ccMajor = attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        this.ccMinor = attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        this.multiprocessors = attribute(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        long[] total = new long[1];
        Driver.check("cuDeviceTotalMem", () -> JCudaDriver.cuDeviceTotalMem(total, device));
        this.totalBytes = total[0];
        this.limits = new LaunchGeometry.Limits(attribute(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK),
                new Dim3(attribute(CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X), attribute(CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y),
                        attribute(CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z)),
                new Dim3(attribute(CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X), attribute(CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y),
                        attribute(CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z)),
                attribute(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK),
                attribute(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN));
    }

    /**
     * Opens device {@code index} (0-based among the visible devices, after {@code
     * CUDA_VISIBLE_DEVICES}) and makes its primary context current on this thread.
     *
     * @param index the device, 0 to {@link Cuda#deviceCount()} - 1
     * @throws IllegalStateException when CUDA is not available (with the reason)
     * @throws IllegalArgumentException when {@code index} is out of range
     * @throws CudaException when the driver refuses
     */
    public static CudaContext open(int index) {
        Cuda.ensureAvailable();
        if (index < 0 || index >= Cuda.deviceCount()) {
            throw new IllegalArgumentException("CudaContext: device index : " + index + " (expected: 0 to "
                    + (Cuda.deviceCount() - 1) + ", " + Cuda.deviceCount() + " visible device(s))");
        }
        return new CudaContext(index);
    }

    int attribute(int attr) {
        int[] v = new int[1];
        Driver.check("cuDeviceGetAttribute", () -> JCudaDriver.cuDeviceGetAttribute(v, attr, device), "attribute " + attr);
        return v[0];
    }

    /** Makes this device's context current on the calling thread. */
    public void makeCurrent() {
        ensureOpen();
        Driver.check("cuCtxSetCurrent", () -> JCudaDriver.cuCtxSetCurrent(context));
    }

    /**
     * Waits until all work enqueued on this context's stream has finished.
     *
     * @throws CudaException when an earlier kernel failed asynchronously; run with {@code
     *     -Dlmu.cuda.syncLaunches=true} to have {@link Launch} find which one
     */
    public void synchronize() {
        ensureOpen();
        Driver.check("cuStreamSynchronize", () -> JCudaDriver.cuStreamSynchronize(stream),
                "work queued on " + this + " failed; rerun with -D" + Launch.SYNC_PROPERTY + "=true to name the kernel");
    }

    /** {@code {free, total}} bytes of device memory as the driver reports them now. */
    public long[] memoryInfo() {
        ensureOpen();
        long[] free = new long[1];
        long[] total = new long[1];
        Driver.check("cuMemGetInfo", () -> JCudaDriver.cuMemGetInfo(free, total));
        return new long[] {free[0], total[0]};
    }

    /** This device's kernel modules, loaded on first use. */
    public KernelLoader kernels() {
        ensureOpen();
        if (kernels == null) kernels = new KernelLoader(this, KernelManifest.load());
        return kernels;
    }

    /** This device's caching allocator. */
    public DeviceAllocator allocator() {
        ensureOpen();
        if (allocator == null) allocator = new DeviceAllocator(this);
        return allocator;
    }

    /** The stream every kernel, copy and free of this context is ordered on. */
    public CUstream stream() {
        return stream;
    }

    CUcontext context() {
        return context;
    }

    /** The device's index among the visible devices. */
    public int index() {
        return index;
    }

    /** The device's name, e.g. {@code "NVIDIA H100 80GB HBM3"}. */
    public String name() {
        return name;
    }

    /** Compute capability as {@code 10 * major + minor}, e.g. 90 for sm_90. */
    public int computeCapability() {
        return 10 * ccMajor + ccMinor;
    }

    /** Number of streaming multiprocessors. */
    public int multiprocessors() {
        return multiprocessors;
    }

    /** Total device memory in bytes. */
    public long totalBytes() {
        return totalBytes;
    }

    /** The device's launch limits. */
    public LaunchGeometry.Limits limits() {
        return limits;
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("CudaContext: " + this + " is closed");
    }

    /** Synchronises, releases the allocator's memory and the modules, and the primary context. */
    @Override
    public void close() {
        if (closed) return;
        try {
            makeCurrent();
            JCudaDriver.cuStreamSynchronize(stream);
            if (allocator != null) allocator.close();
            if (kernels != null) kernels.close();
            JCudaDriver.cuStreamDestroy(stream);
        } finally {
            closed = true;
            JCudaDriver.cuDevicePrimaryCtxRelease(device);
        }
    }

    @Override
    public String toString() {
        return "cuda:" + index + " (" + name + ", sm_" + ccMajor + ccMinor + ")";
    }
}
