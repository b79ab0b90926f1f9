package lmu.bench;

import java.util.Arrays;
import lmu.nn.MultiHeadAttention;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * One self-attention layer of configs/seed.yaml (C 384, 6 heads, no dropout), forward + backward,
 * at (B, T) = (8, 400) and (8, 200), every sequence full length ({@code full}) or with lengths
 * from T down to T − 140 (the mask path).
 */
public class AttentionBenchmark extends AbstractKernelBenchmark {
    @Param({"8x400", "8x200"})
    public String shape;

    @Param({"full", "masked"})
    public String lengths;

    private MultiHeadAttention attention;
    private Tensor x, dy;
    private int[] lens;

    @Setup
    public void setup() {
        int[] d = OpBench.shape(shape);
        attention = new MultiHeadAttention(384, 6, 0.0, new Rng(1));
        attention.train(false);
        x = OpBench.randn(2, d[0], d[1], 384).requiresGrad(true);
        dy = OpBench.randn(3, d[0], d[1], 384);
        lens = new int[d[0]];
        Arrays.fill(lens, d[1]);
        if (lengths.equals("masked")) for (int b = 0; b < d[0]; b++) lens[b] = d[1] - 20 * b;
        OpBench.finite("attention output", attention.forward(x, lens));
    }

    @Benchmark
    public Tensor forwardBackward() {
        attention.zeroGrad();
        x.zeroGrad();
        attention.forward(x, lens).backward(dy);
        return x.grad();
    }
}
