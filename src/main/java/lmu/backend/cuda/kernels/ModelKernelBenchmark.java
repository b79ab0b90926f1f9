package lmu.backend.cuda.kernels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import jcuda.driver.CUevent;
import jcuda.driver.JCudaDriver;
import lmu.backend.cuda.CudaContext;
import lmu.backend.cuda.DeviceBuffer;
import lmu.backend.cuda.PinnedStaging;
import lmu.nn.lmu.Activation;
import lmu.nn.lmu.Discretizer;
import lmu.nn.lmu.LegendreImpulseResponse;
import lmu.nn.lmu.LegendreStateSpace;
import lmu.speech.ctc.CtcLoss;
import lmu.speech.features.FeatureConfig;

/**
 * Kernel-only timings of the model kernels with CUDA events, L2 flushed before every timed launch
 * (a 256 MiB memset, more than any GPU's L2), on the seed model's shapes: CTC (B 96, T 400, V 29,
 * L 100), the LMU convolution in both forms (B 96, K 1, d 192, T 192, 256 and 320 around the
 * crossover, 1500 and 3000 as the seed's sequences after downsampling), the LMU recurrence (B 96,
 * T 400, H 384, K 1, d 192), attention (B 96, T 200, 6 heads x 64; fp32, and fp16/bf16 on
 * tensor cores with dropout 0.1) and log-mel features (96 utterances of 15 s). Reports the median
 * of the timed runs with GB/s (memory-bound kernels) or TFLOP/s (attention) and writes the same as JSON to {@code
 * model-kernels.json} in the working directory. {@code bench/gpu/torch_kernels.py} times PyTorch on
 * the same shapes for the side-by-side.
 *
 * <p>{@code java -cp lmu-engine.jar lmu.backend.cuda.kernels.ModelKernelBenchmark [repeats]}
 */
public final class ModelKernelBenchmark {
    private ModelKernelBenchmark() {}

    private static final long FLUSH_BYTES = 256L << 20;

    private record Row(String kernel, String shape, double ms, String unit, double rate) {
        String json() {
            return String.format(Locale.ROOT, "{\"kernel\": \"%s\", \"shape\": \"%s\", \"ms\": %.4f, \"%s\": %.2f}", kernel, shape,
                    ms, unit, rate);
        }
    }

    private interface Body {
        void run();
    }

    /** Median kernel time in ms of {@code body} over {@code repeats} runs after 3 warm-ups, L2 flushed before each. */
    private static double time(CudaContext ctx, DeviceBuffer flush, int repeats, Body body) {
        CUevent start = new CUevent(), stop = new CUevent();
        JCudaDriver.cuEventCreate(start, 0);
        JCudaDriver.cuEventCreate(stop, 0);
        try {
            for (int i = 0; i < 3; i++) body.run();
            double[] ms = new double[repeats];
            float[] elapsed = new float[1];
            for (int i = 0; i < repeats; i++) {
                JCudaDriver.cuMemsetD32Async(flush.ptr(), i, FLUSH_BYTES / 4, ctx.stream());
                JCudaDriver.cuEventRecord(start, ctx.stream());
                body.run();
                JCudaDriver.cuEventRecord(stop, ctx.stream());
                JCudaDriver.cuEventSynchronize(stop);
                JCudaDriver.cuEventElapsedTime(elapsed, start, stop);
                ms[i] = elapsed[0];
            }
            java.util.Arrays.sort(ms);
            return ms[repeats / 2];
        } finally {
            JCudaDriver.cuEventDestroy(start);
            JCudaDriver.cuEventDestroy(stop);
        }
    }

    private static float[] random(Random r, long n, double scale) {
        float[] a = new float[(int) n];
        for (int i = 0; i < a.length; i++) a[i] = (float) (r.nextGaussian() * scale);
        return a;
    }

