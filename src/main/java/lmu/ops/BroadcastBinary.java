package lmu.ops;

import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.backend.BinaryOp;
import lmu.tensor.Shape;
import lmu.tensor.Tensor;

/** Elementwise a ∘ b with NumPy broadcasting; gradients are summed back over broadcast axes. */
abstract class BroadcastBinary extends Function {
    private final BinaryOp op;

    BroadcastBinary(BinaryOp op) {
        this.op = op;
    }

    @Override
    protected Tensor forward(Ctx ctx, Tensor... in) {
        Tensor a = in[0], b = in[1];
        int[] shape = Shape.broadcast(a.shape(), b.shape(), name());
        Backend be = Backends.of(a);
        Tensor out = be.empty(a.dtype(), shape);
        be.binary(op, out, a, b);
        ctx.save(a, b);
        return out;
    }

    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        Tensor a = ctx.tensor(0), b = ctx.tensor(1);
        Backend be = Backends.of(dOut);
        Tensor[] g = new Tensor[2];
        for (int i = 0; i < 2; i++) {
            if (!ctx.needsInputGrad(i)) continue;
            Tensor target = i == 0 ? a : b;
            boolean passThrough = op == BinaryOp.ADD || (op == BinaryOp.SUB && i == 0);
            if (passThrough && java.util.Arrays.equals(target.shape(), dOut.shape())) {
                g[i] = dOut; // gradients are never modified in place (see lmu.autograd), so sharing is safe
                continue;
            }
            g[i] = be.empty(target.dtype(), target.shape());
            be.binaryBackward(op, i, g[i], a, b, dOut);
        }
        return g;
    }
}
