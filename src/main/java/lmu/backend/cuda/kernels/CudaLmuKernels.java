package lmu.backend.cuda.kernels;

import java.lang.ref.Reference;
import jcuda.driver.CUdeviceptr;
import lmu.backend.DeviceLengths;
import lmu.backend.LmuKernelArguments;
import lmu.backend.LmuKernels;
import lmu.backend.cuda.CudaBackend;
import lmu.backend.cuda.CudaStorage;
import lmu.backend.cuda.DeviceBuffer;
import lmu.nn.lmu.Activation;
import lmu.nn.lmu.LegendreConvolution.Method;
import lmu.nn.lmu.LegendreImpulseResponse;
import lmu.nn.lmu.LegendreStateSpace;
import lmu.tensor.DType;
import lmu.tensor.Tensor;

/**
 * {@link LmuKernels} on one {@link CudaBackend}: the convolution is {@link CudaLegendreConvolution}
 * ({@code kernels/lmu_conv.cu}), the recurrence {@link CudaLmuRecurrent} ({@code
 * kernels/lmu_recurrent.cu}), both fp32 and asynchronous on the backend's stream. The convolution
 * runs in the form the layer asks for ({@link #cudaMethod}): AUTO takes the FFT form from {@link
 * CudaLegendreConvolution#FFT_MIN_FRAMES} to {@link CudaLegendreConvolution#FFT_MAX_FRAMES} frames;
 * a forced FFT takes at most FFT_MAX_FRAMES.
 *
 * <p>The system of a layer is uploaded once and kept on the device: the impulse response H
 * (maxLength rows, shape (maxLength, d)) with its {@link CudaLegendreConvolution.SpectrumCache} (the
 * FFT form's spectra of H, computed once per FFT length) per {@link LegendreImpulseResponse}
 * instance, and Āᵀ, Ā (d, d) and B̄ (d) per {@link LegendreStateSpace} instance, held in caches with
 * weak keys ({@link DeviceConstants}): a layer that is dropped frees its copies, H and the spectra
 * through {@link CudaBackend#releaseLater} on the backend's thread. Sequence lengths go to the device as
 * int32 with every call ({@link CudaBackend#uploadInts}: B values, ordered on the stream like the
 * launch, freed in stream order after it).
 */
public final class CudaLmuKernels implements LmuKernels {
    /** H and its spectra by impulse response (identity, weak) and backend; released on the backend's thread once dropped. */
    private static final DeviceConstants<CudaBackend, Response> RESPONSES =
            new DeviceConstants<>((backend, r) -> backend.releaseLater(r::release));
    /** Āᵀ, Ā, B̄ by state space (identity, weak) and backend; tensors, freed by their own cleaners once dropped. */
    private static final DeviceConstants<CudaBackend, Tensor[]> SYSTEMS = new DeviceConstants<>(null);

    /**
     * A layer's impulse response on one device: H, shape (maxLength, d), and the cache of its FFT
     * spectra (one per FFT length the layer meets, computed once each).
     */
    private record Response(Tensor h, CudaLegendreConvolution.SpectrumCache spectra) {
        /** Frees the spectra and H (on the backend's thread, after the launches that read them were enqueued). */
        void release() {
            spectra.close();
            ((CudaStorage) h.storage()).release();
        }
    }

    private final CudaBackend backend;

    /**
     * @param backend the device these kernels run on
     * @throws IllegalArgumentException if backend is null
     */
    public CudaLmuKernels(CudaBackend backend) {
        if (backend == null) throw new IllegalArgumentException("CudaLmuKernels: backend must not be null");
        this.backend = backend;
    }

    @Override
    public Tensor convolutionForward(LegendreImpulseResponse ir, Tensor u, int[] lengths, Method method) {
        String op = "CudaLmuKernels.convolutionForward";
        int[] s = LmuKernelArguments.convolution(op, ir, u, false, lengths);
        return withLengths(lengths, len -> convolution(op, ir, u, s, method, false, len));
    }