    /** Runs every benchmark on {@code ctx}; returns the rows printed. */
    static List<Row> run(CudaContext ctx, PinnedStaging io, int repeats) {
        DeviceArrays dev = new DeviceArrays(ctx, io);
        Random r = new Random(1);
        List<Row> rows = new ArrayList<>();
        try (DeviceBuffer flush = ctx.allocator().allocate(FLUSH_BYTES)) {
            ctc(ctx, dev, r, flush, repeats, rows);
            conv(ctx, dev, r, flush, repeats, rows);
            recurrent(ctx, dev, r, flush, repeats, rows);
            attention(ctx, dev, r, flush, repeats, rows, 64);
            attention(ctx, dev, r, flush, repeats, rows, 32);
            halfAttention(ctx, dev, r, flush, repeats, rows, lmu.tensor.DType.F16);
            halfAttention(ctx, dev, r, flush, repeats, rows, lmu.tensor.DType.BF16);
            logMel(ctx, dev, r, flush, repeats, rows);
        }
        return rows;
    }

    private static void add(List<Row> rows, Row row) {
        rows.add(row);
        System.out.printf(Locale.ROOT, "%-28s %-28s %9.3f ms  %9.2f %s%n", row.kernel(), row.shape(), row.ms(), row.rate(), row.unit());
    }

    private static void ctc(CudaContext ctx, DeviceArrays dev, Random r, DeviceBuffer flush, int repeats, List<Row> rows) {
        int b = 96, t = 400, v = 29, l = 100;
        int[] inLens = new int[b], tgtLens = new int[b], targets = new int[b * l];
        for (int i = 0; i < b; i++) {
            inLens[i] = t - r.nextInt(t / 4);
            tgtLens[i] = l - r.nextInt(l / 4);
            for (int j = 0; j < l; j++) targets[i * l + j] = 1 + r.nextInt(v - 1);
        }
        String shape = "B" + b + "_T" + t + "_V" + v + "_L" + l;
        long n = (long) b * t * v;
        long states = 2L * l + 1;
        try (DeviceBuffer x = dev.floats(random(r, n, 2)); DeviceBuffer dx = dev.empty(n); DeviceBuffer loss = dev.empty(b);
                DeviceBuffer il = dev.ints(inLens); DeviceBuffer tg = dev.ints(targets); DeviceBuffer tl = dev.ints(tgtLens);
                CudaCtcLoss.Workspace ws = CudaCtcLoss.workspace(ctx, b, t, l)) {
            Body fwd = () -> CudaCtcLoss.forward(ctx, ws, loss.ptr(), x.ptr(), CtcLoss.Layout.BATCH_MAJOR, b, t, v, il.ptr(),
                    tg.ptr(), l, tl.ptr(), false);
            Body bwd = () -> CudaCtcLoss.backward(ctx, ws, dx.ptr(), x.ptr(), CtcLoss.Layout.BATCH_MAJOR, b, t, v, il.ptr(),
                    tg.ptr(), l, tl.ptr(), loss.ptr(), null, CtcLoss.Reduction.MEAN, false);
            // napkin: forward reads the logits and writes log-alpha (B T S floats); backward reads the
            // logits and log-alpha and writes the gradient. Counted at full T and S (upper bound).
            double fwdBytes = 4.0 * (n + (double) b * t * states);
            double bwdBytes = 4.0 * (2.0 * n + (double) b * t * states);
            double f = time(ctx, flush, repeats, fwd);
            add(rows, new Row("ctc_loss_forward", shape, f, "GB/s", fwdBytes / f / 1e6));
            double g = time(ctx, flush, repeats, bwd);
            add(rows, new Row("ctc_loss_backward", shape, g, "GB/s", bwdBytes / g / 1e6));
            double fg = time(ctx, flush, repeats, () -> {
                fwd.run();
                bwd.run();
            });
            add(rows, new Row("ctc_loss_forward_backward", shape, fg, "GB/s", (fwdBytes + bwdBytes) / fg / 1e6));
        }
    }

    private static void conv(CudaContext ctx, DeviceArrays dev, Random r, DeviceBuffer flush, int repeats, List<Row> rows) {
        // around the crossover (CudaLegendreConvolution.FFT_MIN_FRAMES = 320) in both forms, then the
        // seed's lengths after downsampling (1500 and 3000 frames) in both forms
        for (int t : new int[] {192, 256, 320}) {
            conv(ctx, dev, r, flush, repeats, rows, t, CudaLegendreConvolution.Method.DIRECT);
            conv(ctx, dev, r, flush, repeats, rows, t, CudaLegendreConvolution.Method.FFT);
        }
        for (int t : new int[] {1500, 3000}) {
            conv(ctx, dev, r, flush, repeats, rows, t, CudaLegendreConvolution.Method.FFT);
            conv(ctx, dev, r, flush, repeats, rows, t, CudaLegendreConvolution.Method.DIRECT);
        }
    }

