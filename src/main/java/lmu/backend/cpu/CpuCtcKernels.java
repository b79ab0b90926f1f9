package lmu.backend.cpu;

import lmu.backend.CtcKernels;
import lmu.speech.ctc.CtcLoss;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.Tensor;

/** {@link CtcKernels} on the CPU: {@link CtcLoss} on host F32 or F64 logits, one fused pass for loss and gradient. */
public final class CpuCtcKernels implements CtcKernels {
    public static final CpuCtcKernels INSTANCE = new CpuCtcKernels();

    private CpuCtcKernels() {}

    @Override
    public Result lossAndGradient(CtcLoss loss, Tensor x, int[] inputLengths, int[] targets, int[] targetLengths,
            boolean gradient) {
        if (x.device().kind() != Device.Kind.CPU) {
            throw new IllegalArgumentException("CpuCtcKernels: logits must be on the CPU, got " + x.device());
        }
        int[] shape = x.shape();
        CtcLoss.Result r;
        Tensor dx = null;
        if (x.dtype() == DType.F32) {
            float[] d = gradient ? new float[x.numel()] : null;
            r = gradient ? loss.forwardBackward(x.f32(), shape, inputLengths, targets, targetLengths, d, null)
                    : loss.forward(x.f32(), shape, inputLengths, targets, targetLengths);
            if (gradient) dx = Tensor.of(d, shape);
        } else if (x.dtype() == DType.F64) {
            double[] d = gradient ? new double[x.numel()] : null;
            r = gradient ? loss.forwardBackward(x.f64(), shape, inputLengths, targets, targetLengths, d, null)
                    : loss.forward(x.f64(), shape, inputLengths, targets, targetLengths);
            if (gradient) dx = Tensor.of(d, shape);
        } else {
            throw new IllegalArgumentException("CtcLoss: logits must be F32 or F64, got " + x.dtype()
                    + " (convert with Tensor.to(DType.F32))");
        }
        return new Result(r, dx);
    }
}
