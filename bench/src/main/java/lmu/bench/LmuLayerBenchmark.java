package lmu.bench;

import java.util.Arrays;
import lmu.nn.lmu.Activation;
import lmu.nn.lmu.LmuConfig;
import lmu.nn.lmu.LmuLayer;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * One LMU layer of configs/seed.yaml (C 384, memory_d 1, order 192, θ 200, parallel mode, ZOH),
 * forward and forward + backward at (B, T) = (8, 400) (block 1) and (8, 200) (blocks 2-3).
 */
public class LmuLayerBenchmark extends AbstractKernelBenchmark {
    @Param({"8x400", "8x200"})
    public String shape;

    private LmuLayer layer;
    private Tensor x, dy;
    private int[] lengths;

    @Setup
    public void setup() {
        int[] d = OpBench.shape(shape);
        LmuConfig cfg = LmuConfig.of(384, 384, 1, 192, 200).withHidden(false, false, Activation.TANH).withMaxLength(3000);
        layer = new LmuLayer(cfg, LmuLayer.Mode.AUTO, new Rng(1), DType.F32);
        x = OpBench.randn(2, d[0], d[1], 384).requiresGrad(true);
        dy = OpBench.randn(3, d[0], d[1], 384);
        lengths = new int[d[0]];
        Arrays.fill(lengths, d[1]);
        // causality: changing the last frame leaves every earlier output unchanged
        float[] y1 = layer.forward(x, lengths).toFloatArray();
        float[] xs = x.toFloatArray();
        for (int c = 0; c < 384; c++) xs[(d[1] - 1) * 384 + c] += 1;
        float[] y2 = layer.forward(Tensor.of(xs, d[0], d[1], 384), lengths).toFloatArray();
        for (int i = 0; i < (d[1] - 1) * 384; i++) OpBench.near("LMU causality", y2[i], y1[i], 0);
        OpBench.finite("LMU output", Tensor.of(y1, y1.length));
    }

    @Benchmark
    public Tensor forward() {
        return layer.forward(x, lengths);
    }

    @Benchmark
    public Tensor forwardBackward() {
        layer.zeroGrad();
        x.zeroGrad();
        layer.forward(x, lengths).backward(dy);
        return x.grad();
    }
}
