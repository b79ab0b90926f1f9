package lmu.bench;

import lmu.ops.Dropout;
import lmu.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/** Inverted dropout p 0.1, forward and backward, on activations (8, 400, 384) and attention weights (48, 200, 200). */
public class DropoutBenchmark extends AbstractKernelBenchmark {
    @Param({"8x400x384", "48x200x200"})
    public String shape;

    private Tensor x, dy;
    private long seed;

    @Setup
    public void setup() {
        x = OpBench.randn(1, OpBench.shape(shape)).requiresGrad(true);
        dy = OpBench.randn(2, OpBench.shape(shape));
        float[] in = x.toFloatArray(), out = Dropout.apply(x, 0.1, 7).toFloatArray();
        long kept = 0;
        for (int i = 0; i < in.length; i++) {
            if (out[i] != 0) {
                kept++;
                OpBench.near("dropout scale", out[i], in[i] / 0.9, 1e-5 * Math.abs(in[i]) + 1e-7);
            }
        }
        OpBench.near("dropout kept fraction", (double) kept / in.length, 0.9, 0.01);
    }

    @Benchmark
    public Tensor cpu() {
        x.zeroGrad();
        Dropout.apply(x, 0.1, seed++).backward(dy);
        return x.grad();
    }
}
