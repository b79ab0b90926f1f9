package lmu.backend.cuda.kernels;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.function.Supplier;
import jcuda.driver.CUdeviceptr;
import lmu.backend.LmuKernelArguments;
import lmu.backend.LmuKernels;
import lmu.backend.cuda.CudaBackend;
import lmu.backend.cuda.CudaStorage;
import lmu.backend.cuda.DeviceBuffer;
import lmu.nn.lmu.Activation;
import lmu.nn.lmu.LegendreImpulseResponse;
import lmu.nn.lmu.LegendreStateSpace;
import lmu.tensor.DType;
import lmu.tensor.Tensor;

/**
 * {@link LmuKernels} on one {@link CudaBackend}: the convolution is {@link CudaLegendreConvolution}
 * ({@code kernels/lmu_conv.cu}), the recurrence {@link CudaLmuRecurrent} ({@code
 * kernels/lmu_recurrent.cu}), both fp32 and asynchronous on the backend's stream.
 *
 * <p>The system of a layer is uploaded once and kept on the device: the impulse response H
 * (maxLength rows, shape (maxLength, d)) per {@link LegendreImpulseResponse} instance, and Āᵀ, Ā
 * (d, d) and B̄ (d) per {@link LegendreStateSpace} instance, held in a cache with weak keys (a
 * layer that is dropped frees its copies with its tensors). Sequence lengths go to the device as
 * int32 with every call ({@link CudaBackend#uploadInts}: B values, ordered on the stream like the
 * launch, freed in stream order after it).
 */
public final class CudaLmuKernels implements LmuKernels {
    /** Device copies by system object (identity, weak) and backend. */
    private static final Map<Object, Map<CudaBackend, Tensor[]>> CONSTANTS =
            Collections.synchronizedMap(new WeakHashMap<>());

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
    public Tensor convolutionForward(LegendreImpulseResponse ir, Tensor u, int[] lengths) {
        String op = "CudaLmuKernels.convolutionForward";
        int[] s = LmuKernelArguments.convolution(op, ir, u, false, lengths);
        int batch = s[0], frames = s[1], channels = s[2], d = ir.order();
        ptr(op, "u", u);
        Tensor h = response(ir);
        Tensor m = backend.empty(DType.F32, batch, frames, channels * d);
        try (DeviceBuffer len = backend.uploadInts(lengths)) {
            CudaLegendreConvolution.forward(backend.context(), ptr(op, "m", m), ptr(op, "u", u), ptr(op, "H", h), len.ptr(),
                    batch, frames, channels, d, ir.maxLength());
        } // freed in stream order
        return m;
    }

    @Override
    public Tensor convolutionBackward(LegendreImpulseResponse ir, Tensor dm, int[] lengths) {
        String op = "CudaLmuKernels.convolutionBackward";
        int[] s = LmuKernelArguments.convolution(op, ir, dm, true, lengths);
        int batch = s[0], frames = s[1], channels = s[2], d = ir.order();
        ptr(op, "dm", dm);
        Tensor h = response(ir);
        Tensor du = backend.empty(DType.F32, batch, frames, channels);
        try (DeviceBuffer len = backend.uploadInts(lengths)) {
            CudaLegendreConvolution.backward(backend.context(), ptr(op, "du", du), ptr(op, "dm", dm), ptr(op, "H", h),
                    len.ptr(), batch, frames, channels, d, ir.maxLength());
        }
        return du;
    }

    @Override
    public Tensor[] recurrentForward(LegendreStateSpace ss, Activation f, Tensor ux, Tensor ax, Tensor eh, Tensor em,
            Tensor wh, Tensor wm, int[] lengths) {
        String op = "CudaLmuKernels.recurrentForward";
        int[] s = LmuKernelArguments.recurrent(op, ss, f, ux, ax, eh, em, wh, wm, lengths, false);
        int batch = s[0], frames = s[1], hidden = s[2], channels = s[3];
        CudaLmuRecurrent.Shape shape = new CudaLmuRecurrent.Shape(hidden, channels, ss.order(), f);
        ptr(op, "ux", ux);
        Tensor[] sys = system(ss);
        Tensor[] out = new Tensor[2];
        out[FORWARD_H] = backend.empty(DType.F32, batch, frames, hidden);
        out[FORWARD_M] = backend.empty(DType.F32, batch, frames, channels * ss.order());
        try (DeviceBuffer len = backend.uploadInts(lengths)) {
            CudaLmuRecurrent.forward(backend.context(), ptr(op, "h", out[FORWARD_H]), ptr(op, "m", out[FORWARD_M]),
                    ptr(op, "ux", ux), ptr(op, "ax", ax), ptr(op, "Abar^T", sys[0]), ptr(op, "Bbar", sys[2]),
                    ptrOrNull(op, "eh", eh), ptrOrNull(op, "em", em), ptrOrNull(op, "wh", wh), ptr(op, "wm", wm), len.ptr(),
                    batch, frames, shape);
        }
        return out;
    }

