package lmu.bench;

import lmu.ops.MatMul;
import lmu.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * {@code lmu.ops.MatMul} as the Linear layers use it, y = x·Wᵀ with x (B·T, in) and W (out, in),
 * forward and backward (dx and dW). Seed shapes: {@code 3200x384x384} (attention projections and
 * the LMU's W_m·m at B 8, T 400), {@code 3200x80x384} (input projection), {@code 1600x384x29} (CTC
 * head after downsampling). Shape is rows x in x out; 6·rows·in·out FLOP per call.
 */
public class MatMulBenchmark extends AbstractKernelBenchmark {
    @Param({"3200x384x384", "3200x80x384", "1600x384x29"})
    public String shape;

    private Tensor x, w, dy;

    @Setup
    public void setup() {
        int[] d = OpBench.shape(shape);
        x = OpBench.randn(1, d[0], d[1]).requiresGrad(true);
        w = OpBench.randn(2, d[2], d[1]).requiresGrad(true);
        dy = OpBench.randn(3, d[0], d[2]);
        Tensor y = MatMul.apply(x, w, false, true);
        // y[0][0] = Σ_k x[0][k]·w[0][k]
        double ref = 0;
        float[] xa = x.toFloatArray(), wa = w.toFloatArray();
        for (int k = 0; k < d[1]; k++) ref += (double) xa[k] * wa[k];
        OpBench.near("MatMul y[0][0]", y.toFloatArray()[0], ref, 1e-4 * Math.sqrt(d[1]));
    }

    @Benchmark
    public Tensor cpu() {
        x.zeroGrad();
        w.zeroGrad();
        MatMul.apply(x, w, false, true).backward(dy);
        return w.grad();
    }
}
