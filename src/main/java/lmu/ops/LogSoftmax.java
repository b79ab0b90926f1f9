package lmu.ops;

import lmu.tensor.Tensor;

/** log(softmax(x)) over one axis, computed as x − logsumexp(x) for accuracy. */
public final class LogSoftmax extends Softmax {
    private LogSoftmax(int axis) {
        super(axis, true);
    }

    public static Tensor apply(Tensor x, int axis) {
        return new LogSoftmax(axis).apply(new Tensor[] {x});
    }
}
