package lmu.bench;

import lmu.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * Softmax over the last axis, forward and backward, on attention scores (B·H, T, T) = (48, 400,
 * 400) and (48, 200, 200) (blocks 2-3 after downsampling); log-softmax on the head's output (B, T',
 * V) = (8, 200, 29).
 */
public class SoftmaxBenchmark extends AbstractKernelBenchmark {
    @Param({"48x400x400", "48x200x200"})
    public String scores;

    private Tensor s, ds, logits, dLogits;

    @Setup
    public void setup() {
        s = OpBench.randn(1, OpBench.shape(scores)).requiresGrad(true);
        ds = OpBench.randn(2, OpBench.shape(scores));
        logits = OpBench.randn(3, 8, 200, 29).requiresGrad(true);
        dLogits = OpBench.randn(4, 8, 200, 29);
        float[] p = s.softmax(-1).toFloatArray();
        int t = OpBench.shape(scores)[2];
        double sum = 0;
        for (int i = 0; i < t; i++) sum += p[i];
        OpBench.near("softmax row sum", sum, 1, 1e-5);
        float[] lp = logits.logSoftmax(-1).toFloatArray();
        double e = 0;
        for (int v = 0; v < 29; v++) e += Math.exp(lp[v]);
        OpBench.near("log-softmax row logsumexp", e, 1, 1e-5);
    }

    @Benchmark
    public Tensor softmax() {
        s.zeroGrad();
        s.softmax(-1).backward(ds);
        return s.grad();
    }

    @Benchmark
    public Tensor logSoftmax() {
        logits.zeroGrad();
        logits.logSoftmax(-1).backward(dLogits);
        return logits.grad();
    }
}
