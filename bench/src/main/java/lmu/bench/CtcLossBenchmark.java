package lmu.bench;

import java.util.Arrays;
import lmu.speech.ctc.CtcLoss;
import lmu.speech.ctc.CtcLossFunction;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * CTC loss with fused log-softmax, forward + backward, as the training step calls it: logits (B,
 * T', V) = (8, 200, 29) and (16, 200, 29) (seed model, T 400 after downsampling), L = T'/3 labels,
 * mean reduction.
 */
public class CtcLossBenchmark extends AbstractKernelBenchmark {
    @Param({"8", "16"})
    public int batch;

    private Tensor logits;
    private int[] lengths, targets, targetLengths;
    private final CtcLoss ctc = CtcLoss.batchMajor().withZeroInfinity(true);

    @Setup
    public void setup() {
        logits = OpBench.randn(1, batch, 200, 29).requiresGrad(true);
        lengths = new int[batch];
        Arrays.fill(lengths, 200);
        targetLengths = new int[batch];
        Arrays.fill(targetLengths, 66);
        targets = new int[batch * 66];
        Rng r = new Rng(2);
        for (int i = 0; i < targets.length; i++) targets[i] = 1 + r.nextInt(28);
        Tensor loss = CtcLossFunction.apply(ctc, logits, lengths, targets, targetLengths);
        // a loss per label of random logits is about log(29) ≈ 3.4 nats per frame spread over 3 frames per label
        if (!(loss.item() > 0 && Double.isFinite(loss.item()))) throw new IllegalStateException("CTC loss " + loss.item());
        loss.backward();
        // the gradient of each frame's logits sums to zero (softmax minus occupancy)
        float[] g = logits.grad().toFloatArray();
        double s = 0;
        for (int v = 0; v < 29; v++) s += g[v];
        OpBench.near("CTC gradient row sum", s, 0, 1e-6);
    }

    @Benchmark
    public Tensor cpu() {
        logits.zeroGrad();
        CtcLossFunction.apply(ctc, logits, lengths, targets, targetLengths).backward();
        return logits.grad();
    }
}