    /**
     * The device form: the float32 lengths are converted to int32 scratch on the stream ({@link
     * CudaCtcLoss#intsFromFloats}) and the kernel reads them there; nothing is read on the host.
     * T must not exceed {@code ir.maxLength()} (every length up to T must fit H's rows).
     */
    @Override
    public Tensor convolutionForward(LegendreImpulseResponse ir, Tensor u, Tensor lengths, Method method) {
        String op = "CudaLmuKernels.convolutionForward";
        int[] s = LmuKernelArguments.convolution(op, ir, u, false, new int[batchOf(u)]);
        maxFrames(op, ir, s[1]);
        return withLengths(op, lengths, s[0], len -> convolution(op, ir, u, s, method, false, len));
    }

    @Override
    public Tensor convolutionBackward(LegendreImpulseResponse ir, Tensor dm, int[] lengths, Method method) {
        String op = "CudaLmuKernels.convolutionBackward";
        int[] s = LmuKernelArguments.convolution(op, ir, dm, true, lengths);
        return withLengths(lengths, len -> convolution(op, ir, dm, s, method, true, len));
    }

    /** The device form of the backward (see {@link #convolutionForward(LegendreImpulseResponse, Tensor, Tensor, Method)}). */
    @Override
    public Tensor convolutionBackward(LegendreImpulseResponse ir, Tensor dm, Tensor lengths, Method method) {
        String op = "CudaLmuKernels.convolutionBackward";
        int[] s = LmuKernelArguments.convolution(op, ir, dm, true, new int[batchOf(dm)]);
        maxFrames(op, ir, s[1]);
        return withLengths(op, lengths, s[0], len -> convolution(op, ir, dm, s, method, true, len));
    }

    @Override
    public Tensor[] recurrentForward(LegendreStateSpace ss, Activation f, Tensor ux, Tensor ax, Tensor eh, Tensor em,
            Tensor wh, Tensor wm, int[] lengths) {
        String op = "CudaLmuKernels.recurrentForward";
        int[] s = LmuKernelArguments.recurrent(op, ss, f, ux, ax, eh, em, wh, wm, lengths, false);
        return withLengths(lengths, len -> recurrent(op, ss, f, ux, ax, eh, em, wh, wm, s, false, len));
    }

    /**
     * The device form of the recurrence: lengths converted to int32 scratch on the stream as in
     * {@link #convolutionForward(LegendreImpulseResponse, Tensor, Tensor, Method)}.
     */
    @Override
    public Tensor[] recurrentForward(LegendreStateSpace ss, Activation f, Tensor ux, Tensor ax, Tensor eh, Tensor em,
            Tensor wh, Tensor wm, Tensor lengths) {
        String op = "CudaLmuKernels.recurrentForward";
        int[] s = LmuKernelArguments.recurrent(op, ss, f, ux, ax, eh, em, wh, wm, new int[batchOf(ux)], false);
        return withLengths(op, lengths, s[0], len -> recurrent(op, ss, f, ux, ax, eh, em, wh, wm, s, false, len));
    }

    @Override
    public Tensor[] recurrentBackward(LegendreStateSpace ss, Activation f, Tensor dh, Tensor h, Tensor eh, Tensor em,
            Tensor wh, Tensor wm, int[] lengths) {
        String op = "CudaLmuKernels.recurrentBackward";
        int[] s = LmuKernelArguments.recurrent(op, ss, f, dh, h, eh, em, wh, wm, lengths, true);
        return withLengths(lengths, len -> recurrent(op, ss, f, dh, h, eh, em, wh, wm, s, true, len));
    }

    /** The device form of the recurrence's backward (see the forward of that form). */
    @Override
    public Tensor[] recurrentBackward(LegendreStateSpace ss, Activation f, Tensor dh, Tensor h, Tensor eh, Tensor em,
            Tensor wh, Tensor wm, Tensor lengths) {
        String op = "CudaLmuKernels.recurrentBackward";
        int[] s = LmuKernelArguments.recurrent(op, ss, f, dh, h, eh, em, wh, wm, new int[batchOf(dh)], true);
        return withLengths(op, lengths, s[0], len -> recurrent(op, ss, f, dh, h, eh, em, wh, wm, s, true, len));
    }

