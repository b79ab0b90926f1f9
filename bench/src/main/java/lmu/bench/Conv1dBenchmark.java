package lmu.bench;

import lmu.ops.Conv1d;
import lmu.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Setup;

/** The 2× downsampling convolution (kernel 3, stride 2, padding 1, 384 → 384 channels) on (8, 400, 384), forward and backward. */
public class Conv1dBenchmark extends AbstractKernelBenchmark {
    private Tensor x, w, b, dy;

    @Setup
    public void setup() {
        x = OpBench.randn(1, 8, 400, 384).requiresGrad(true);
        w = OpBench.randn(2, 384, 384, 3).mul(0.03).detach().requiresGrad(true);
        b = OpBench.randn(3, 384).requiresGrad(true);
        dy = OpBench.randn(4, 8, 200, 384);
        // output frame 0, channel 0: bias + Σ_c Σ_k w[0][c][k]·x[2·0 − 1 + k][c] (frame −1 is padding)
        float[] xa = x.toFloatArray(), wa = w.toFloatArray();
        double ref = b.toFloatArray()[0];
        for (int c = 0; c < 384; c++) for (int k = 1; k < 3; k++) ref += (double) wa[c * 3 + k] * xa[(k - 1) * 384 + c];
        OpBench.near("conv1d y[0][0][0]", Conv1d.apply(x, w, b, 2, 1).toFloatArray()[0], ref, 1e-4);
    }

    @Benchmark
    public Tensor cpu() {
        x.zeroGrad();
        w.zeroGrad();
        b.zeroGrad();
        Conv1d.apply(x, w, b, 2, 1).backward(dy);
        return w.grad();
    }
}
