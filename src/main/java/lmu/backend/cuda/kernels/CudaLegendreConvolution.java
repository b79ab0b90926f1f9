package lmu.backend.cuda.kernels;

import java.util.HashMap;
import java.util.Map;
import jcuda.driver.CUdeviceptr;
import lmu.backend.cuda.CudaContext;
import lmu.backend.cuda.DeviceBuffer;
import lmu.backend.cuda.Dim3;
import lmu.backend.cuda.Launch;
import lmu.util.Checks;

/**
 * Launchers of {@code kernels/lmu_conv.cu}: the parallel LMU's causal convolution with the impulse
 * response H (what {@link lmu.nn.lmu.LegendreConvolution} computes), padding fused (frames t &ge;
 * lengths[b] of u are not read, of m and du written as 0). fp32, row-major. Asynchronous on the
 * context's stream.
 *
 * <p>Two forms ({@link Method}): the direct Toeplitz form, O(T&sup2; d) per sequence and channel,
 * and the FFT form, O(d N log N) with N the power of two &ge; 2T - 1 (block-level FFTs in shared
 * memory, the spectra of H's columns computed once per H and N). {@link Method#AUTO} takes the FFT
 * form from {@link #FFT_MIN_FRAMES} to {@link #FFT_MAX_FRAMES} frames and the direct form otherwise.
 * The FFT form needs H's spectrum: pass a {@link SpectrumCache} (one per impulse response, e.g. per
 * layer) to compute it once per FFT length; the overloads that take H itself compute it on every
 * call (correct, about 1/(B K) of the convolution's work more).
 *
 * <pre>{@code
 * try (var cache = new CudaLegendreConvolution.SpectrumCache(ctx, h, d, hLength)) {
 *     CudaLegendreConvolution.forward(ctx, cache, m, u, lengths, B, T, K, Method.AUTO);
 *     CudaLegendreConvolution.backward(ctx, cache, du, dm, lengths, B, T, K, Method.AUTO);
 * }
 * }</pre>
 */
public final class CudaLegendreConvolution {
    private CudaLegendreConvolution() {}

    /** How the convolution is computed. */
    public enum Method {
        /** FFT from {@link #FFT_MIN_FRAMES} to {@link #FFT_MAX_FRAMES} frames, DIRECT otherwise. */
        AUTO,
        /** Direct (Toeplitz) form, any T. */
        DIRECT,
        /** FFT form, T &le; {@link #FFT_MAX_FRAMES}. */
        FFT
    }

    /**
     * Fewest frames (T, the padded length) for which {@link Method#AUTO} takes the FFT form. By
     * {@link #directToFftCost} the FFT form is cheaper at every T from 139 to {@link
     * #FFT_MAX_FRAMES}, by 1.34x at 257 (where N doubles to 1024), by at least 1.68x from 288 and
     * 2.07x from 320 (3.2x at 400, 11x at the seed's 1500 frames, 18x at 3000); below, the two
     * alternate as N doubles (0.84 at 64, 1.66 at 128, 0.87 at 129). The model's efficiency factors
     * are estimates until a GPU measures them, so the crossover keeps a margin of 2x: 320 (a
     * multiple of the direct kernel's 64-frame tile). The direct form below it has exact summation
     * order and needs no workspace. {@code ModelKernelBenchmark} times both forms at 192, 256, 320,
     * 1500 and 3000 frames to confirm or move it.
     */
    public static final int FFT_MIN_FRAMES = 320;

    /** Most frames the FFT form takes: N = 8192 fills a block's buffer (68 KiB with its padding). AUTO falls back to DIRECT above. */
    public static final int FFT_MAX_FRAMES = ModelKernelGeometry.CONV_FFT_BUFFER / 2;