    private static void conv(CudaContext ctx, DeviceArrays dev, Random r, DeviceBuffer flush, int repeats, List<Row> rows, int t,
            CudaLegendreConvolution.Method method) {
        int b = 96, k = 1, d = 192;
        int[] lengths = new int[b];
        java.util.Arrays.fill(lengths, t);
        String shape = "B" + b + "_T" + t + "_K" + k + "_d" + d;
        String form = method == CudaLegendreConvolution.Method.FFT ? "_fft" : "_direct";
        LegendreImpulseResponse ir = new LegendreImpulseResponse(new LegendreStateSpace(d, 200, Discretizer.ZOH), t);
        long nu = (long) b * t * k, nm = nu * d;
        try (DeviceBuffer u = dev.floats(random(r, nu, 1)); DeviceBuffer m = dev.empty(nm); DeviceBuffer dm = dev.floats(random(r, nm, 1));
                DeviceBuffer du = dev.empty(nu); DeviceBuffer h = dev.floats(ir.response(t)); DeviceBuffer len = dev.ints(lengths);
                CudaLegendreConvolution.SpectrumCache cache = new CudaLegendreConvolution.SpectrumCache(ctx, h.ptr(), d, t)) {
            // napkin: the floor is writing m (forward) or reading dm (backward), B T K d floats, plus u / du.
            // Direct form: B K d T (T + 1) / 2 multiply-adds. FFT form (N = 2^ceil(log2(2T - 1))),
            // counted as 5 N log2 N flops per complex N-point FFT, two real signals per FFT, and 6 per
            // complex product: forward B K (1 + d) / 2 FFTs + B K d (N/2 + 1) products, backward
            // B K (d + 1) / 2 FFTs + the same products (H's spectrum is cached, as in training).
            double bytes = 4.0 * (nm + nu);
            double flops;
            if (method == CudaLegendreConvolution.Method.FFT) {
                cache.get(t); // H's spectrum outside the timing, as a layer's cache holds it
                int log2 = ModelKernelGeometry.convFftLog2(t);
                double n = 1 << log2;
                flops = (double) b * k * ((1.0 + d) / 2 * 5 * n * log2 + 6.0 * d * (n / 2 + 1));
            } else {
                flops = 2.0 * b * k * d * t * (t + 1) / 2.0;
            }
            double f = time(ctx, flush, repeats,
                    () -> CudaLegendreConvolution.forward(ctx, cache, m.ptr(), u.ptr(), len.ptr(), b, t, k, method));
            add(rows, new Row("lmu_conv_forward" + form, shape, f, "GB/s", bytes / f / 1e6));
            add(rows, new Row("lmu_conv_forward" + form, shape, f, "TFLOP/s", flops / f / 1e9));
            double g = time(ctx, flush, repeats,
                    () -> CudaLegendreConvolution.backward(ctx, cache, du.ptr(), dm.ptr(), len.ptr(), b, t, k, method));
            add(rows, new Row("lmu_conv_backward" + form, shape, g, "GB/s", bytes / g / 1e6));
            add(rows, new Row("lmu_conv_backward" + form, shape, g, "TFLOP/s", flops / g / 1e9));
            if (method == CudaLegendreConvolution.Method.FFT) {
                // the spectrum of H (d real columns) when it is not cached: what a call without a cache adds
                double sp = time(ctx, flush, repeats, () -> CudaLegendreConvolution.spectrum(ctx, h.ptr(), d, t, t).close());
                add(rows, new Row("lmu_conv_fft_spectrum", "T" + t + "_d" + d, sp, "GB/s", 4.0 * t * d / sp / 1e6));
            }
        }
    }

