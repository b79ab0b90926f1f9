package lmu.bench;

import lmu.backend.FusedKernels.Activation;
import lmu.ops.BiasActivation;
import lmu.ops.LayerNorm;
import lmu.ops.ResidualLayerNorm;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * The fused epilogues against the compositions they replace, forward and backward on the CPU at
 * the model's activation shape (B, T, C) = (8, 400, 384): {@code biasFused} / {@code biasComposed}
 * is act(x + b) with the bias gradient; {@code residualNormFused} / {@code residualNormComposed} is
 * s = x + r, y = LayerNorm(s), with gradients arriving at both s and y (the pre-LN block; both get
 * dy through one add, the same in both). The activation parameter does not apply to those two:
 * run them with {@code -p act=IDENTITY}.
 */
public class FusedEpilogueBenchmark extends AbstractKernelBenchmark {
    @Param({"8x400x384"})
    public String shape;

    @Param({"GELU", "TANH", "IDENTITY"})
    public String act;

    private Tensor x, r, b, w, nb, dy;
    private Activation activation;

    @Setup
    public void setup() {
        int[] d = OpBench.shape(shape);
        activation = Activation.valueOf(act);
        x = OpBench.randn(1, d).requiresGrad(true);
        r = OpBench.randn(3, d).requiresGrad(true);
        b = OpBench.randn(4, d[2]).requiresGrad(true);
        w = Tensor.full(DType.F32, 1, d[2]).requiresGrad(true);
        nb = Tensor.zeros(DType.F32, d[2]).requiresGrad(true);
        dy = OpBench.randn(2, d);
        float[] fused = biasFused().toFloatArray(), composed = biasComposed().toFloatArray();
        for (int i = 0; i < fused.length; i += 997) OpBench.near("bias gradient", fused[i % fused.length], composed[i % composed.length], 1e-3);
        float[] n1 = residualNormFused().toFloatArray(), n2 = residualNormComposed().toFloatArray();
        for (int i = 0; i < n1.length; i += 997) OpBench.near("residual gradient", n1[i], n2[i], 1e-4);
    }

    private Tensor composedActivation(Tensor z) {
        return switch (activation) {
            case IDENTITY -> z;
            case RELU -> z.relu();
            case GELU -> z.gelu();
            case TANH -> z.tanh();
        };
    }

    @Benchmark
    public Tensor biasFused() {
        x.zeroGrad();
        b.zeroGrad();
        BiasActivation.apply(x, b, activation).backward(dy);
        return b.grad();
    }

    @Benchmark
    public Tensor biasComposed() {
        x.zeroGrad();
        b.zeroGrad();
        composedActivation(x.add(b)).backward(dy);
        return b.grad();
    }

    @Benchmark
    public Tensor residualNormFused() {
        x.zeroGrad();
        r.zeroGrad();
        Tensor[] sy = ResidualLayerNorm.apply(x, r, w, nb, 1e-5);
        sy[0].add(sy[1]).backward(dy); // dy reaches both s and y
        return x.grad();
    }

    @Benchmark
    public Tensor residualNormComposed() {
        x.zeroGrad();
        r.zeroGrad();
        Tensor s = x.add(r);
        Tensor y = LayerNorm.apply(s, w, nb, 1e-5);
        s.add(y).backward(dy);
        return x.grad();
    }
}