    /**
     * Operation-count model of the two forms, per (b, k) and column of H, each counted against the
     * resource that limits it on an SM (128 per clock for both): the direct kernel performs T(T+1)/2
     * multiply-adds and issues a shared-memory wavefront per two warp-wide multiply-adds (its 4 x 4
     * register tile loads 8 values per 16 products), so it runs at half the FMA rate: T(T+1)/2 / 64
     * clocks. The FFT form transforms two columns per complex FFT of N = 2^ceil(log2(2T - 1))
     * points; each of its ceil(log2(N) / 3) radix-8 stages reads and writes N float2 of shared
     * memory and reads 2 twiddles per 8 points from L1 (18 N bytes per pair), the fill writes 8 N
     * bytes per pair and the output reads 8 T: (9 N stages + 4 N + 4 T) / (128 x 0.85) clocks
     * per column, 0.85 for what the padding leaves of bank conflicts and for the synchronisations.
     * Writing m (reading dm), the memory floor both share, is left out.
     *
     * @return direct cost / FFT cost at {@code frames} frames (&gt; 1: the FFT form is cheaper)
     */
    static double directToFftCost(int frames) {
        int log2 = ModelKernelGeometry.convFftLog2(frames);
        double n = 1 << log2;
        int stages = (log2 + 2) / 3;
        double direct = frames * (frames + 1.0) / 2 / 64;
        double fft = (9 * n * stages + 4 * n + 4.0 * frames) / (128 * 0.85);
        return direct / fft;
    }

    /**
     * The form {@code method} takes at {@code frames} frames.
     *
     * @throws IllegalArgumentException for FFT above {@link #FFT_MAX_FRAMES}
     */
    public static Method resolve(Method method, int frames) {
        if (method == Method.AUTO) return frames >= FFT_MIN_FRAMES && frames <= FFT_MAX_FRAMES ? Method.FFT : Method.DIRECT;
        if (method == Method.FFT && frames > FFT_MAX_FRAMES) {
            throw new IllegalArgumentException("LegendreConvolution: FFT form : " + frames + " frames (expected: <= "
                    + FFT_MAX_FRAMES + "; use DIRECT or AUTO)");
        }
        return method;
    }

    /**
     * Half spectra of H's columns at one FFT length, with the twiddle table of that length:
     * {@code spectra[i * (N/2 + 1) + g]} (float2) = sum over lags &lt; min(hLength, N/2) of
     * H[lag, i] exp(-2 pi i g lag / N). Serves every T with the same N.
     */
    public static final class Spectrum implements AutoCloseable {
        private final DeviceBuffer twiddles;
        private final DeviceBuffer spectra;
        private final int order;
        private final int log2;

        private Spectrum(CudaContext ctx, CUdeviceptr h, int order, int hLength, int log2) {
            int n = 1 << log2;
            this.order = order;
            this.log2 = log2;
            this.twiddles = ctx.allocator().allocate(8L * n);
            DeviceBuffer s = null;
            try {
                s = ctx.allocator().allocate(8L * order * ModelKernelGeometry.convFftHalf(log2));
                Launch.kernel(ctx, "lmu_conv", "lmu_conv_fft_twiddle_kernel")
                        .grid(new Dim3((n + ModelKernelGeometry.CONV_FFT_TWIDDLE_THREADS - 1)
                                / ModelKernelGeometry.CONV_FFT_TWIDDLE_THREADS, 1, 1))
                        .block(ModelKernelGeometry.CONV_FFT_TWIDDLE_THREADS).ptr(twiddles).i32(log2).run();
                Launch.kernel(ctx, "lmu_conv", "lmu_conv_fft_spectrum_kernel")
                        .grid(new Dim3(ModelKernelGeometry.convFftBlocks(order, log2), 1, 1))
                        .block(ModelKernelGeometry.CONV_FFT_THREADS)
                        .sharedBytes(ModelKernelGeometry.convFftSharedBytes(log2, false)).ptr(s).ptr(h).ptrOrNull(null)
                        .i32(order).i32(order).i64(0).i32(order)
                        .i32(ModelKernelGeometry.convFftResponseRows(hLength, log2)).i32(log2).ptr(twiddles).run();
            } catch (RuntimeException e) {
                if (s != null) s.close();
                twiddles.close();
                throw e;
            }
            this.spectra = s;
        }

