package lmu.nn;

import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;

/**
 * A small causal sequence layer standing in for the LMU in tests: y_t = tanh(W x_t + U x_{t−1} + b)
 * with x_{−1} = 0. Parameters: {@code current} (C, C) + (C), {@code previous} (C, C).
 */
final class CausalStandIn extends Module implements SequenceLayer {
    private final Linear current;
    private final Linear previous;

    CausalStandIn(int channels, Rng rng, DType dtype) {
        this.current = child("current", new Linear(channels, channels, true, rng, dtype));
        this.previous = child("previous", new Linear(channels, channels, false, rng, dtype));
    }

    /** Parameter count for C channels: 2·C² + C. */
    static long parameterCount(int c) {
        return 2L * c * c + c;
    }

    static SequenceLayer.Factory factory(DType dtype) {
        return (block, channels, maxFrames, rng) -> new CausalStandIn(channels, rng, dtype);
    }

    @Override
    public Tensor forward(Tensor x, int[] lengths) {
        int t = x.dim(1);
        Tensor shifted = x.pad(1, 1, 0, 0).slice(1, 0, t);
        return current.forward(x).add(previous.forward(shifted)).tanh();
    }
}
