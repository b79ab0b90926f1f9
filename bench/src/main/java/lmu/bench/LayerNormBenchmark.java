package lmu.bench;

import lmu.ops.LayerNorm;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/** Layer norm over C with weight and bias, forward and backward, at (B, T, C) = (8, 400, 384) and (8, 200, 384). */
public class LayerNormBenchmark extends AbstractKernelBenchmark {
    @Param({"8x400x384", "8x200x384"})
    public String shape;

    private Tensor x, w, b, dy;

    @Setup
    public void setup() {
        int[] d = OpBench.shape(shape);
        x = OpBench.randn(1, d).requiresGrad(true);
        w = Tensor.full(DType.F32, 1, d[2]).requiresGrad(true);
        b = Tensor.zeros(DType.F32, d[2]).requiresGrad(true);
        dy = OpBench.randn(2, d);
        float[] y = LayerNorm.apply(x, w, b, 1e-5).toFloatArray();
        double mean = 0, sq = 0;
        for (int c = 0; c < d[2]; c++) {
            mean += y[c];
            sq += (double) y[c] * y[c];
        }
        OpBench.near("layer norm row mean", mean / d[2], 0, 1e-5);
        OpBench.near("layer norm row variance", sq / d[2], 1, 1e-3);
    }

    @Benchmark
    public Tensor cpu() {
        x.zeroGrad();
        w.zeroGrad();
        b.zeroGrad();
        LayerNorm.apply(x, w, b, 1e-5).backward(dy);
        return x.grad();
    }
}