        /** The FFT length N. */
        public int fftLength() {
            return 1 << log2;
        }

        /** Order d (columns of H). */
        public int order() {
            return order;
        }

        /** Whether this spectrum serves sequences padded to {@code frames}. */
        public boolean serves(int frames) {
            return frames >= 1 && frames <= FFT_MAX_FRAMES && ModelKernelGeometry.convFftLog2(frames) == log2;
        }

        @Override
        public void close() {
            twiddles.close();
            spectra.close();
        }
    }

    /**
     * H's spectrum for sequences padded to {@code frames} (enqueued on the context's stream).
     *
     * @param h impulse response, shape (hLength, d)
     * @param frames T, 1 to {@link #FFT_MAX_FRAMES}
     * @throws IllegalArgumentException when a size is out of range
     */
    public static Spectrum spectrum(CudaContext ctx, CUdeviceptr h, int order, int hLength, int frames) {
        Checks.positive("LegendreConvolution order", order);
        Checks.positive("LegendreConvolution hLength", hLength);
        return new Spectrum(ctx, h, order, hLength, ModelKernelGeometry.convFftLog2(frames));
    }

    /**
     * The spectra of one impulse response at every FFT length it is used with, each computed once.
     * Owned by whoever owns H (e.g. an LMU layer); H's contents must not change while the cache is
     * in use. Not thread-safe (one per device thread, like the context).
     */
    public static final class SpectrumCache implements AutoCloseable {
        private final CudaContext ctx;
        private final CUdeviceptr h;
        private final int order;
        private final int hLength;
        private final Map<Integer, Spectrum> byLog2 = new HashMap<>();

        /**
         * @param h impulse response, shape (hLength, d), H[lag] = Abar^lag Bbar
         * @param order d
         * @param hLength rows of H
         */
        public SpectrumCache(CudaContext ctx, CUdeviceptr h, int order, int hLength) {
            Checks.positive("LegendreConvolution order", order);
            Checks.positive("LegendreConvolution hLength", hLength);
            this.ctx = ctx;
            this.h = h;
            this.order = order;
            this.hLength = hLength;
        }

        /** H itself. */
        public CUdeviceptr response() {
            return h;
        }

        /** Order d. */
        public int order() {
            return order;
        }

        /** Rows of H. */
        public int responseLength() {
            return hLength;
        }

        /**
         * The spectrum for sequences padded to {@code frames}, computed on first use.
         *
         * @throws IllegalArgumentException when frames is outside 1 to {@link #FFT_MAX_FRAMES}
         */
        public Spectrum get(int frames) {
            int log2 = ModelKernelGeometry.convFftLog2(frames);
            Spectrum s = byLog2.get(log2);
            if (s == null) {
                s = new Spectrum(ctx, h, order, hLength, log2);
                byLog2.put(log2, s);
            }
            return s;
        }

        /** FFT lengths cached so far. */
        public int size() {
            return byLog2.size();
        }

        @Override
        public void close() {
            for (Spectrum s : byLog2.values()) s.close();
            byLog2.clear();
        }
    }

    /**
     * {@code m[b, t, k d + i] = sum_{lag <= t} H[lag, i] u[b, t - lag, k]}, {@link Method#AUTO}.
     *
     * @param m output, shape (B, T, K d)
     * @param u input, shape (B, T, K)
     * @param h impulse response, shape (hLength, d), H[lag] = Abar^lag Bbar
     * @param lengths int32, shape (B), each in [0, min(T, hLength)] (not checked on the device)
     * @param channels K = memory_d
     * @param order d
     * @param hLength rows of H
     * @throws IllegalArgumentException when a size is not positive or B K exceeds 65535
     */
    public static void forward(CudaContext ctx, CUdeviceptr m, CUdeviceptr u, CUdeviceptr h, CUdeviceptr lengths, int batch,
            int frames, int channels, int order, int hLength) {
        forward(ctx, m, u, h, lengths, batch, frames, channels, order, hLength, Method.AUTO);
    }