    /**
     * One convolution launch: forward (m from {@code in} = u) or backward (du from {@code in} = dm),
     * s = {B, T, K} as {@link LmuKernelArguments#convolution} returned them, lengths at {@code len}.
     */
    private Tensor convolution(String op, LegendreImpulseResponse ir, Tensor in, int[] s, Method method, boolean backward,
            CUdeviceptr len) {
        int batch = s[0], frames = s[1], channels = s[2];
        CudaLegendreConvolution.Method form = form(op, method, frames);
        CUdeviceptr x = ptr(op, backward ? "dm" : "u", in);
        Response r = response(ir);
        if (backward) {
            Tensor du = backend.empty(DType.F32, batch, frames, channels);
            CudaLegendreConvolution.backward(backend.context(), r.spectra(), ptr(op, "du", du), x, len, batch, frames, channels,
                    form);
            return du;
        }
        Tensor m = backend.empty(DType.F32, batch, frames, channels * ir.order());
        CudaLegendreConvolution.forward(backend.context(), r.spectra(), ptr(op, "m", m), x, len, batch, frames, channels, form);
        return m;
    }

    /**
     * One recurrence launch: forward (h, m from a = ux, b = ax) or backward (dz, du from a = dh,
     * b = h), s = {B, T, H, K} as {@link LmuKernelArguments#recurrent} returned them.
     */
    private Tensor[] recurrent(String op, LegendreStateSpace ss, Activation f, Tensor a, Tensor b, Tensor eh, Tensor em,
            Tensor wh, Tensor wm, int[] s, boolean backward, CUdeviceptr len) {
        int batch = s[0], frames = s[1], hidden = s[2], channels = s[3];
        CudaLmuRecurrent.Shape shape = new CudaLmuRecurrent.Shape(hidden, channels, ss.order(), f);
        CUdeviceptr pa = ptr(op, backward ? "dh" : "ux", a), pb = ptr(op, backward ? "h" : "ax", b);
        Tensor[] sys = system(ss);
        Tensor[] out = new Tensor[2];
        if (backward) {
            out[BACKWARD_DZ] = backend.empty(DType.F32, batch, frames, hidden);
            out[BACKWARD_DU] = backend.empty(DType.F32, batch, frames, channels);
            CudaLmuRecurrent.backward(backend.context(), ptr(op, "dz", out[BACKWARD_DZ]), ptr(op, "du", out[BACKWARD_DU]),
                    pa, pb, ptr(op, "Abar", sys[1]), ptr(op, "Bbar", sys[2]), ptrOrNull(op, "eh", eh), ptrOrNull(op, "em", em),
                    ptrOrNull(op, "wh", wh), ptr(op, "wm", wm), len, batch, frames, shape);
        } else {
            out[FORWARD_H] = backend.empty(DType.F32, batch, frames, hidden);
            out[FORWARD_M] = backend.empty(DType.F32, batch, frames, channels * ss.order());
            CudaLmuRecurrent.forward(backend.context(), ptr(op, "h", out[FORWARD_H]), ptr(op, "m", out[FORWARD_M]),
                    pa, pb, ptr(op, "Abar^T", sys[0]), ptr(op, "Bbar", sys[2]), ptrOrNull(op, "eh", eh), ptrOrNull(op, "em", em),
                    ptrOrNull(op, "wh", wh), ptr(op, "wm", wm), len, batch, frames, shape);
        }
        return out;
    }

    /** A launch that reads int32 lengths at a device address. */
    private interface WithLengths<T> {
        T launch(CUdeviceptr lengths);
    }

    /** Runs {@code use} with host lengths uploaded for it (the upload is freed in stream order after the launch). */
    private <T> T withLengths(int[] lengths, WithLengths<T> use) {
        try (DeviceBuffer len = backend.uploadInts(lengths)) {
            return use.launch(len.ptr());
        }
    }

    /** Runs {@code use} with a device lengths tensor converted to int32 scratch, kept alive until the launch is enqueued. */
    private <T> T withLengths(String op, Tensor lengths, int batch, WithLengths<T> use) {
        Tensor scratch = ints(op, lengths, batch);
        try {
            return use.launch(((CudaStorage) scratch.storage()).ptr());
        } finally {
            Reference.reachabilityFence(scratch); // its cleaner frees it in stream order afterwards
        }
    }

