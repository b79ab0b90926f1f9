package lmu.ops;

import lmu.amp.Autocast;
import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.tensor.Shape;
import lmu.tensor.Tensor;
import lmu.util.Checks;

/**
 * 1-D convolution over time for channels-last sequences (the 2× downsampling of the encoder).
 * x (B, T, Cin), weight (Cout, Cin, K) as in PyTorch's Conv1d, bias (Cout) or null; output
 * (B, Tout, Cout) with Tout = floor((T + 2·padding − K) / stride) + 1.
 */
public final class Conv1d extends Function {
    private final int stride, padding;

    private Conv1d(int stride, int padding) {
        this.stride = stride;
        this.padding = padding;
    }

    public static Tensor apply(Tensor x, Tensor weight, Tensor bias, int stride, int padding) {
        Checks.positive("Conv1d stride", stride);
        Checks.nonNegative("Conv1d padding", padding);
        // half-precision input, weight and output under a mixed-precision policy (bias and accumulation fp32)
        return Autocast.half(new Conv1d(stride, padding).apply(new Tensor[] {Autocast.half(x), Autocast.half(weight), bias}));
    }

    /** Output length for input length t (may be ≤ 0 when the input is too short). */
    public static int outputLength(int t, int kernel, int stride, int padding) {
        int span = t + 2 * padding - kernel;
        return span < 0 ? 0 : span / stride + 1;
    }

    @Override
    protected Tensor forward(Ctx ctx, Tensor... in) {
        Tensor x = in[0], w = in[1], b = in[2];
        Checks.shape(x.rank() == 3, "Conv1d", "input", "(B, T, Cin)", x.shape());
        Checks.shape(w.rank() == 3 && w.dim(1) == x.dim(2), "Conv1d", "weight", "(Cout, " + x.dim(2) + ", K)", w.shape());
        if (b != null) Checks.shape(b.rank() == 1 && b.dim(0) == w.dim(0), "Conv1d", "bias", "(" + w.dim(0) + ")", b.shape());
        int tOut = outputLength(x.dim(1), w.dim(2), stride, padding);
        if (tOut <= 0) {
            throw new IllegalArgumentException("Conv1d: input of " + x.dim(1) + " frames is shorter than kernel " + w.dim(2)
                    + " with padding " + padding + " (shape " + Shape.str(x.shape()) + ")");
        }
        Backend be = Backends.of(x);
        Tensor out = be.empty(x.dtype(), x.dim(0), tOut, w.dim(0));
        be.conv1d(out, x, w, b, stride, padding);
        ctx.save(x, w);
        return out;
    }

    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        Tensor x = ctx.tensor(0), w = ctx.tensor(1);
        Backend be = Backends.of(dOut);
        Tensor dx = ctx.needsInputGrad(0) ? be.empty(x.dtype(), x.shape()) : null;
        Tensor dw = ctx.needsInputGrad(1) ? be.empty(w.dtype(), w.shape()) : null;
        Tensor db = ctx.needsInputGrad(2) ? be.empty(w.dtype(), w.dim(0)) : null;
        be.conv1dBackward(dx, dw, db, dOut, x, w, stride, padding);
        return new Tensor[] {dx, dw, db};
    }
}
