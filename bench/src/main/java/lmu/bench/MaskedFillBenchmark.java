package lmu.bench;

import lmu.nn.Masks;
import lmu.ops.MaskedFill;
import lmu.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Setup;

/**
 * The attention key-padding mask: scores (B, H, T, T) = (8, 6, 400, 400), keys t ≥ length set to
 * −1e4 through a (B, 1, 1, T) mask (lengths 400 down to 260), forward and backward.
 */
public class MaskedFillBenchmark extends AbstractKernelBenchmark {
    private Tensor scores, dy;
    private boolean[] mask;
    private final int[] maskShape = {8, 1, 1, 400};

    @Setup
    public void setup() {
        scores = OpBench.randn(1, 8, 6, 400, 400).requiresGrad(true);
        dy = OpBench.randn(2, 8, 6, 400, 400);
        int[] lengths = new int[8];
        for (int b = 0; b < 8; b++) lengths[b] = 400 - 20 * b;
        mask = Masks.padding(lengths, 400);
        float[] y = MaskedFill.apply(scores, mask, maskShape, -1e4).toFloatArray();
        int last = 7 * 6 * 400 * 400 + 399; // batch 7, head 0, query 0, key 399 (masked: length 260)
        OpBench.near("masked score", y[last], -1e4, 0);
        OpBench.near("kept score", y[0], scores.toFloatArray()[0], 0);
    }

    @Benchmark
    public Tensor cpu() {
        scores.zeroGrad();
        MaskedFill.apply(scores, mask, maskShape, -1e4).backward(dy);
        return scores.grad();
    }
}
