package lmu.backend.cpu;

import lmu.backend.LmuKernelArguments;
import lmu.backend.LmuKernels;
import lmu.nn.lmu.Activation;
import lmu.nn.lmu.LegendreConvolution;
import lmu.nn.lmu.LegendreConvolution.Method;
import lmu.nn.lmu.LegendreImpulseResponse;
import lmu.nn.lmu.LegendreStateSpace;
import lmu.nn.lmu.LmuRecurrent;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.Tensor;

/**
 * {@link LmuKernels} on the CPU, the reference of every device's: the convolution is {@link
 * LegendreConvolution} (float64 tensors: in the method asked for, {@link Method#AUTO} choosing direct
 * or FFT per sequence length; float32 tensors: the float32 block-Toeplitz form with AUTO, and with
 * DIRECT or FFT that form in float64, rounded on the way out, as the CPU layer runs them), the
 * recurrence is
 * {@link LmuRecurrent#cellForward} / {@link LmuRecurrent#cellBackward} in float64 (float32 tensors
 * are converted on the way in and rounded on the way out).
 */
public final class CpuLmuKernels implements LmuKernels {
    public static final CpuLmuKernels INSTANCE = new CpuLmuKernels();

    private CpuLmuKernels() {}

    @Override
    public Tensor convolutionForward(LegendreImpulseResponse ir, Tensor u, int[] lengths, Method method) {
        int[] s = LmuKernelArguments.convolution("CpuLmuKernels.convolutionForward", ir, u, false, lengths);
        int batch = s[0], frames = s[1], channels = s[2], width = channels * ir.order();
        DType dtype = onCpu("convolutionForward", "u", u);
        if (method(method, "convolutionForward") == Method.AUTO && dtype == DType.F32) {
            return Tensor.of(LegendreConvolution.forwardFloat(ir, u.f32(), batch, frames, channels, lengths), batch, frames,
                    width);
        }
        return tensor(LegendreConvolution.forward(ir, doubles(u), batch, frames, channels, lengths, method), dtype, batch,
                frames, width);
    }

    @Override
    public Tensor convolutionBackward(LegendreImpulseResponse ir, Tensor dm, int[] lengths, Method method) {
        int[] s = LmuKernelArguments.convolution("CpuLmuKernels.convolutionBackward", ir, dm, true, lengths);
        int batch = s[0], frames = s[1], channels = s[2];
        DType dtype = onCpu("convolutionBackward", "dm", dm);
        if (method(method, "convolutionBackward") == Method.AUTO && dtype == DType.F32) {
            return Tensor.of(LegendreConvolution.backwardFloat(ir, dm.f32(), batch, frames, channels, lengths), batch,
                    frames, channels);
        }
        return tensor(LegendreConvolution.backward(ir, doubles(dm), batch, frames, channels, lengths, method), dtype, batch,
                frames, channels);
    }

    private static Method method(Method method, String op) {
        if (method == null) {
            throw new IllegalArgumentException("CpuLmuKernels." + op + ": method must be AUTO, DIRECT or FFT, got null");
        }
        return method;
    }

    @Override
    public Tensor[] recurrentForward(LegendreStateSpace ss, Activation f, Tensor ux, Tensor ax, Tensor eh, Tensor em,
            Tensor wh, Tensor wm, int[] lengths) {
        int[] s = LmuKernelArguments.recurrent("CpuLmuKernels.recurrentForward", ss, f, ux, ax, eh, em, wh, wm, lengths,
                false);
        int batch = s[0], frames = s[1], hidden = s[2], channels = s[3];
        DType dtype = onCpu("recurrentForward", "ux", ux);
        LmuRecurrent.Saved r = LmuRecurrent.cellForward(ss, f, doubles(ux), doubles(ax), doubles(eh), doubles(em),
                doubles(wh), doubles(wm), batch, frames, hidden, channels, lengths);
        Tensor[] out = new Tensor[2];
        out[FORWARD_H] = tensor(r.h(), dtype, batch, frames, hidden);
        out[FORWARD_M] = tensor(r.m(), dtype, batch, frames, channels * ss.order());
        return out;
    }

    @Override
    public Tensor[] recurrentBackward(LegendreStateSpace ss, Activation f, Tensor dh, Tensor h, Tensor eh, Tensor em,
            Tensor wh, Tensor wm, int[] lengths) {
        int[] s = LmuKernelArguments.recurrent("CpuLmuKernels.recurrentBackward", ss, f, dh, h, eh, em, wh, wm, lengths,
                true);
        int batch = s[0], frames = s[1], hidden = s[2], channels = s[3];
        DType dtype = onCpu("recurrentBackward", "dh", dh);
        LmuRecurrent.CellGradients g = LmuRecurrent.cellBackward(ss, f, doubles(dh), doubles(h), doubles(eh), doubles(em),
                doubles(wh), doubles(wm), batch, frames, hidden, channels, lengths);
        Tensor[] out = new Tensor[2];
        out[BACKWARD_DZ] = tensor(g.dz(), dtype, batch, frames, hidden);
        out[BACKWARD_DU] = tensor(g.du(), dtype, batch, frames, channels);
        return out;
    }

    /** t's dtype, after checking that it is an F32 or F64 CPU tensor. */
    private static DType onCpu(String method, String name, Tensor t) {
        if (!t.device().equals(Device.CPU) || t.dtype() != DType.F32 && t.dtype() != DType.F64) {
            throw new IllegalArgumentException("CpuLmuKernels." + method + ": " + name + " must be an F32 or F64 tensor on "
                    + "the cpu, got " + t.dtype() + " on " + t.device());
        }
        return t.dtype();
    }

    /** The float64 backing array of an F64 tensor (shared), a float64 copy of any other; null stays null. */
    private static double[] doubles(Tensor t) {
        if (t == null) return null;
        return t.dtype() == DType.F64 ? t.f64() : t.toDoubleArray();
    }

    private static Tensor tensor(double[] data, DType dtype, int... shape) {
        if (dtype == DType.F64) return Tensor.of(data, shape);
        float[] f = new float[data.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) data[i];
        return Tensor.of(f, shape);
    }
}
