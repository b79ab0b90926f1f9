package lmu.backend.cuda.kernels;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import lmu.backend.AttentionKernels;
import lmu.backend.CtcKernels;
import lmu.backend.cpu.CpuAttentionKernels;
import lmu.backend.cpu.CpuCtcKernels;
import lmu.backend.cuda.CudaBackend;
import lmu.backend.cuda.CudaContext;
import lmu.backend.cuda.DeviceBuffer;
import lmu.backend.cuda.PinnedStaging;
import lmu.nn.Masks;
import lmu.nn.MultiHeadAttention;
import lmu.nn.lmu.Activation;
import lmu.nn.lmu.Discretizer;
import lmu.nn.lmu.LegendreConvolution;
import lmu.nn.lmu.LegendreImpulseResponse;
import lmu.nn.lmu.LegendreStateSpace;
import lmu.nn.lmu.LmuConfig;
import lmu.nn.lmu.LmuParameters;
import lmu.nn.lmu.LmuRecurrent;
import lmu.ops.Dropout;
import lmu.ops.MaskedFill;
import lmu.ops.MatMul;
import lmu.speech.ctc.CtcLoss;
import lmu.tensor.Tensor;

/**
 * CPU-versus-CUDA parity of the model kernels, forward and backward, on awkward sizes: {@code
 * ctc_loss.cu} against {@link CtcLoss}, {@code lmu_recurrent.cu} against {@link LmuRecurrent},
 * {@code lmu_conv.cu} against {@link LegendreConvolution} and {@code attention.cu} against the
 * operations of {@link MultiHeadAttention} (MatMul, MaskedFill with -1e4, softmax, Dropout with the
 * same seed) in float64 with autograd; the kernel families {@link CudaAttentionKernels} and {@link
 * CudaCtcKernels} (host and device forms) against the CPU's. {@link
 * lmu.backend.cuda.CudaSelfTest#checks()} runs them with the parity suite's one
 * tolerance formula ({@code Tolerance.F32}); a subset: {@code java -cp lmu-engine.jar
 * lmu.backend.cuda.CudaSelfTest 'ctc|lmu|attention'}.
 */
public final class ModelKernelChecks {
    private ModelKernelChecks() {}

    /** Receives every comparison of a check. */
    @FunctionalInterface
    public interface Sink {
        /**
         * @param what the output's name, e.g. {@code "dlogits"}
         * @param got the GPU's values
         * @param ref the CPU reference
         * @param n length of the longest sum behind a value (&ge; 1)
         */
        void compare(String what, float[] got, double[] ref, int n);
    }

    /** The body of a check: runs on {@code ctx} and reports each output to the sink. */
    @FunctionalInterface
    public interface Body {
        void run(CudaContext ctx, PinnedStaging io, Sink sink);
    }

    /**
     * One named check.
     *
     * @param name what is checked, with its sizes; unique in {@link #checks()}
     * @param body the check
     */
    public record Check(String name, Body body) {}

