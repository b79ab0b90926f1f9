package lmu.backend.cuda.kernels;

import jcuda.driver.CUdeviceptr;
import lmu.backend.CtcKernels;
import lmu.backend.cuda.CudaBackend;
import lmu.backend.cuda.CudaStorage;
import lmu.backend.cuda.DeviceBuffer;
import lmu.speech.ctc.CtcLoss;
import lmu.tensor.DType;
import lmu.tensor.Tensor;

/**
 * {@link CtcKernels} on one GPU: {@link CudaCtcLoss}'s kernels (log-softmax fused, raw logits in,
 * gradient of the logits out) on f32 tensors of a {@link CudaBackend}, either layout. Arguments are
 * checked on the host by {@link CtcLoss#check} before any launch; lengths and labels are copied to
 * the device per call. The B per-utterance losses are copied back (the call waits for them; while a
 * CUDA graph is being captured they are not, and the losses reported are NaN); the
 * infeasible utterances, the reduction and its warning come from {@link CtcLoss#resultOf}, exactly
 * as on the CPU. The gradient (upstream gradient 1, the reduction's per-utterance scale) stays on the
 * device.
 */
public final class CudaCtcKernels implements CtcKernels {
    private final CudaBackend backend;

    public CudaCtcKernels(CudaBackend backend) {
        this.backend = backend;
    }

    @Override
    public Result lossAndGradient(CtcLoss loss, Tensor logits, int[] inputLengths, int[] targets, int[] targetLengths,
            boolean gradient) {
        CUdeviceptr px = DeviceTensors.f32(backend, "CudaCtcKernels.lossAndGradient", "logits", logits);
        int[] shape = logits.shape();
        loss.check(shape, inputLengths, targets, targetLengths);
        boolean batchMajor = loss.layout() == CtcLoss.Layout.BATCH_MAJOR;
        int batch = batchMajor ? shape[0] : shape[1], frames = batchMajor ? shape[1] : shape[0], vocab = shape[2];
        int maxLabels = targets.length / batch;
        Tensor losses = backend.empty(DType.F32, batch);
        Tensor dx = gradient ? backend.empty(DType.F32, shape) : null;
        try (DeviceBuffer il = backend.uploadInts(inputLengths); DeviceBuffer tg = backend.uploadInts(targets);
                DeviceBuffer tl = backend.uploadInts(targetLengths);
                CudaCtcLoss.Workspace ws = CudaCtcLoss.workspace(backend.context(), batch, frames, maxLabels)) {
            CudaCtcLoss.forward(backend.context(), ws, ptr(losses), px, loss.layout(), batch, frames, vocab, il.ptr(),
                    tg.ptr(), maxLabels, tl.ptr(), loss.zeroInfinity());
            if (gradient) {
                CudaCtcLoss.backward(backend.context(), ws, ptr(dx), px, loss.layout(), batch, frames, vocab, il.ptr(),
                        tg.ptr(), maxLabels, tl.ptr(), ptr(losses), null, loss.reduction(), loss.zeroInfinity());
            }
        } // scratch freed in stream order
        double[] perUtterance = new double[batch];
        if (backend.capturing()) { // a CUDA graph being captured: no host read; the gradient is computed on the device
            java.util.Arrays.fill(perUtterance, Double.NaN);
        } else {
            float[] host = backend.toHost(losses).f32();
            for (int b = 0; b < batch; b++) perUtterance[b] = host[b];
        }
        return new Result(loss.resultOf(perUtterance, inputLengths, targets, targetLengths), dx);
    }

    /**
     * The device form: the lengths and labels (float32 tensors of this device) are converted to
     * int32 scratch by a kernel, the CTC kernels read them there, and the reduction runs on the
     * device ({@code ctc_loss_reduce_kernel}); nothing is read on the host, so the call can be
     * captured in a CUDA graph and replayed with new lengths and labels.
     */
    @Override
    public DeviceResult lossAndGradient(CtcLoss loss, Tensor logits, Tensor inputLengths, Tensor targets,
            Tensor targetLengths, boolean gradient) {
        String op = "CudaCtcKernels.lossAndGradient";
        CUdeviceptr px = DeviceTensors.f32(backend, op, "logits", logits);
        int[] shape = logits.shape();
        if (shape.length != 3) {
            throw new IllegalArgumentException("CtcLoss: logits must have shape " + loss.layout().shape() + ", got "
                    + java.util.Arrays.toString(shape));
        }
        boolean batchMajor = loss.layout() == CtcLoss.Layout.BATCH_MAJOR;
        int batch = batchMajor ? shape[0] : shape[1], frames = batchMajor ? shape[1] : shape[0], vocab = shape[2];
        CUdeviceptr pil = DeviceTensors.f32(backend, op, "inputLengths", inputLengths);
        CUdeviceptr ptg = DeviceTensors.f32(backend, op, "targets", targets);
        CUdeviceptr ptl = DeviceTensors.f32(backend, op, "targetLengths", targetLengths);
        if (batch == 0 || inputLengths.numel() != batch || targetLengths.numel() != batch || targets.numel() % batch != 0) {
            throw new IllegalArgumentException("CtcLoss: expected inputLengths (B), targets (B, L), targetLengths (B) with B = "
                    + batch + ", got sizes " + inputLengths.numel() + ", " + targets.numel() + ", " + targetLengths.numel());
        }
        int maxLabels = targets.numel() / batch;
        // int32 copies of the three arrays, in one scratch tensor: [inputLengths | targetLengths | targets]
        Tensor ints = backend.empty(DType.F32, 2 * batch + batch * maxLabels);
        CUdeviceptr il = ptr(ints), tl = il.withByteOffset(4L * batch), tg = il.withByteOffset(8L * batch);
        CudaCtcLoss.intsFromFloats(backend.context(), il, pil, batch);
        CudaCtcLoss.intsFromFloats(backend.context(), tl, ptl, batch);
        CudaCtcLoss.intsFromFloats(backend.context(), tg, ptg, batch * maxLabels);
        Tensor losses = backend.empty(DType.F32, batch);
        Tensor dx = gradient ? backend.empty(DType.F32, shape) : null;
        try (CudaCtcLoss.Workspace ws = CudaCtcLoss.workspace(backend.context(), batch, frames, maxLabels)) {
            CudaCtcLoss.forward(backend.context(), ws, ptr(losses), px, loss.layout(), batch, frames, vocab, il, tg,
                    maxLabels, tl, loss.zeroInfinity());
            if (gradient) {
                CudaCtcLoss.backward(backend.context(), ws, ptr(dx), px, loss.layout(), batch, frames, vocab, il, tg,
                        maxLabels, tl, ptr(losses), null, loss.reduction(), loss.zeroInfinity());
            }
        } // scratch freed in stream order
        if (loss.reduction() == CtcLoss.Reduction.NONE) return new DeviceResult(losses, dx);
        Tensor out = backend.empty(DType.F32);
        CudaCtcLoss.reduce(backend.context(), ptr(out), ptr(losses), tl, batch, loss.reduction());
        return new DeviceResult(out, dx);
    }

    private static CUdeviceptr ptr(Tensor t) {
        return ((CudaStorage) t.storage()).ptr();
    }
}