    /**
     * {@link #forward(CudaContext, CUdeviceptr, CUdeviceptr, CUdeviceptr, CUdeviceptr, int, int, int, int, int)}
     * in the given form; the FFT form computes H's spectrum for this call.
     *
     * @param m output, shape (B, T, K d)
     * @param u input, shape (B, T, K)
     * @param h impulse response, shape (hLength, d)
     * @param lengths int32, shape (B), each in [0, min(T, hLength)]
     * @param method DIRECT, FFT or AUTO ({@link #resolve})
     * @throws IllegalArgumentException as there, and for FFT above {@link #FFT_MAX_FRAMES} frames
     */
    public static void forward(CudaContext ctx, CUdeviceptr m, CUdeviceptr u, CUdeviceptr h, CUdeviceptr lengths, int batch,
            int frames, int channels, int order, int hLength, Method method) {
        check(batch, frames, channels, order, hLength);
        if (resolve(method, frames) == Method.DIRECT) {
            forwardDirect(ctx, m, u, h, lengths, batch, frames, channels, order, hLength);
        } else {
            try (Spectrum s = spectrum(ctx, h, order, hLength, frames)) {
                forwardFft(ctx, s, m, u, lengths, batch, frames, channels);
            }
        }
    }

    /**
     * The forward with H's spectra from {@code cache} (computed there once per FFT length).
     *
     * @param cache H (shape (hLength, d)), its order and length, and its spectra
     * @param m output, shape (B, T, K d)
     * @param u input, shape (B, T, K)
     * @param lengths int32, shape (B), each in [0, min(T, hLength)]
     * @param method DIRECT, FFT or AUTO ({@link #resolve})
     * @throws IllegalArgumentException as the other forms
     */
    public static void forward(CudaContext ctx, SpectrumCache cache, CUdeviceptr m, CUdeviceptr u, CUdeviceptr lengths,
            int batch, int frames, int channels, Method method) {
        check(batch, frames, channels, cache.order(), cache.responseLength());
        if (resolve(method, frames) == Method.DIRECT) {
            forwardDirect(ctx, m, u, cache.response(), lengths, batch, frames, channels, cache.order(), cache.responseLength());
        } else {
            forwardFft(ctx, cache.get(frames), m, u, lengths, batch, frames, channels);
        }
    }

    /**
     * {@code du[b, s, k] = sum_{s <= t < len_b} sum_i H[t - s, i] dm[b, t, k d + i]} (written),
     * {@link Method#AUTO}.
     *
     * @param du output, shape (B, T, K)
     * @param dm gradient with respect to m, shape (B, T, K d); padded frames ignored
     * @throws IllegalArgumentException as the forward
     */
    public static void backward(CudaContext ctx, CUdeviceptr du, CUdeviceptr dm, CUdeviceptr h, CUdeviceptr lengths,
            int batch, int frames, int channels, int order, int hLength) {
        backward(ctx, du, dm, h, lengths, batch, frames, channels, order, hLength, Method.AUTO);
    }