    /** Every check, in the order they run. */
    public static List<Check> checks() {
        List<Check> c = new ArrayList<>();
        // CTC: layouts, reductions, zero-infinity, an infeasible, an empty and a label-free utterance, large logits
        for (CtcLoss.Layout layout : CtcLoss.Layout.values()) {
            for (CtcLoss.Reduction red : CtcLoss.Reduction.values()) {
                add(c, "ctc " + layout + " " + red + " B6 T57 V29", (d, r, s) -> ctc(d, r, s, layout, red, false, 6, 57, 29, 3));
            }
        }
        add(c, "ctc zeroInfinity B6 T13 V7", (d, r, s) -> ctc(d, r, s, CtcLoss.Layout.BATCH_MAJOR, CtcLoss.Reduction.MEAN, true, 6, 13, 7, 3));
        add(c, "ctc B3 T1 V2", (d, r, s) -> ctc(d, r, s, CtcLoss.Layout.BATCH_MAJOR, CtcLoss.Reduction.SUM, false, 3, 1, 2, 1));
        add(c, "ctc large logits B4 T207 V29", (d, r, s) -> ctc(d, r, s, CtcLoss.Layout.TIME_MAJOR, CtcLoss.Reduction.MEAN, false, 4, 207, 29, 40));
        add(c, "ctc S>512 B3 T1200 V29", (d, r, s) -> ctc(d, r, s, CtcLoss.Layout.BATCH_MAJOR, CtcLoss.Reduction.MEAN, false, 3, 1200, 29, 3));
        // LMU recurrence: every feedback path on (tanh), none (relu), Abar on chip at order 64
        add(c, "lmu-recurrent all feedback B3 T11 H13 K2 d7", (d, r, s) -> lmuRecurrent(d, r, s,
                new LmuConfig(5, 13, 2, 7, 9, Discretizer.ZOH, true, true, true, true, Activation.TANH, true, true, 64),
                3, 11, new int[] {11, 0, 6}));
        add(c, "lmu-recurrent no feedback B2 T23 H37 d64", (d, r, s) -> lmuRecurrent(d, r, s,
                LmuConfig.of(3, 37, 1, 64, 80).withHidden(false, false, Activation.RELU), 2, 23, new int[] {17, 23}));
        add(c, "lmu-recurrent B2 T9 H130 K3 d33", (d, r, s) -> lmuRecurrent(d, r, s,
                LmuConfig.of(4, 130, 3, 33, 40).withFeedback(true, false).withHidden(true, true, Activation.IDENTITY), 2, 9,
                new int[] {9, 4}));
        // convolution: tails of every tile (frames 64, coefficients 64, lags 16)
        add(c, "lmu-conv B2 T1 K1 d1", (d, r, s) -> conv(d, r, s, 2, 1, 1, 1, new int[] {1, 0}));
        add(c, "lmu-conv B4 T13 K3 d7", (d, r, s) -> conv(d, r, s, 4, 13, 3, 7, new int[] {13, 0, 5, 1}));
        add(c, "lmu-conv B3 T130 K2 d64", (d, r, s) -> conv(d, r, s, 3, 130, 2, 64, new int[] {130, 65, 64}));
        add(c, "lmu-conv B2 T207 K1 d192", (d, r, s) -> conv(d, r, s, 2, 207, 1, 192, new int[] {207, 100}));
        add(c, "lmu-conv B2 T1500 K1 d16", (d, r, s) -> conv(d, r, s, 2, 1500, 1, 16, new int[] {1500, 999})); // the benchmark's long direct form
        // convolution, FFT form: the smallest N (16, 512 lanes per block), an empty sequence, odd d,
        // T around the crossover (N 1024) and the next N, H longer than N/2, one spectrum for two T
        // of the same N, the seed's 3000 frames (N 8192) with a padded sequence, the longest T
        var fft = CudaLegendreConvolution.Method.FFT;
        add(c, "lmu-conv fft B2 T1 K1 d1", (d, r, s) -> conv(d, r, s, 2, 1, 1, 1, new int[] {1, 0}, fft, 1));
        add(c, "lmu-conv fft B4 T13 K3 d7", (d, r, s) -> conv(d, r, s, 4, 13, 3, 7, new int[] {13, 0, 5, 1}, fft, 13));
        add(c, "lmu-conv fft B3 T130 K2 d65 hLength 200", (d, r, s) -> conv(d, r, s, 3, 130, 2, 65, new int[] {130, 65, 64}, fft,
                200));
        add(c, "lmu-conv fft B3 T319 K1 d192", (d, r, s) -> conv(d, r, s, 3, 319, 1, 192, new int[] {319, 200, 0}, fft, 319));
        add(c, "lmu-conv auto B2 T320 K1 d192", (d, r, s) -> conv(d, r, s, 2, 320, 1, 192, new int[] {320, 77},
                CudaLegendreConvolution.Method.AUTO, 320));
        add(c, "lmu-conv fft B2 T513 K2 d33", (d, r, s) -> conv(d, r, s, 2, 513, 2, 33, new int[] {400, 513}, fft, 513));
        add(c, "lmu-conv fft cached B2 T1100 and T2048 d64", (d, r, s) -> convCached(d, r, s, 2, new int[] {1100, 2048}, 64));
        add(c, "lmu-conv fft B2 T3000 K1 d192", (d, r, s) -> conv(d, r, s, 2, 3000, 1, 192, new int[] {3000, 1733}, fft, 3000));
        add(c, "lmu-conv fft B1 T4096 K1 d6", (d, r, s) -> conv(d, r, s, 1, 4096, 1, 6, new int[] {4096}, fft, 4096));
        // attention: head dims 32 and 64, tails of the 32- and 64-row tiles, padded keys, an all-padded sequence
        add(c, "attention hd64 B2 T1 H2", (d, r, s) -> attention(d, r, s, 2, 1, 2, 64, new int[] {1, 1}));
        add(c, "attention hd64 B3 T77 H3", (d, r, s) -> attention(d, r, s, 3, 77, 3, 64, new int[] {77, 40, 0}));
        add(c, "attention hd32 B2 T130 H2", (d, r, s) -> attention(d, r, s, 2, 130, 2, 32, new int[] {13, 130}));
        add(c, "attention hd64 no mask B2 T33 H1", (d, r, s) -> attention(d, r, s, 2, 33, 1, 64, null));
        // attention dropout: the CPU's counter-based mask on the (B·H, T, T) weights, redrawn by the backward
        add(c, "attention dropout 0.1 hd64 B3 T77 H3", (d, r, s) -> attention(d, r, s, 3, 77, 3, 64, new int[] {77, 40, 0}, 0.1));
        add(c, "attention dropout 0.5 hd32 B2 T130 H2", (d, r, s) -> attention(d, r, s, 2, 130, 2, 32, new int[] {13, 130}, 0.5));
        add(c, "attention dropout 0.3 hd64 no mask B1 T1 H1", (d, r, s) -> attention(d, r, s, 1, 1, 1, 64, null, 0.3));
        // the kernel families on a CudaBackend against the CPU's (what ScaledDotProductAttention and CtcLossFunction call)
        add(c, "attention family (AttentionKernels) dropout 0.1 hd32 B2 T45 H3", (d, r, s) -> attentionFamily(d, r, s, 2, 45, 3, 32,
                new int[] {45, 17}, 0.1, false));
        add(c, "attention family (AttentionKernels) only dq hd64 B2 T20 H1", (d, r, s) -> attentionFamily(d, r, s, 2, 20, 1, 64, null, 0, true));
        for (CtcLoss.Reduction red : CtcLoss.Reduction.values()) {
            add(c, "ctc family (CtcKernels) " + red + " B5 T40 V11", (d, r, s) -> ctcFamily(d, r, s, CtcLoss.Layout.BATCH_MAJOR, red, false));
        }
        add(c, "lmu family (LmuKernels) device lengths B3 T21 K2 d5", ModelKernelChecks::lmuDeviceLengths);
        add(c, "ctc family (CtcKernels) TIME_MAJOR zeroInfinity B5 T40 V11", (d, r, s) -> ctcFamily(d, r, s, CtcLoss.Layout.TIME_MAJOR,
                CtcLoss.Reduction.MEAN, true));
        return c;
    }

