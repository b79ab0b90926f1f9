package lmu.backend.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.JCudaDriver;

/**
 * Host-to-device and device-to-host copies of {@code float[]} (also {@code int[]}, and {@code short[]}
 * for 16-bit formats) through two pinned (page-locked)
 * staging buffers: while the copy engine moves one chunk, the CPU fills or drains the other, and
 * the DMA runs at full PCIe/NVLink speed because the memory is pinned. Copies are ordered on the
 * context's stream, so an upload followed by a launch needs no synchronisation.
 */
public final class PinnedStaging implements AutoCloseable {
    /** Default chunk size: 8 MiB per staging buffer. */
    public static final int DEFAULT_CHUNK_BYTES = 8 << 20;

    private final CudaContext ctx;
    private final int chunkBytes;
    private final Pointer[] host = new Pointer[2];
    private final ByteBuffer[] view = new ByteBuffer[2];
    private final CUevent[] done = new CUevent[2];
    private final boolean[] busy = new boolean[2];

    /**
     * @param ctx the context whose stream orders the copies
     * @param chunkBytes bytes per staging buffer, a positive multiple of 4
     */
    public PinnedStaging(CudaContext ctx, int chunkBytes) {
        if (chunkBytes <= 0 || chunkBytes % 4 != 0) {
            throw new IllegalArgumentException("PinnedStaging: chunkBytes : " + chunkBytes + " (expected: > 0, multiple of 4)");
        }
        this.ctx = ctx;
        this.chunkBytes = chunkBytes;
        for (int i = 0; i < 2; i++) {
            Pointer p = new Pointer();
            Driver.check("cuMemAllocHost", () -> JCudaDriver.cuMemAllocHost(p, chunkBytes),
                    CachingAllocator.bytes(chunkBytes) + " of pinned host memory");
            host[i] = p;
            view[i] = p.getByteBuffer(0, chunkBytes).order(ByteOrder.nativeOrder());
            CUevent e = new CUevent();
            Driver.check("cuEventCreate", () -> JCudaDriver.cuEventCreate(e, CUevent_flags.CU_EVENT_DISABLE_TIMING));
            done[i] = e;
        }
    }

    private void await(int i) {
        if (busy[i]) {
            Driver.check("cuEventSynchronize", () -> JCudaDriver.cuEventSynchronize(done[i]), "staging copy on " + ctx);
            busy[i] = false;
        }
    }

    /**
     * Copies {@code src[off, off + n)} to {@code dst} (asynchronously: returns once the data is in
     * pinned memory and the copies are enqueued; {@code src} may be reused at once).
     *
     * @throws IllegalArgumentException when the range is outside {@code src}
     */
    public void upload(float[] src, int off, int n, CUdeviceptr dst) {
        checkRange("upload", src.length, off, n);
        uploadChunks(n, dst, (buf, from, len) -> buf.asFloatBuffer().put(src, off + from, len));
    }

    /** As {@link #upload(float[], int, int, CUdeviceptr)} for {@code int} values. */
    public void upload(int[] src, int off, int n, CUdeviceptr dst) {
        checkRange("upload", src.length, off, n);
        uploadChunks(n, dst, (buf, from, len) -> buf.asIntBuffer().put(src, off + from, len));
    }

    /** As {@link #upload(float[], int, int, CUdeviceptr)} for 16-bit values (fp16/bf16 bit patterns). */
    public void upload(short[] src, int off, int n, CUdeviceptr dst) {
        checkRange("upload", src.length, off, n);
        uploadChunks(n, 2, dst, (buf, from, len) -> buf.asShortBuffer().put(src, off + from, len));
    }

    /** Moves {@code len} elements starting at element {@code from} between an array and a staging buffer. */
    @FunctionalInterface
    private interface ChunkCopy {
        void copy(ByteBuffer staging, int from, int len);
    }

    private void uploadChunks(int n, CUdeviceptr dst, ChunkCopy fill) {
        uploadChunks(n, 4, dst, fill);
    }

    private java.util.List<Pointer> captured; // pinned copies held by a graph being captured, or null

    /**
     * Starts capture mode (a CUDA graph being captured on the context's stream): each upload then
     * copies its values into a pinned buffer of its own, which the captured copy reads at every
     * replay (the values of capture time, as a graph freezes them), and a download is refused.
     */
    void beginCapture() {
        captured = new java.util.ArrayList<>();
    }

    /** Ends capture mode; returns the pinned buffers the captured copies read (free them with the graph). */
    java.util.List<Pointer> endCapture() {
        java.util.List<Pointer> l = captured == null ? java.util.List.of() : captured;
        captured = null;
        return l;
    }

    /** Frees pinned buffers returned by {@link #endCapture}. */
    static void freeCaptured(java.util.List<Pointer> buffers) {
        for (Pointer p : buffers) JCudaDriver.cuMemFreeHost(p);
    }

