package lmu.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/**
 * One kernel launch on a context's stream: checks the geometry against the device's limits in
 * Java first, then calls {@code cuLaunchKernel}, and reports the kernel, grid and block if the
 * driver refuses. With {@code -Dlmu.cuda.syncLaunches=true} every launch is followed by a stream
 * synchronisation so that an asynchronous fault (illegal address, ...) is reported against the
 * kernel that caused it.
 *
 * <pre>{@code
 * Launch.kernel(gpu, "gelu", "gelu_forward_kernel")
 *         .grid(LaunchGeometry.blocksFor(n, 256)).block(256)
 *         .ptr(out).ptr(inp).i32(n)
 *         .run();
 * }</pre>
 */
public final class Launch {
    /** The system property that synchronises after every launch (debugging). */
    public static final String SYNC_PROPERTY = "lmu.cuda.syncLaunches";

    private static final boolean SYNC = Boolean.getBoolean(SYNC_PROPERTY);

    private final CudaContext ctx;
    private final String kernel;
    private final CUfunction function;
    private Dim3 grid;
    private Dim3 block;
    private int sharedBytes;
    private final List<NativePointerObject> args = new ArrayList<>();

    private Launch(CudaContext ctx, String kernel, CUfunction function) {
        this.ctx = ctx;
        this.kernel = kernel;
        this.function = function;
    }

    /**
     * A launch of {@code kernel} from {@code kernels/<op>.fatbin} on {@code ctx}.
     *
     * @throws IllegalStateException when the fatbin is not packaged
     * @throws CudaException when the module or kernel cannot be loaded
     */
    public static Launch kernel(CudaContext ctx, String op, String kernel) {
        return new Launch(ctx, kernel, ctx.kernels().function(op, kernel));
    }

    /** Sets the grid. */
    public Launch grid(Dim3 grid) {
        this.grid = grid;
        return this;
    }

    /** Sets a one-dimensional grid of {@code x} blocks. */
    public Launch grid(int x) {
        return grid(Dim3.of(x));
    }

    /** Sets the block. */
    public Launch block(Dim3 block) {
        this.block = block;
        return this;
    }

    /** Sets a one-dimensional block of {@code x} threads. */
    public Launch block(int x) {
        return block(Dim3.of(x));
    }

    /** Dynamic shared memory per block in bytes (opted in above the 48 KiB default as needed). */
    public Launch sharedBytes(int bytes) {
        this.sharedBytes = bytes;
        return this;
    }

    /** Appends a device pointer argument. */
    public Launch ptr(CUdeviceptr p) {
        if (p == null) throw new IllegalArgumentException(kernel + ": argument " + args.size() + " is a null pointer");
        args.add(Pointer.to(p));
        return this;
    }

    /** Appends a device pointer argument that may be null (the kernel receives {@code nullptr}). */
    public Launch ptrOrNull(CUdeviceptr p) {
        args.add(Pointer.to(p == null ? new CUdeviceptr() : p));
        return this;
    }

    /** Appends a device buffer argument. */
    public Launch ptr(DeviceBuffer b) {
        return ptr(b.ptr());
    }

    /** Appends an {@code int} argument. */
    public Launch i32(int v) {
        args.add(Pointer.to(new int[] {v}));
        return this;
    }

    /** Appends a {@code long long} argument. */
    public Launch i64(long v) {
        args.add(Pointer.to(new long[] {v}));
        return this;
    }

    /**
     * Appends a struct passed by value whose fields are all {@code int} (4-byte aligned, no
     * padding), e.g. {@code Strided} of {@code kernels/strided.cuh} built by {@link StridedIndex}.
     */
    public Launch struct(int[] fields) {
        args.add(Pointer.to(fields.clone()));
        return this;
    }

    /** Appends a {@code double} argument. */
    public Launch f64(double v) {
        args.add(Pointer.to(new double[] {v}));
        return this;
    }

    /** Appends a {@code float} argument. */
    public Launch f32(float v) {
        args.add(Pointer.to(new float[] {v}));
        return this;
    }

    /**
     * Enqueues the launch on the context's stream.
     *
     * @throws IllegalArgumentException when the geometry exceeds the device's limits
     * @throws CudaException naming the kernel, grid and block when the driver refuses the launch
     *     (or, with {@code -Dlmu.cuda.syncLaunches=true}, when the kernel faults)
     */
    public void run() {
        LaunchGeometry.check(kernel, grid, block, sharedBytes, ctx.limits());
        if (sharedBytes > ctx.limits().maxSharedPerBlock()) {
            call("cuFuncSetAttribute", () -> JCudaDriver.cuFuncSetAttribute(function,
                    CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, sharedBytes));
        }
        Pointer params = Pointer.to(args.toArray(new NativePointerObject[0]));
        call("cuLaunchKernel", () -> JCudaDriver.cuLaunchKernel(function, grid.x(), grid.y(), grid.z(), block.x(),
                block.y(), block.z(), sharedBytes, ctx.stream(), params, null));
        if (SYNC) call("cuStreamSynchronize", () -> JCudaDriver.cuStreamSynchronize(ctx.stream()));
    }

    private void call(String op, java.util.function.IntSupplier fn) {
        int rc = Driver.code(fn);
        if (rc != CudaException.CUDA_SUCCESS) {
            throw new CudaException(kernel, rc, Driver.nameOf(rc), grid, block, op + " failed on " + ctx
                    + " with " + args.size() + " argument(s), " + sharedBytes + " bytes of dynamic shared memory");
        }
    }
}