    @Override
    public Tensor[] recurrentBackward(LegendreStateSpace ss, Activation f, Tensor dh, Tensor h, Tensor eh, Tensor em,
            Tensor wh, Tensor wm, int[] lengths) {
        String op = "CudaLmuKernels.recurrentBackward";
        int[] s = LmuKernelArguments.recurrent(op, ss, f, dh, h, eh, em, wh, wm, lengths, true);
        int batch = s[0], frames = s[1], hidden = s[2], channels = s[3];
        CudaLmuRecurrent.Shape shape = new CudaLmuRecurrent.Shape(hidden, channels, ss.order(), f);
        ptr(op, "dh", dh);
        Tensor[] sys = system(ss);
        Tensor[] out = new Tensor[2];
        out[BACKWARD_DZ] = backend.empty(DType.F32, batch, frames, hidden);
        out[BACKWARD_DU] = backend.empty(DType.F32, batch, frames, channels);
        try (DeviceBuffer len = backend.uploadInts(lengths)) {
            CudaLmuRecurrent.backward(backend.context(), ptr(op, "dz", out[BACKWARD_DZ]), ptr(op, "du", out[BACKWARD_DU]),
                    ptr(op, "dh", dh), ptr(op, "h", h), ptr(op, "Abar", sys[1]), ptr(op, "Bbar", sys[2]),
                    ptrOrNull(op, "eh", eh), ptrOrNull(op, "em", em), ptrOrNull(op, "wh", wh), ptr(op, "wm", wm), len.ptr(),
                    batch, frames, shape);
        }
        return out;
    }

    /** H of the layer, shape (maxLength, d), on this device (uploaded on first use). */
    private Tensor response(LegendreImpulseResponse ir) {
        return constants(ir, () -> new Tensor[] {backend.fromHost(floats(ir.response(ir.maxLength())), ir.maxLength(),
                ir.order())})[0];
    }

    /** {Āᵀ (d, d), Ā (d, d), B̄ (d)} of the system on this device (uploaded on first use). */
    private Tensor[] system(LegendreStateSpace ss) {
        return constants(ss, () -> {
            int d = ss.order();
            double[] a = ss.aBar();
            double[] at = new double[d * d];
            for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) at[j * d + i] = a[i * d + j];
            return new Tensor[] {backend.fromHost(floats(at), d, d), backend.fromHost(floats(a), d, d),
                    backend.fromHost(floats(ss.bBar()), d)};
        });
    }

    private Tensor[] constants(Object key, Supplier<Tensor[]> upload) {
        synchronized (CONSTANTS) {
            Map<CudaBackend, Tensor[]> byBackend = CONSTANTS.computeIfAbsent(key, k -> new IdentityHashMap<>());
            return byBackend.computeIfAbsent(backend, b -> upload.get());
        }
    }

    private static float[] floats(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
        return f;
    }

    private CUdeviceptr ptr(String op, String name, Tensor t) {
        if (t == null) throw new IllegalArgumentException(op + ": " + name + " must not be null");
        if (!(t.storage() instanceof CudaStorage s) || s.backend() != backend) {
            throw new IllegalArgumentException(op + ": " + name + " must be an f32 tensor on " + backend.device()
                    + " of this backend, got " + t.dtype() + " on " + t.device());
        }
        return s.ptr();
    }

    private CUdeviceptr ptrOrNull(String op, String name, Tensor t) {
        return t == null ? null : ptr(op, name, t);
    }
}