    private interface ArraysBody {
        void run(DeviceArrays dev, Random rnd, Sink sink);
    }

    /** Adds a check whose random inputs are seeded by its name. */
    private static void add(List<Check> checks, String name, ArraysBody body) {
        checks.add(new Check(name, (ctx, io, sink) -> body.run(new DeviceArrays(ctx, io), new Random(name.hashCode()), sink)));
    }


    private static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    private static float[] gaussian(Random r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * scale);
        return a;
    }

    private static double[] gaussianD(Random r, int n, double scale) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = r.nextGaussian() * scale;
        return a;
    }

    // ---------------------------------------------------------------- CTC

    /**
     * B utterances: the first full length with random labels, the second with repeated labels,
     * the third infeasible (too many labels), the fourth with T_b = 0 and no labels (when B &gt; 3),
     * the fifth with frames but no labels, the rest random.
     */
    private static void ctc(DeviceArrays dev, Random r, Sink sink, CtcLoss.Layout layout, CtcLoss.Reduction red, boolean zeroInf,
            int batch, int frames, int vocab, double logitScale) {
        int maxLabels = Math.max(1, Math.min(frames, Math.max(2, frames / 3)));
        int[] inLens = new int[batch];
        int[] tgtLens = new int[batch];
        int[] targets = new int[batch * maxLabels];
        for (int b = 0; b < batch; b++) {
            inLens[b] = b == 0 ? frames : 1 + r.nextInt(frames);
            tgtLens[b] = r.nextInt(Math.min(maxLabels, inLens[b]) + 1);
            for (int i = 0; i < maxLabels; i++) targets[b * maxLabels + i] = 1 + r.nextInt(vocab - 1);
        }
        tgtLens[0] = Math.min(maxLabels, Math.max(1, frames / 4));
        if (batch > 1) { // adjacent repeats that still fit
            inLens[1] = frames;
            tgtLens[1] = Math.min(maxLabels, Math.max(1, frames / 3));
            for (int i = 0; i + 1 < tgtLens[1]; i += 3) targets[maxLabels + i + 1] = targets[maxLabels + i];
        }
        if (batch > 2) { // infeasible: labels (all equal) need 2L - 1 frames
            tgtLens[2] = maxLabels;
            for (int i = 0; i < maxLabels; i++) targets[2 * maxLabels + i] = 1;
            inLens[2] = Math.max(0, Math.min(frames, 2 * maxLabels - 2));
        }
        if (batch > 3) {
            inLens[3] = 0;
            tgtLens[3] = 0;
        }
        if (batch > 4) tgtLens[4] = 0;
        int n = batch * frames * vocab;
        float[] logits = gaussian(r, n, logitScale);
        int[] shape = layout == CtcLoss.Layout.BATCH_MAJOR ? new int[] {batch, frames, vocab} : new int[] {frames, batch, vocab};
        float[] gradOut = red == CtcLoss.Reduction.NONE ? gaussian(r, batch, 1) : new float[] {0.75f};
        CtcLoss cpu = new CtcLoss(layout, red, zeroInf);
        float[] dRef = new float[n];
        CtcLoss.Result res = cpu.forwardBackward(logits, shape, inLens, targets, tgtLens, dRef, gradOut);
        try (DeviceBuffer x = dev.floats(logits); DeviceBuffer dx = dev.empty(n); DeviceBuffer losses = dev.empty(batch);
                DeviceBuffer reduced = dev.empty(1); DeviceBuffer g = dev.floats(gradOut); DeviceBuffer il = dev.ints(inLens);
                DeviceBuffer tg = dev.ints(targets); DeviceBuffer tl = dev.ints(tgtLens);
                CudaCtcLoss.Workspace ws = CudaCtcLoss.workspace(dev.ctx(), batch, frames, maxLabels)) {
            CudaCtcLoss.forward(dev.ctx(), ws, losses.ptr(), x.ptr(), layout, batch, frames, vocab, il.ptr(), tg.ptr(), maxLabels,
                    tl.ptr(), zeroInf);
            CudaCtcLoss.backward(dev.ctx(), ws, dx.ptr(), x.ptr(), layout, batch, frames, vocab, il.ptr(), tg.ptr(), maxLabels,
                    tl.ptr(), losses.ptr(), g.ptr(), red, zeroInf);
            if (red != CtcLoss.Reduction.NONE) {
                CudaCtcLoss.reduce(dev.ctx(), reduced.ptr(), losses.ptr(), tl.ptr(), batch, red);
                sink.compare("reduced loss", dev.download(reduced, 1), new double[] {res.loss()}, frames * batch);
            }
            sink.compare("losses", dev.download(losses, batch), res.losses(), frames);
            sink.compare("dlogits", dev.download(dx, n), toDouble(dRef), frames);
        }
    }

    // ---------------------------------------------------------------- LMU recurrence

    private static void lmuRecurrent(DeviceArrays dev, Random r, Sink sink, LmuConfig c, int batch, int frames, int[] lengths) {
        LegendreStateSpace ss = new LegendreStateSpace(c.order(), c.theta(), c.discretizer());
        LmuParameters p = LmuParameters.initialise(c, r.nextLong());
        if (p.em != null) for (int i = 0; i < p.em.length; i++) p.em[i] = r.nextGaussian() * 0.1;
        if (p.bu != null) for (int i = 0; i < p.bu.length; i++) p.bu[i] = r.nextGaussian() * 0.1;
        if (p.bh != null) for (int i = 0; i < p.bh.length; i++) p.bh[i] = r.nextGaussian() * 0.1;
        int in = c.inputSize(), hid = c.hiddenSize(), k = c.memoryD(), d = c.order(), w = c.memoryWidth();
        int rows = batch * frames;
        double[] x = gaussianD(r, rows * in, 1);
        double[] dh = gaussianD(r, rows * hid, 1);
        LmuRecurrent.Saved saved = LmuRecurrent.forward(p, ss, x, batch, frames, lengths);
        LmuParameters gRef = p.zerosLike();
        double[] dxRef = LmuRecurrent.backward(p, ss, x, batch, frames, lengths, saved, dh, gRef);
        // the step-independent products, done here in float64 (a GEMM on the GPU path)
        double[] ux = new double[rows * k];
        double[] ax = new double[rows * hid];
        for (int row = 0; row < rows; row++) {
            for (int j = 0; j < k; j++) {
                double s = p.bu == null ? 0 : p.bu[j];
                for (int i = 0; i < in; i++) s += x[row * in + i] * p.ex[i * k + j];
                ux[row * k + j] = s;
            }
            for (int j = 0; j < hid; j++) {
                double s = p.bh == null ? 0 : p.bh[j];
                if (p.wx != null) for (int i = 0; i < in; i++) s += x[row * in + i] * p.wx[i * hid + j];
                ax[row * hid + j] = s;
            }
        }
        double[] aBar = ss.aBar();
        double[] aBarT = new double[d * d];
        for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) aBarT[j * d + i] = aBar[i * d + j];
        CudaLmuRecurrent.Shape shape = new CudaLmuRecurrent.Shape(hid, k, d, c.activation());
        float[] h, m, dz, du;
        try (DeviceBuffer gh = dev.empty((long) rows * hid); DeviceBuffer gm = dev.empty((long) rows * w);
                DeviceBuffer gux = dev.floats(ux); DeviceBuffer gax = dev.floats(ax); DeviceBuffer gat = dev.floats(aBarT);
                DeviceBuffer ga = dev.floats(aBar); DeviceBuffer gb = dev.floats(ss.bBar());
                DeviceBuffer geh = p.eh == null ? null : dev.floats(p.eh); DeviceBuffer gem = p.em == null ? null : dev.floats(p.em);
                DeviceBuffer gwh = p.wh == null ? null : dev.floats(p.wh); DeviceBuffer gwm = dev.floats(p.wm);
                DeviceBuffer len = dev.ints(lengths); DeviceBuffer gdh = dev.floats(dh);
                DeviceBuffer gdz = dev.empty((long) rows * hid); DeviceBuffer gdu = dev.empty((long) rows * k)) {
            CudaLmuRecurrent.forward(dev.ctx(), gh.ptr(), gm.ptr(), gux.ptr(), gax.ptr(), gat.ptr(), gb.ptr(), ptr(geh), ptr(gem),
                    ptr(gwh), gwm.ptr(), len.ptr(), batch, frames, shape);
            CudaLmuRecurrent.backward(dev.ctx(), gdz.ptr(), gdu.ptr(), gdh.ptr(), gh.ptr(), ga.ptr(), gb.ptr(), ptr(geh),
                    ptr(gem), ptr(gwh), gwm.ptr(), len.ptr(), batch, frames, shape);
            h = dev.download(gh, rows * hid);
            m = dev.download(gm, rows * w);
            dz = dev.download(gdz, rows * hid);
            du = dev.download(gdu, rows * k);
        }
        int sums = frames * (w + hid); // every frame's products feed the next
        sink.compare("h", h, saved.h(), sums);
        sink.compare("m", m, saved.m(), sums);
        // parameter gradients and dx from dz, du (the caller's GEMMs), in float64
        LmuParameters g = p.zerosLike();
        double[] dx = new double[rows * in];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < lengths[b]; t++) {
                int row = b * frames + t;
                for (int j = 0; j < hid; j++) {
                    double z = dz[row * hid + j];
                    if (g.bh != null) g.bh[j] += z;
                    for (int q = 0; q < w; q++) g.wm[q * hid + j] += m[row * w + q] * z;
                    if (g.wh != null && t > 0) for (int q = 0; q < hid; q++) g.wh[q * hid + j] += h[(row - 1) * hid + q] * z;
                    if (g.wx != null) {
                        for (int i = 0; i < in; i++) {
                            g.wx[i * hid + j] += x[row * in + i] * z;
                            dx[row * in + i] += p.wx[i * hid + j] * z;
                        }
                    }
                }
                for (int ch = 0; ch < k; ch++) {
                    double u = du[row * k + ch];
                    if (g.bu != null) g.bu[ch] += u;
                    for (int i = 0; i < in; i++) {
                        g.ex[i * k + ch] += x[row * in + i] * u;
                        dx[row * in + i] += p.ex[i * k + ch] * u;
                    }
                    if (g.eh != null && t > 0) for (int q = 0; q < hid; q++) g.eh[q * k + ch] += h[(row - 1) * hid + q] * u;
                    if (g.em != null && t > 0) for (int q = 0; q < w; q++) g.em[q * k + ch] += m[(row - 1) * w + q] * u;
                }
            }
        }
        sink.compare("dx", toFloat(dx), dxRef, sums);
        for (var e : gRef.arrays().entrySet()) {
            sink.compare("d" + e.getKey(), toFloat(g.arrays().get(e.getKey())), e.getValue(), sums * batch);
        }
    }

    private static jcuda.driver.CUdeviceptr ptr(DeviceBuffer b) {
        return b == null ? null : b.ptr();
    }

    private static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
        return f;
    }

    // ---------------------------------------------------------------- convolution

    private static void conv(DeviceArrays dev, Random r, Sink sink, int batch, int frames, int channels, int order, int[] lengths) {
        conv(dev, r, sink, batch, frames, channels, order, lengths, CudaLegendreConvolution.Method.DIRECT, frames);
    }

    /** One convolution, forward and backward, in {@code method}'s form with H of {@code hRows} rows. */
    private static void conv(DeviceArrays dev, Random r, Sink sink, int batch, int frames, int channels, int order, int[] lengths,
            CudaLegendreConvolution.Method method, int hRows) {
        LegendreStateSpace ss = new LegendreStateSpace(order, Math.max(order, 8), Discretizer.ZOH);
        LegendreImpulseResponse ir = new LegendreImpulseResponse(ss, Math.max(frames, hRows));
        double[] u = gaussianD(r, batch * frames * channels, 1);
        double[] dm = gaussianD(r, batch * frames * channels * order, 1);
        double[] mRef = LegendreConvolution.forward(ir, u, batch, frames, channels, lengths, LegendreConvolution.Method.AUTO);
        double[] duRef = LegendreConvolution.backward(ir, dm, batch, frames, channels, lengths, LegendreConvolution.Method.AUTO);
        int nm = batch * frames * channels * order, nu = batch * frames * channels;
        try (DeviceBuffer gu = dev.floats(u); DeviceBuffer gdm = dev.floats(dm); DeviceBuffer h = dev.floats(ir.response(hRows));
                DeviceBuffer len = dev.ints(lengths); DeviceBuffer gm = dev.empty(nm); DeviceBuffer gdu = dev.empty(nu)) {
            CudaLegendreConvolution.forward(dev.ctx(), gm.ptr(), gu.ptr(), h.ptr(), len.ptr(), batch, frames, channels, order, hRows,
                    method);
            CudaLegendreConvolution.backward(dev.ctx(), gdu.ptr(), gdm.ptr(), h.ptr(), len.ptr(), batch, frames, channels, order,
                    hRows, method);
            sink.compare("m", dev.download(gm, nm), mRef, frames);
            sink.compare("du", dev.download(gdu, nu), duRef, frames * order);
        }
    }

    /**
     * The FFT form through one {@link CudaLegendreConvolution.SpectrumCache} at two padded lengths
     * of the same FFT length (the spectrum computed once serves both), K = 1, B sequences of each.
     */
    private static void convCached(DeviceArrays dev, Random r, Sink sink, int batch, int[] frameCounts, int order) {
        int hRows = java.util.Arrays.stream(frameCounts).max().getAsInt();
        LegendreStateSpace ss = new LegendreStateSpace(order, Math.max(order, 8), Discretizer.ZOH);
        LegendreImpulseResponse ir = new LegendreImpulseResponse(ss, hRows);
        try (DeviceBuffer h = dev.floats(ir.response(hRows));
                CudaLegendreConvolution.SpectrumCache cache = new CudaLegendreConvolution.SpectrumCache(dev.ctx(), h.ptr(), order, hRows)) {
            for (int frames : frameCounts) {
                int[] lengths = new int[batch];
                for (int b = 0; b < batch; b++) lengths[b] = b == 0 ? frames : 1 + r.nextInt(frames);
                double[] u = gaussianD(r, batch * frames, 1);
                double[] dm = gaussianD(r, batch * frames * order, 1);
                double[] mRef = LegendreConvolution.forward(ir, u, batch, frames, 1, lengths, LegendreConvolution.Method.AUTO);
                double[] duRef = LegendreConvolution.backward(ir, dm, batch, frames, 1, lengths, LegendreConvolution.Method.AUTO);
                int nm = batch * frames * order, nu = batch * frames;
                try (DeviceBuffer gu = dev.floats(u); DeviceBuffer gdm = dev.floats(dm); DeviceBuffer len = dev.ints(lengths);
                        DeviceBuffer gm = dev.empty(nm); DeviceBuffer gdu = dev.empty(nu)) {
                    CudaLegendreConvolution.forward(dev.ctx(), cache, gm.ptr(), gu.ptr(), len.ptr(), batch, frames, 1,
                            CudaLegendreConvolution.Method.FFT);
                    CudaLegendreConvolution.backward(dev.ctx(), cache, gdu.ptr(), gdm.ptr(), len.ptr(), batch, frames, 1,
                            CudaLegendreConvolution.Method.FFT);
                    sink.compare("m T" + frames, dev.download(gm, nm), mRef, frames);
                    sink.compare("du T" + frames, dev.download(gdu, nu), duRef, frames * order);
                }
            }
            sink.compare("spectra cached", new float[] {cache.size()}, new double[] {1}, 1);
        }
    }

    // ---------------------------------------------------------------- attention

    private static void attention(DeviceArrays dev, Random r, Sink sink, int batch, int frames, int heads, int headDim, int[] lengths) {
        attention(dev, r, sink, batch, frames, heads, headDim, lengths, 0);
    }

    private static void attention(DeviceArrays dev, Random r, Sink sink, int batch, int frames, int heads, int headDim, int[] lengths,
            double p) {
        long seed = r.nextLong();
        int c = heads * headDim, n = batch * frames * c;
        double[] q = gaussianD(r, n, 1), k = gaussianD(r, n, 1), v = gaussianD(r, n, 1), dout = gaussianD(r, n, 1);
        double[][] want = attentionReference(q, k, v, dout, batch, frames, heads, headDim, lengths, p, seed);
        try (DeviceBuffer gq = dev.floats(q); DeviceBuffer gk = dev.floats(k); DeviceBuffer gv = dev.floats(v);
                DeviceBuffer gdo = dev.floats(dout); DeviceBuffer go = dev.empty(n);
                DeviceBuffer stats = dev.empty(2L * batch * heads * frames); DeviceBuffer dq = dev.empty(n);
                DeviceBuffer dk = dev.empty(n); DeviceBuffer dv = dev.empty(n);
                DeviceBuffer len = lengths == null ? null : dev.ints(lengths)) {
            float scale = CudaAttention.scale(headDim), mask = (float) MultiHeadAttention.MASK_VALUE;
            CudaAttention.forward(dev.ctx(), go.ptr(), stats.ptr(), gq.ptr(), gk.ptr(), gv.ptr(), ptr(len), batch, frames, heads,
                    headDim, scale, mask, p, seed);
            CudaAttention.backward(dev.ctx(), dq.ptr(), dk.ptr(), dv.ptr(), gdo.ptr(), gq.ptr(), gk.ptr(), gv.ptr(), go.ptr(),
                    stats.ptr(), ptr(len), batch, frames, heads, headDim, scale, mask, p, seed);
            int sums = frames * headDim;
            sink.compare("o", dev.download(go, n), want[0], sums);
            sink.compare("dq", dev.download(dq, n), want[1], sums);
            sink.compare("dk", dev.download(dk, n), want[2], sums);
            sink.compare("dv", dev.download(dv, n), want[3], sums);
        }
    }

    /**
     * The CPU module's attention core ({@link MultiHeadAttention#forwardComposed}'s ops: scale,
     * MatMul, MaskedFill with the mask value, softmax, Dropout with the seed, MatMul) in float64
     * with autograd, on inputs of shape (B, T, H·Dh).
     *
     * @param lengths valid keys per sequence, or null
     * @return {o, dq, dk, dv}, each (B, T, H·Dh) row-major, for the gradient {@code dout} of o
     */
    static double[][] attentionReference(double[] q, double[] k, double[] v, double[] dout, int batch, int frames, int heads,
            int headDim, int[] lengths, double p, long seed) {
        int c = heads * headDim;
        Tensor tq = Tensor.of(q.clone(), batch, frames, c).requiresGrad(true);
        Tensor tk = Tensor.of(k.clone(), batch, frames, c).requiresGrad(true);
        Tensor tv = Tensor.of(v.clone(), batch, frames, c).requiresGrad(true);
        Tensor qs = split(tq.mul(1 / Math.sqrt(headDim)), batch, frames, heads, headDim);
        Tensor scores = MatMul.apply(qs, split(tk, batch, frames, heads, headDim), false, true);
        if (lengths != null) {
            scores = MaskedFill.apply(scores.reshape(batch, heads, frames, frames), Masks.padding(lengths, frames),
                    new int[] {batch, 1, 1, frames}, MultiHeadAttention.MASK_VALUE).reshape(batch * heads, frames, frames);
        }
        Tensor weights = p > 0 ? Dropout.apply(scores.softmax(-1), p, seed) : scores.softmax(-1);
        Tensor o = MatMul.apply(weights, split(tv, batch, frames, heads, headDim), false, false)
                .reshape(batch, heads, frames, headDim).permute(0, 2, 1, 3).reshape(batch, frames, c);
        o.backward(Tensor.of(dout.clone(), batch, frames, c));
        return new double[][] {o.toDoubleArray(), tq.grad().toDoubleArray(), tk.grad().toDoubleArray(),
            tv.grad().toDoubleArray()};
    }

    /**
     * {@link CudaAttentionKernels} on a {@link CudaBackend} over the check's context against {@link
     * CpuAttentionKernels} on the same float32 inputs (float64 accumulation differences only);
     * {@code onlyQ}: backward asked for dq alone (dk and dv must come back null).
     */
    private static void attentionFamily(DeviceArrays dev, Random r, Sink sink, int batch, int frames, int heads, int headDim,
            int[] lengths, double p, boolean onlyQ) {
        long seed = r.nextLong();
        int c = heads * headDim, n = batch * frames * c;
        double scale = 1 / Math.sqrt(headDim), mask = MultiHeadAttention.MASK_VALUE;
        float[][] in = {gaussian(r, n, 1), gaussian(r, n, 1), gaussian(r, n, 1), gaussian(r, n, 1)};
        Tensor[] host = new Tensor[4];
        for (int i = 0; i < 4; i++) host[i] = Tensor.of(in[i], batch, frames, c);
        AttentionKernels cpu = CpuAttentionKernels.INSTANCE;
        AttentionKernels.Saved ref = cpu.forward(host[0], host[1], host[2], heads, scale, lengths, mask, p, seed);
        Tensor[] gRef = cpu.backward(host[3], host[0], host[1], host[2], ref, heads, scale, lengths, mask, p, seed, true, !onlyQ,
                !onlyQ);
        try (CudaBackend gpu = CudaBackend.on(dev.ctx())) {
            Tensor[] g = new Tensor[4];
            for (int i = 0; i < 4; i++) g[i] = gpu.toDevice(host[i]);
            AttentionKernels att = gpu.kernels(AttentionKernels.class);
            AttentionKernels.Saved saved = att.forward(g[0], g[1], g[2], heads, scale, lengths, mask, p, seed);
            Tensor[] grads = att.backward(g[3], g[0], g[1], g[2], saved, heads, scale, lengths, mask, p, seed, true, !onlyQ, !onlyQ);
            int sums = frames * headDim;
            sink.compare("o", gpu.toHost(saved.out()).f32(), ref.out().toDoubleArray(), sums);
            String[] names = {"dq", "dk", "dv"};
            for (int i = 0; i < 3; i++) {
                if ((grads[i] == null) != (gRef[i] == null)) {
                    throw new IllegalStateException("AttentionKernels: " + names[i] + " is " + (grads[i] == null ? "null" : "given")
                            + " on the GPU and " + (gRef[i] == null ? "null" : "given") + " on the CPU");
                }
                if (grads[i] != null) sink.compare(names[i], gpu.toHost(grads[i]).f32(), gRef[i].toDoubleArray(), sums);
            }
            if (lengths == null) return;
            // the device-lengths form (lengths as float32 on the device, seed from a device seed table)
            float[] table = new float[lmu.backend.SeedTable.FLOATS_PER_SEED];
            lmu.backend.SeedTable.encode(seed, table, 0);
            Tensor seeds = gpu.toDevice(Tensor.of(table, table.length)), dl = gpu.toDevice(floatsOf(lengths));
            AttentionKernels.Saved ds = att.forward(g[0], g[1], g[2], heads, scale, dl, mask, p, seeds, 0);
            Tensor[] dg = att.backward(g[3], g[0], g[1], g[2], ds, heads, scale, dl, mask, p, seeds, 0, true, !onlyQ, !onlyQ);
            sink.compare("device lengths o", gpu.toHost(ds.out()).f32(), ref.out().toDoubleArray(), sums);
            for (int i = 0; i < 3; i++) {
                if (dg[i] != null) sink.compare("device lengths " + names[i], gpu.toHost(dg[i]).f32(), gRef[i].toDoubleArray(), sums);
            }
        }
    }

    /**
     * The device-lengths forms of {@link CudaLmuKernels} (lengths as float32 on the device, converted
     * to int32 by a kernel) against {@link lmu.backend.cpu.CpuLmuKernels}' host forms: convolution
     * forward and backward (direct and FFT) and the recurrence forward and backward.
     */
    private static void lmuDeviceLengths(DeviceArrays dev, Random r, Sink sink) {
        int batch = 3, frames = 21, k = 2, hidden = 4, order = 5;
        int[] lengths = {21, 9, 0};
        lmu.nn.lmu.LegendreStateSpace ss = new lmu.nn.lmu.LegendreStateSpace(order, 8, lmu.nn.lmu.Discretizer.ZOH);
        lmu.nn.lmu.LegendreImpulseResponse ir = new lmu.nn.lmu.LegendreImpulseResponse(ss, 32);
        lmu.backend.LmuKernels cpu = lmu.backend.cpu.CpuLmuKernels.INSTANCE;
        Tensor u = Tensor.of(gaussian(r, batch * frames * k, 1), batch, frames, k);
        Tensor dm = Tensor.of(gaussian(r, batch * frames * k * order, 1), batch, frames, k * order);
        Tensor ax = Tensor.of(gaussian(r, batch * frames * hidden, 1), batch, frames, hidden);
        Tensor eh = Tensor.of(gaussian(r, hidden * k, 0.3), hidden, k), em = Tensor.of(gaussian(r, k * order * k, 0.3), k * order, k);
        Tensor wh = Tensor.of(gaussian(r, hidden * hidden, 0.3), hidden, hidden);
        Tensor wm = Tensor.of(gaussian(r, k * order * hidden, 0.3), k * order, hidden);
        Tensor dh = Tensor.of(gaussian(r, batch * frames * hidden, 1), batch, frames, hidden);
        lmu.nn.lmu.Activation f = lmu.nn.lmu.Activation.TANH;
        try (CudaBackend gpu = CudaBackend.on(dev.ctx())) {
            lmu.backend.LmuKernels g = gpu.kernels(lmu.backend.LmuKernels.class);
            Tensor dl = gpu.toDevice(floatsOf(lengths));
            Tensor gu = gpu.toDevice(u), gdm = gpu.toDevice(dm), gax = gpu.toDevice(ax), geh = gpu.toDevice(eh);
            Tensor gem = gpu.toDevice(em), gwh = gpu.toDevice(wh), gwm = gpu.toDevice(wm), gdh = gpu.toDevice(dh);
            for (lmu.nn.lmu.LegendreConvolution.Method m : new lmu.nn.lmu.LegendreConvolution.Method[] {
                    lmu.nn.lmu.LegendreConvolution.Method.DIRECT, lmu.nn.lmu.LegendreConvolution.Method.FFT}) {
                sink.compare("conv forward " + m, gpu.toHost(g.convolutionForward(ir, gu, dl, m)).f32(),
                        cpu.convolutionForward(ir, u, lengths, m).toDoubleArray(), frames);
                sink.compare("conv backward " + m, gpu.toHost(g.convolutionBackward(ir, gdm, dl, m)).f32(),
                        cpu.convolutionBackward(ir, dm, lengths, m).toDoubleArray(), frames * order);
            }
            Tensor[] hm = cpu.recurrentForward(ss, f, u, ax, eh, em, wh, wm, lengths);
            Tensor[] ghm = g.recurrentForward(ss, f, gu, gax, geh, gem, gwh, gwm, dl);
            sink.compare("recurrent h", gpu.toHost(ghm[0]).f32(), hm[0].toDoubleArray(), frames);
            sink.compare("recurrent m", gpu.toHost(ghm[1]).f32(), hm[1].toDoubleArray(), frames);
            Tensor[] back = cpu.recurrentBackward(ss, f, dh, hm[0], eh, em, wh, wm, lengths);
            Tensor[] gback = g.recurrentBackward(ss, f, gdh, ghm[0], geh, gem, gwh, gwm, dl);
            sink.compare("recurrent dz", gpu.toHost(gback[0]).f32(), back[0].toDoubleArray(), frames);
            sink.compare("recurrent du", gpu.toHost(gback[1]).f32(), back[1].toDoubleArray(), frames);
        }
    }

    /** {@link CudaCtcKernels} on a {@link CudaBackend} against {@link CpuCtcKernels}: losses, reduced loss, infeasible list, gradient. */
    private static void ctcFamily(DeviceArrays dev, Random r, Sink sink, CtcLoss.Layout layout, CtcLoss.Reduction red,
            boolean zeroInf) {
        int batch = 5, frames = 40, vocab = 11, maxLabels = 12;
        int[] inLens = {40, 25, 3, 0, 31};
        int[] tgtLens = {12, 7, 5, 0, 0};
        int[] targets = new int[batch * maxLabels];
        for (int i = 0; i < targets.length; i++) targets[i] = 1 + r.nextInt(vocab - 1);
        int[] shape = layout == CtcLoss.Layout.BATCH_MAJOR ? new int[] {batch, frames, vocab} : new int[] {frames, batch, vocab};
        Tensor x = Tensor.of(gaussian(r, batch * frames * vocab, 3), shape);
        CtcLoss loss = new CtcLoss(layout, red, zeroInf);
        CtcKernels.Result ref = CpuCtcKernels.INSTANCE.lossAndGradient(loss, x, inLens, targets, tgtLens, true);
        try (CudaBackend gpu = CudaBackend.on(dev.ctx())) {
            CtcKernels.Result got = gpu.kernels(CtcKernels.class).lossAndGradient(loss, gpu.toDevice(x), inLens, targets, tgtLens, true);
            if (!java.util.Arrays.equals(got.result().infeasible(), ref.result().infeasible())) {
                throw new IllegalStateException("CtcKernels: infeasible utterances " + java.util.Arrays.toString(got.result().infeasible())
                        + " on the GPU, " + java.util.Arrays.toString(ref.result().infeasible()) + " on the CPU");
            }
            sink.compare("losses", toFloat(got.result().losses()), ref.result().losses(), frames);
            if (red != CtcLoss.Reduction.NONE) {
                sink.compare("reduced loss", new float[] {(float) got.result().loss()}, new double[] {ref.result().loss()},
                        frames * batch);
            }
            sink.compare("dlogits", gpu.toHost(got.dLogits()).f32(), ref.dLogits().toDoubleArray(), frames);
            // the device form: lengths and labels read from float32 device tensors, the loss reduced on the device
            CtcKernels.DeviceResult dev2 = gpu.kernels(CtcKernels.class).lossAndGradient(loss, gpu.toDevice(x),
                    gpu.toDevice(floatsOf(inLens)), gpu.toDevice(floatsOf(targets)), gpu.toDevice(floatsOf(tgtLens)), true);
            sink.compare("device form loss", gpu.toHost(dev2.loss()).f32(), red == CtcLoss.Reduction.NONE
                    ? ref.result().losses() : new double[] {ref.result().loss()}, frames * batch);
            sink.compare("device form dlogits", gpu.toHost(dev2.dLogits()).f32(), ref.dLogits().toDoubleArray(), frames);
        }
    }

    /** Integers as an exact float32 tensor, shape (n). */
    private static Tensor floatsOf(int[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = v[i];
        return Tensor.of(f, v.length);
    }

    /** (B, T, H·Dh) → (B·H, T, Dh), as MultiHeadAttention splits heads. */
    private static Tensor split(Tensor t, int batch, int frames, int heads, int headDim) {
        return t.reshape(batch, frames, heads, headDim).permute(0, 2, 1, 3).reshape(batch * heads, frames, headDim);
    }
}
