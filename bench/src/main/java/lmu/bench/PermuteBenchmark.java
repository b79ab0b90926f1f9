package lmu.bench;

import lmu.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Setup;

/**
 * The head split and join of attention, forward and backward: (B, T, C) = (8, 400, 384) reshaped to
 * (B, T, H, d) = (8, 400, 6, 64), permuted to (B, H, T, d) and reshaped to (B·H, T, d) (a copy).
 */
public class PermuteBenchmark extends AbstractKernelBenchmark {
    private Tensor x, dy;

    @Setup
    public void setup() {
        x = OpBench.randn(1, 8, 400, 384).requiresGrad(true);
        dy = OpBench.randn(2, 48, 400, 64);
        float[] y = split().toFloatArray(), in = x.toFloatArray();
        // y[(b·H + h)·T·d + t·d + j] = x[b][t][h·d + j]; check b 1, h 2, t 3, j 4
        OpBench.near("permute", y[((6 + 2) * 400 + 3) * 64 + 4], in[(400 + 3) * 384 + 2 * 64 + 4], 0);
    }

    private Tensor split() {
        return x.reshape(8, 400, 6, 64).permute(0, 2, 1, 3).reshape(48, 400, 64);
    }

    @Benchmark
    public Tensor cpu() {
        x.zeroGrad();
        split().backward(dy);
        return x.grad();
    }
}