    private void uploadChunks(int n, int elementBytes, CUdeviceptr dst, ChunkCopy fill) {
        if (captured != null) {
            long bytes = (long) elementBytes * n;
            Pointer p = new Pointer();
            Driver.check("cuMemAllocHost", () -> JCudaDriver.cuMemAllocHost(p, bytes), bytes + " bytes of pinned host memory");
            captured.add(p);
            fill.copy(p.getByteBuffer(0, bytes).order(ByteOrder.nativeOrder()), 0, n);
            Driver.check("cuMemcpyHtoDAsync", () -> JCudaDriver.cuMemcpyHtoDAsync(dst, p, bytes, ctx.stream()));
            return;
        }
        int perChunk = chunkBytes / elementBytes;
        int k = 0;
        for (int done0 = 0; done0 < n; done0 += perChunk, k++) {
            int i = k & 1;
            int len = Math.min(perChunk, n - done0);
            await(i);
            view[i].clear();
            fill.copy(view[i], done0, len);
            CUdeviceptr to = dst.withByteOffset((long) elementBytes * done0);
            Driver.check("cuMemcpyHtoDAsync",
                    () -> JCudaDriver.cuMemcpyHtoDAsync(to, host[i], (long) elementBytes * len, ctx.stream()));
            Driver.check("cuEventRecord", () -> JCudaDriver.cuEventRecord(done[i], ctx.stream()));
            busy[i] = true;
        }
    }

    /**
     * Copies {@code n} floats from {@code src} into {@code dst[off, off + n)}, after all work
     * enqueued before it on the context's stream; returns when the data is in {@code dst}.
     *
     * @throws IllegalArgumentException when the range is outside {@code dst}
     */
    public void download(CUdeviceptr src, float[] dst, int off, int n) {
        checkRange("download", dst.length, off, n);
        downloadChunks(src, n, (buf, from, len) -> buf.asFloatBuffer().get(dst, off + from, len));
    }

    /** As {@link #download(CUdeviceptr, float[], int, int)} for {@code int} values. */
    public void download(CUdeviceptr src, int[] dst, int off, int n) {
        checkRange("download", dst.length, off, n);
        downloadChunks(src, n, (buf, from, len) -> buf.asIntBuffer().get(dst, off + from, len));
    }

    /** As {@link #download(CUdeviceptr, float[], int, int)} for 16-bit values (fp16/bf16 bit patterns). */
    public void download(CUdeviceptr src, short[] dst, int off, int n) {
        checkRange("download", dst.length, off, n);
        downloadChunks(src, n, 2, (buf, from, len) -> buf.asShortBuffer().get(dst, off + from, len));
    }

    private void downloadChunks(CUdeviceptr src, int n, ChunkCopy drain) {
        downloadChunks(src, n, 4, drain);
    }

    private void downloadChunks(CUdeviceptr src, int n, int elementBytes, ChunkCopy drain) {
        if (captured != null) {
            throw new IllegalStateException("PinnedStaging: a device value read on the host while capturing a CUDA graph (a host"
                    + " synchronisation inside the captured step)");
        }
        int perChunk = chunkBytes / elementBytes;
        int chunks = (n + perChunk - 1) / perChunk;
        for (int k = 0; k < chunks + 1; k++) {
            if (k < chunks) { // enqueue chunk k
                int i = k & 1;
                await(i);
                int start = k * perChunk;
                int len = Math.min(perChunk, n - start);
                CUdeviceptr from = src.withByteOffset((long) elementBytes * start);
                Driver.check("cuMemcpyDtoHAsync",
                        () -> JCudaDriver.cuMemcpyDtoHAsync(host[i], from, (long) elementBytes * len, ctx.stream()));
                Driver.check("cuEventRecord", () -> JCudaDriver.cuEventRecord(done[i], ctx.stream()));
                busy[i] = true;
            }
            if (k > 0) { // drain chunk k - 1 while chunk k is in flight
                int j = (k - 1) & 1;
                int start = (k - 1) * perChunk;
                int len = Math.min(perChunk, n - start);
                await(j);
                view[j].clear();
                drain.copy(view[j], start, len);
            }
        }
    }

    private static void checkRange(String op, int length, int off, int n) {
        if (off < 0 || n < 0 || (long) off + n > length) {
            throw new IllegalArgumentException("PinnedStaging." + op + ": range [" + off + ", " + ((long) off + n)
                    + ") (expected: within an array of length " + length + ")");
        }
    }

    /** Waits for outstanding copies and frees the pinned memory. */
    @Override
    public void close() {
        for (int i = 0; i < 2; i++) {
            if (host[i] == null) continue;
            await(i);
            JCudaDriver.cuEventDestroy(done[i]);
            JCudaDriver.cuMemFreeHost(host[i]);
            host[i] = null;
        }
    }
}