    /**
     * The backward in the given form; the FFT form computes H's spectrum for this call.
     *
     * @param du output, shape (B, T, K)
     * @param dm gradient with respect to m, shape (B, T, K d); padded frames ignored
     * @param method DIRECT, FFT or AUTO ({@link #resolve})
     * @throws IllegalArgumentException as the forward
     */
    public static void backward(CudaContext ctx, CUdeviceptr du, CUdeviceptr dm, CUdeviceptr h, CUdeviceptr lengths,
            int batch, int frames, int channels, int order, int hLength, Method method) {
        check(batch, frames, channels, order, hLength);
        if (resolve(method, frames) == Method.DIRECT) {
            backwardDirect(ctx, du, dm, h, lengths, batch, frames, channels, order, hLength);
        } else {
            try (Spectrum s = spectrum(ctx, h, order, hLength, frames)) {
                backwardFft(ctx, s, du, dm, lengths, batch, frames, channels);
            }
        }
    }

    /**
     * The backward with H's spectra from {@code cache} (computed there once per FFT length).
     *
     * @param cache H (shape (hLength, d)), its order and length, and its spectra
     * @param du output, shape (B, T, K)
     * @param dm gradient with respect to m, shape (B, T, K d); padded frames ignored
     * @param lengths int32, shape (B), each in [0, min(T, hLength)]
     * @param method DIRECT, FFT or AUTO ({@link #resolve})
     * @throws IllegalArgumentException as the forward
     */
    public static void backward(CudaContext ctx, SpectrumCache cache, CUdeviceptr du, CUdeviceptr dm, CUdeviceptr lengths,
            int batch, int frames, int channels, Method method) {
        check(batch, frames, channels, cache.order(), cache.responseLength());
        if (resolve(method, frames) == Method.DIRECT) {
            backwardDirect(ctx, du, dm, cache.response(), lengths, batch, frames, channels, cache.order(), cache.responseLength());
        } else {
            backwardFft(ctx, cache.get(frames), du, dm, lengths, batch, frames, channels);
        }
    }

    private static void forwardDirect(CudaContext ctx, CUdeviceptr m, CUdeviceptr u, CUdeviceptr h, CUdeviceptr lengths,
            int batch, int frames, int channels, int order, int hLength) {
        Launch.kernel(ctx, "lmu_conv", "lmu_conv_forward_kernel")
                .grid(new Dim3(ModelKernelGeometry.convCoefficientBlocks(order), ModelKernelGeometry.convFrameBlocks(frames),
                        batch * channels))
                .block(ModelKernelGeometry.CONV_THREADS).ptr(m).ptr(u).ptr(h).ptr(lengths).i32(frames).i32(channels)
                .i32(order).i32(hLength).run();
    }

    private static void backwardDirect(CudaContext ctx, CUdeviceptr du, CUdeviceptr dm, CUdeviceptr h, CUdeviceptr lengths,
            int batch, int frames, int channels, int order, int hLength) {
        Launch.kernel(ctx, "lmu_conv", "lmu_conv_backward_kernel")
                .grid(new Dim3(ModelKernelGeometry.convFrameBlocks(frames), batch * channels, 1))
                .block(ModelKernelGeometry.CONV_THREADS).ptr(du).ptr(dm).ptr(h).ptr(lengths).i32(frames).i32(channels)
                .i32(order).i32(hLength).run();
    }

    private static void checkSpectrum(Spectrum s, int frames) {
        if (!s.serves(frames)) {
            throw new IllegalArgumentException("LegendreConvolution: spectrum of FFT length " + s.fftLength() + " for "
                    + frames + " frames (expected: FFT length " + (frames <= FFT_MAX_FRAMES
                            ? String.valueOf(1 << ModelKernelGeometry.convFftLog2(frames)) : "none, frames > " + FFT_MAX_FRAMES)
                    + ")");
        }
    }

