package lmu.ops;

import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.backend.UnaryOp;
import lmu.tensor.Tensor;

/** y = f(x) elementwise; backward uses x or y, whichever the derivative is cheaper in. */
abstract class ElementwiseUnary extends Function {
    private final UnaryOp op;
    private final double param;

    ElementwiseUnary(UnaryOp op, double param) {
        this.op = op;
        this.param = param;
    }

    @Override
    protected Tensor forward(Ctx ctx, Tensor... in) {
        Tensor x = in[0];
        Backend be = Backends.of(x);
        Tensor y = be.empty(x.dtype(), x.shape());
        be.unary(op, y, x, param);
        ctx.save(x, y);
        return y;
    }

    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        Tensor x = ctx.tensor(0), y = ctx.tensor(1);
        Backend be = Backends.of(dOut);
        Tensor dx = be.empty(x.dtype(), x.shape());
        be.unaryBackward(op, dx, x, y, dOut, param);
        return new Tensor[] {dx};
    }
}
