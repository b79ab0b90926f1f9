package lmu.backend.cuda.kernels;

import lmu.backend.cuda.CudaContext;
import lmu.backend.cuda.DeviceBuffer;
import lmu.backend.cuda.PinnedStaging;

/** Host-device copies for the checks and benchmarks of this package (not for the training path). */
final class DeviceArrays {
    private final CudaContext ctx;
    private final PinnedStaging io;

    DeviceArrays(CudaContext ctx, PinnedStaging io) {
        this.ctx = ctx;
        this.io = io;
    }

    /** A device copy of {@code a} (at least 4 bytes even when empty). */
    DeviceBuffer floats(float[] a) {
        DeviceBuffer b = ctx.allocator().allocate(Math.max(4L, 4L * a.length));
        if (a.length > 0) io.upload(a, 0, a.length, b.ptr());
        return b;
    }

    /** A device copy of {@code a} as floats. */
    DeviceBuffer floats(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
        return floats(f);
    }

    /** An uninitialised device array of n floats. */
    DeviceBuffer empty(long n) {
        return ctx.allocator().allocate(Math.max(4L, 4L * n));
    }

    /** A device copy of int32 values {@code a} (at least 4 bytes even when empty), enqueued like {@link #floats}. */
    DeviceBuffer ints(int[] a) {
        DeviceBuffer b = ctx.allocator().allocate(Math.max(4L, 4L * a.length));
        if (a.length > 0) io.upload(a, 0, a.length, b.ptr());
        return b;
    }

    /** The first n floats of {@code b}, after all work enqueued on the stream. */
    float[] download(DeviceBuffer b, int n) {
        float[] a = new float[n];
        if (n > 0) io.download(b.ptr(), a, 0, n);
        return a;
    }

    CudaContext ctx() {
        return ctx;
    }
}