    /**
     * The FFT-form forward with a precomputed spectrum: u's half spectra (B K (N/2 + 1) float2 of
     * workspace), then per (b, k) and group of columns the products and inverse FFTs, written
     * straight into m.
     */
    static void forwardFft(CudaContext ctx, Spectrum s, CUdeviceptr m, CUdeviceptr u, CUdeviceptr lengths, int batch,
            int frames, int channels) {
        checkSpectrum(s, frames);
        int log2 = s.log2, d = s.order, jobs = batch * channels;
        int shared = ModelKernelGeometry.convFftSharedBytes(log2, false);
        try (DeviceBuffer uspec = ctx.allocator().allocate(8L * jobs * ModelKernelGeometry.convFftHalf(log2))) {
            Launch.kernel(ctx, "lmu_conv", "lmu_conv_fft_spectrum_kernel")
                    .grid(new Dim3(ModelKernelGeometry.convFftBlocks(jobs, log2), 1, 1)).block(ModelKernelGeometry.CONV_FFT_THREADS)
                    .sharedBytes(shared).ptr(uspec).ptr(u).ptr(lengths).i32(jobs).i32(channels).i64((long) frames * channels)
                    .i32(channels).i32(frames).i32(log2).ptr(s.twiddles).run();
            Launch.kernel(ctx, "lmu_conv", "lmu_conv_fft_forward_kernel")
                    .grid(new Dim3(ModelKernelGeometry.convFftBlocks(d, log2), jobs, 1)).block(ModelKernelGeometry.CONV_FFT_THREADS)
                    .sharedBytes(shared).ptr(m).ptr(uspec).ptr(s.spectra).ptr(lengths).i32(frames).i32(channels).i32(d).i32(log2)
                    .ptr(s.twiddles).run();
        }
    }

    /**
     * The FFT-form backward with a precomputed spectrum: per (b, k) and slice of columns the sum of
     * FFT(dm_i) conj(H_i) (B K slices (N/2 + 1) float2 of workspace), then per (b, k) the sum over
     * slices and one inverse FFT, written straight into du.
     */
    static void backwardFft(CudaContext ctx, Spectrum s, CUdeviceptr du, CUdeviceptr dm, CUdeviceptr lengths, int batch,
            int frames, int channels) {
        checkSpectrum(s, frames);
        int log2 = s.log2, d = s.order, jobs = batch * channels;
        int slices = ModelKernelGeometry.convFftSlices(d, log2);
        try (DeviceBuffer partial = ctx.allocator().allocate(8L * jobs * slices * ModelKernelGeometry.convFftHalf(log2))) {
            Launch.kernel(ctx, "lmu_conv", "lmu_conv_fft_backward_kernel")
                    .grid(new Dim3(slices, jobs, 1)).block(ModelKernelGeometry.CONV_FFT_WIDE_THREADS)
                    .sharedBytes(ModelKernelGeometry.convFftSharedBytes(log2, true)).ptr(partial).ptr(dm).ptr(s.spectra)
                    .ptr(lengths).i32(frames).i32(channels).i32(d).i32(ModelKernelGeometry.convFftPairsPerSlice(log2))
                    .i32(log2).ptr(s.twiddles).run();
            Launch.kernel(ctx, "lmu_conv", "lmu_conv_fft_backward_output_kernel")
                    .grid(new Dim3(ModelKernelGeometry.convFftBlocks(jobs, log2), 1, 1)).block(ModelKernelGeometry.CONV_FFT_THREADS)
                    .sharedBytes(ModelKernelGeometry.convFftSharedBytes(log2, false)).ptr(du).ptr(partial).ptr(lengths)
                    .i32(batch).i32(frames).i32(channels).i32(slices).i32(log2).ptr(s.twiddles).run();
        }
    }

    private static void check(int batch, int frames, int channels, int order, int hLength) {
        Checks.positive("LegendreConvolution batch", batch);
        Checks.positive("LegendreConvolution frames", frames);
        Checks.positive("LegendreConvolution channels", channels);
        Checks.positive("LegendreConvolution order", order);
        Checks.positive("LegendreConvolution hLength", hLength);
        if ((long) batch * channels > 65535) {
            throw new IllegalArgumentException("LegendreConvolution: B * K : " + (long) batch * channels
                    + " (expected: <= 65535, the grid's y/z limit)");
        }
    }
}
