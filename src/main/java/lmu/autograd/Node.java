package lmu.autograd;

import lmu.tensor.Tensor;

/** A recorded op application: the function, its context and its inputs (the graph's edges). */
public final class Node {
    final Function function;
    final Ctx ctx;
    final Tensor[] inputs;

    Node(Function function, Ctx ctx, Tensor[] inputs) {
        this.function = function;
        this.ctx = ctx;
        this.inputs = inputs;
    }

    /** Name of the op that produced the tensor (for error messages and profiles). */
    public String op() {
        return function.name();
    }
}