    private static void recurrent(CudaContext ctx, DeviceArrays dev, Random r, DeviceBuffer flush, int repeats, List<Row> rows) {
        int b = 96, t = 400, hid = 384, k = 1, d = 192;
        int[] lengths = new int[b];
        java.util.Arrays.fill(lengths, t);
        String shape = "B" + b + "_T" + t + "_H" + hid + "_K" + k + "_d" + d;
        LegendreStateSpace ss = new LegendreStateSpace(d, 200, Discretizer.ZOH);
        double[] a = ss.aBar();
        double[] at = new double[d * d];
        for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) at[j * d + i] = a[i * d + j];
        long rowsBT = (long) b * t;
        CudaLmuRecurrent.Shape s = new CudaLmuRecurrent.Shape(hid, k, d, Activation.TANH);
        try (DeviceBuffer ux = dev.floats(random(r, rowsBT * k, 1)); DeviceBuffer ax = dev.floats(random(r, rowsBT * hid, 1));
                DeviceBuffer gat = dev.floats(at); DeviceBuffer ga = dev.floats(a); DeviceBuffer gb = dev.floats(ss.bBar());
                DeviceBuffer wm = dev.floats(random(r, (long) k * d * hid, 0.07)); DeviceBuffer len = dev.ints(lengths);
                DeviceBuffer h = dev.empty(rowsBT * hid); DeviceBuffer m = dev.empty(rowsBT * k * d);
                DeviceBuffer dh = dev.floats(random(r, rowsBT * hid, 1)); DeviceBuffer dz = dev.empty(rowsBT * hid);
                DeviceBuffer du = dev.empty(rowsBT * k)) {
            // napkin: per frame, Abar m (d^2 K) and m W_m (K d H) multiply-adds; the feed-forward
            // configuration (no e_h, e_m, W_h) of the seed model
            double flops = 2.0 * rowsBT * ((double) d * d * k + (double) k * d * hid);
            double f = time(ctx, flush, repeats, () -> CudaLmuRecurrent.forward(ctx, h.ptr(), m.ptr(), ux.ptr(), ax.ptr(), gat.ptr(),
                    gb.ptr(), null, null, null, wm.ptr(), len.ptr(), b, t, s));
            add(rows, new Row("lmu_recurrent_forward", shape, f, "TFLOP/s", flops / f / 1e9));
            double g = time(ctx, flush, repeats, () -> CudaLmuRecurrent.backward(ctx, dz.ptr(), du.ptr(), dh.ptr(), h.ptr(), ga.ptr(),
                    gb.ptr(), null, null, null, wm.ptr(), len.ptr(), b, t, s));
            add(rows, new Row("lmu_recurrent_backward", shape, g, "TFLOP/s", flops / g / 1e9));
        }
    }

    private static void attention(CudaContext ctx, DeviceArrays dev, Random r, DeviceBuffer flush, int repeats, List<Row> rows,
            int headDim) {
        int b = 96, t = 200, heads = 384 / headDim;
        int[] lengths = new int[b];
        for (int i = 0; i < b; i++) lengths[i] = t - r.nextInt(t / 4);
        String shape = "B" + b + "_T" + t + "_H" + heads + "_D" + headDim;
        long n = (long) b * t * heads * headDim;
        try (DeviceBuffer q = dev.floats(random(r, n, 1)); DeviceBuffer k = dev.floats(random(r, n, 1));
                DeviceBuffer v = dev.floats(random(r, n, 1)); DeviceBuffer o = dev.empty(n); DeviceBuffer dout = dev.floats(random(r, n, 1));
                DeviceBuffer stats = dev.empty(2L * b * heads * t); DeviceBuffer dq = dev.empty(n); DeviceBuffer dk = dev.empty(n);
                DeviceBuffer dv = dev.empty(n); DeviceBuffer len = dev.ints(lengths)) {
            // napkin: forward is two T x T x Dh products per head, 4 B H T^2 Dh flops; backward
            // counts five such products (2.5 x forward), the convention of flash-attention
            // reports, though the recomputation here performs more
            double fwdFlops = 4.0 * b * heads * (double) t * t * headDim;
            double bwdFlops = 2.5 * fwdFlops;
            Body fwd = () -> CudaAttention.forward(ctx, o.ptr(), stats.ptr(), q.ptr(), k.ptr(), v.ptr(), len.ptr(), b, t, heads, headDim);
            Body bwd = () -> CudaAttention.backward(ctx, dq.ptr(), dk.ptr(), dv.ptr(), dout.ptr(), q.ptr(), k.ptr(), v.ptr(), o.ptr(),
                    stats.ptr(), len.ptr(), b, t, heads, headDim);
            double f = time(ctx, flush, repeats, fwd);
            add(rows, new Row("attention_forward", shape, f, "TFLOP/s", fwdFlops / f / 1e9));
            fwd.run();
            double g = time(ctx, flush, repeats, bwd);
            add(rows, new Row("attention_backward", shape, g, "TFLOP/s", bwdFlops / g / 1e9));
            double fg = time(ctx, flush, repeats, () -> {
                fwd.run();
                bwd.run();
            });
            add(rows, new Row("attention_forward_backward", shape, fg, "TFLOP/s", (fwdFlops + bwdFlops) / fg / 1e9));
            // with the training configuration's attention dropout (0.1): the mask is hashed in the
            // forward and redrawn in both backward kernels; same flop count, so the rate shows its cost
            float scale = CudaAttention.scale(headDim), mask = (float) lmu.nn.MultiHeadAttention.MASK_VALUE;
            double fgd = time(ctx, flush, repeats, () -> {
                CudaAttention.forward(ctx, o.ptr(), stats.ptr(), q.ptr(), k.ptr(), v.ptr(), len.ptr(), b, t, heads, headDim, scale,
                        mask, 0.1, 12345L);
                CudaAttention.backward(ctx, dq.ptr(), dk.ptr(), dv.ptr(), dout.ptr(), q.ptr(), k.ptr(), v.ptr(), o.ptr(), stats.ptr(),
                        len.ptr(), b, t, heads, headDim, scale, mask, 0.1, 12345L);
            });
            add(rows, new Row("attention_forward_backward_dropout0.1", shape, fgd, "TFLOP/s", (fwdFlops + bwdFlops) / fgd / 1e9));
        }
    }

    /** n normal values in a 16-bit format on the device (2 bytes each). */
    private static DeviceBuffer halfs(DeviceArrays dev, Random r, long n, lmu.tensor.DType format) {
        short[] h = new short[(int) n];
        for (int i = 0; i < h.length; i++) h[i] = lmu.tensor.HalfFloats.encode(format, (float) r.nextGaussian());
        DeviceBuffer b = dev.ctx().allocator().allocate(Math.max(4L, 2L * n));
        dev.ctx().synchronize();
        JCudaDriver.cuMemcpyHtoD(b.ptr(), jcuda.Pointer.to(h), 2L * n);
        return b;
    }

    /**
     * The tensor-core attention ({@code attention_half.cu}) on the seed shape (B 96, T 200, 6 heads
     * x 64) in a 16-bit format with the training configuration's dropout 0.1, forward, backward and
     * both: the rows to set beside PyTorch's scaled_dot_product_attention in that format
     * ({@code torch_kernels.py} sdpa_f16 / sdpa_bf16).
     */
    private static void halfAttention(CudaContext ctx, DeviceArrays dev, Random r, DeviceBuffer flush, int repeats, List<Row> rows,
            lmu.tensor.DType format) {
        int b = 96, t = 200, headDim = 64, heads = 384 / headDim;
        int[] lengths = new int[b];
        for (int i = 0; i < b; i++) lengths[i] = t - r.nextInt(t / 4);
        String fmt = format.name().toLowerCase(Locale.ROOT);
        String shape = "B" + b + "_T" + t + "_H" + heads + "_D" + headDim;
        long n = (long) b * t * heads * headDim;
        try (DeviceBuffer q = halfs(dev, r, n, format); DeviceBuffer k = halfs(dev, r, n, format);
                DeviceBuffer v = halfs(dev, r, n, format); DeviceBuffer dout = halfs(dev, r, n, format);
                DeviceBuffer o = halfs(dev, r, n, format); DeviceBuffer stats = dev.empty(2L * b * heads * t);
                DeviceBuffer dq = halfs(dev, r, n, format); DeviceBuffer dk = halfs(dev, r, n, format);
                DeviceBuffer dv = halfs(dev, r, n, format); DeviceBuffer len = dev.ints(lengths)) {
            // napkin: as the fp32 rows, forward 4 B H T^2 Dh flops, backward 2.5 x forward
            double fwdFlops = 4.0 * b * heads * (double) t * t * headDim;
            double bwdFlops = 2.5 * fwdFlops;
            float scale = CudaAttention.scale(headDim), mask = (float) lmu.nn.MultiHeadAttention.MASK_VALUE;
            double p = 0.1;
            long seed = 12345L;
            Body fwd = () -> CudaHalfAttention.forward(ctx, format, o.ptr(), stats.ptr(), q.ptr(), k.ptr(), v.ptr(), len.ptr(), b, t,
                    heads, headDim, scale, mask, p, seed);
            Body bwd = () -> CudaHalfAttention.backward(ctx, format, dq.ptr(), dk.ptr(), dv.ptr(), dout.ptr(), q.ptr(), k.ptr(),
                    v.ptr(), o.ptr(), stats.ptr(), len.ptr(), b, t, heads, headDim, scale, mask, p, seed);
            double f = time(ctx, flush, repeats, fwd);
            add(rows, new Row("attention_" + fmt + "_forward_dropout0.1", shape, f, "TFLOP/s", fwdFlops / f / 1e9));
            fwd.run();
            double g = time(ctx, flush, repeats, bwd);
            add(rows, new Row("attention_" + fmt + "_backward_dropout0.1", shape, g, "TFLOP/s", bwdFlops / g / 1e9));
            double fg = time(ctx, flush, repeats, () -> {
                fwd.run();
                bwd.run();
            });
            add(rows, new Row("attention_" + fmt + "_forward_backward_dropout0.1", shape, fg, "TFLOP/s",
                    (fwdFlops + bwdFlops) / fg / 1e9));
        }
    }

    private static void logMel(CudaContext ctx, DeviceArrays dev, Random r, DeviceBuffer flush, int repeats, List<Row> rows) {
        FeatureConfig cfg = FeatureConfig.defaults();
        int b = 96, samples = 15 * cfg.sampleRate(), frames = cfg.numFrames(samples);
        int[] offsets = new int[b], lengths = new int[b], counts = new int[b];
        for (int i = 0; i < b; i++) {
            offsets[i] = i * samples;
            lengths[i] = samples;
            counts[i] = frames;
        }
        String shape = "B" + b + "_15s_mels" + cfg.nMels();
        try (CudaLogMel mel = new CudaLogMel(ctx, cfg); DeviceBuffer x = dev.floats(random(r, (long) b * samples, 0.1));
                DeviceBuffer out = dev.empty((long) b * frames * cfg.nMels()); DeviceBuffer off = dev.ints(offsets);
                DeviceBuffer len = dev.ints(lengths); DeviceBuffer cnt = dev.ints(counts)) {
            // napkin: a direct float64 DFT, nFft x nBins complex multiply-adds (4 flops) per frame
            double flops = 4.0 * b * frames * cfg.nFft() * cfg.numBins();
            double ms = time(ctx, flush, repeats, () -> mel.compute(out.ptr(), x.ptr(), off.ptr(), len.ptr(), cnt.ptr(), b, frames));
            add(rows, new Row("logmel", shape, ms, "x_realtime", b * 15.0 / (ms / 1e3)));
            add(rows, new Row("logmel", shape, ms, "TFLOP/s_fp64", flops / ms / 1e9));
        }
    }

    /**
     * Runs every benchmark on device 0 and writes {@code model-kernels.json}.
     *
     * @param args optional: the number of timed runs per kernel (default 20)
     * @throws IllegalStateException without CUDA
     * @throws IOException when the JSON file cannot be written
     */
    public static void main(String[] args) throws IOException {
        int repeats = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        if (repeats <= 0) throw new IllegalArgumentException("ModelKernelBenchmark: repeats : " + repeats + " (expected: > 0)");
        List<Row> rows;
        String device;
        try (CudaContext ctx = CudaContext.open(0); PinnedStaging io = new PinnedStaging(ctx, PinnedStaging.DEFAULT_CHUNK_BYTES)) {
            device = ctx.toString();
            System.out.println("device: " + device + " (median of " + repeats + " runs, L2 flushed, CUDA events)");
            rows = run(ctx, io, repeats);
        }
        StringBuilder json = new StringBuilder("{\"device\": \"" + device.replace("\"", "'") + "\", \"results\": [\n");
        for (int i = 0; i < rows.size(); i++) json.append("  ").append(rows.get(i).json()).append(i + 1 < rows.size() ? ",\n" : "\n");
        json.append("]}\n");
        Files.writeString(Path.of("model-kernels.json"), json);
    }
}