    /** B of a (B, T, …) tensor, 0 for any other rank (the argument check then names the shape). */
    private static int batchOf(Tensor t) {
        return t.shape().length == 3 ? t.dim(0) : 0;
    }

    /** Refuses T above the impulse response's rows (the device form cannot check lengths against them). */
    private static void maxFrames(String op, LegendreImpulseResponse ir, int frames) {
        if (frames > ir.maxLength()) {
            throw new IllegalArgumentException(op + ": with device lengths T must be <= the impulse response's maxLength "
                    + ir.maxLength() + ", got T = " + frames);
        }
    }

    /**
     * int32 copies of a float32 lengths tensor (shape (B)) in scratch on this device, converted by a
     * kernel on the stream; the caller keeps the tensor reachable until its launch is enqueued, after
     * which its cleaner frees it in stream order.
     */
    private Tensor ints(String op, Tensor lengths, int batch) {
        DeviceLengths.check(op, lengths, batch);
        CUdeviceptr pl = ptr(op, "lengths", lengths);
        Tensor scratch = backend.empty(DType.F32, Math.max(batch, 1));
        CUdeviceptr out = ((CudaStorage) scratch.storage()).ptr();
        CudaCtcLoss.intsFromFloats(backend.context(), out, pl, batch);
        return scratch;
    }

    /**
     * The CUDA form of a layer's convolution method: AUTO, DIRECT and FFT map to the same-named
     * {@link CudaLegendreConvolution.Method} (AUTO chooses by T with the device's own crossover,
     * {@link CudaLegendreConvolution#FFT_MIN_FRAMES}).
     *
     * @throws IllegalArgumentException if method is null
     */
    static CudaLegendreConvolution.Method cudaMethod(Method method) {
        if (method == null) throw new IllegalArgumentException("CudaLmuKernels: method must be AUTO, DIRECT or FFT, got null");
        return switch (method) {
            case AUTO -> CudaLegendreConvolution.Method.AUTO;
            case DIRECT -> CudaLegendreConvolution.Method.DIRECT;
            case FFT -> CudaLegendreConvolution.Method.FFT;
        };
    }

    /** The CUDA form for T frames, refused before any allocation when forced FFT cannot take T. */
    private static CudaLegendreConvolution.Method form(String op, Method method, int frames) {
        CudaLegendreConvolution.Method form = cudaMethod(method);
        if (form == CudaLegendreConvolution.Method.FFT && frames > CudaLegendreConvolution.FFT_MAX_FRAMES) {
            throw new IllegalArgumentException(op + ": method FFT takes T <= " + CudaLegendreConvolution.FFT_MAX_FRAMES
                    + " frames on a GPU, got T = " + frames + " (use AUTO or DIRECT)");
        }
        return form;
    }

    /** H of the layer, shape (maxLength, d), and its spectrum cache on this device (uploaded on first use). */
    private Response response(LegendreImpulseResponse ir) {
        int rows = ir.maxLength(), d = ir.order();
        return RESPONSES.get(ir, backend, () -> {
            Tensor h = backend.fromHost(floats(ir.response(rows)), rows, d);
            return new Response(h, new CudaLegendreConvolution.SpectrumCache(backend.context(), ((CudaStorage) h.storage()).ptr(),
                    d, rows));
        });
    }

    /** {Āᵀ (d, d), Ā (d, d), B̄ (d)} of the system on this device (uploaded on first use). */
    private Tensor[] system(LegendreStateSpace ss) {
        return SYSTEMS.get(ss, backend, () -> {
            int d = ss.order();
            double[] a = ss.aBar();
            double[] at = new double[d * d];
            for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) at[j * d + i] = a[i * d + j];
            return new Tensor[] {backend.fromHost(floats(at), d, d), backend.fromHost(floats(a), d, d),
                    backend.fromHost(floats(ss.bBar()), d)};
        });
    }

    private static float[] floats(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
        return f;
    }

    /** The pointer of an f32 tensor of this backend ({@link DeviceTensors#f32}: other dtypes are refused). */
    private CUdeviceptr ptr(String op, String name, Tensor t) {
        return DeviceTensors.f32(backend, op, name, t);
    }

    private CUdeviceptr ptrOrNull(String op, String name, Tensor t) {
        return t == null ? null : ptr(op, name, t);
    }
}
