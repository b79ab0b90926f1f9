package lmu.bench;

import lmu.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Setup;

/**
 * Element-wise ops of the step at (B, T, C) = (8, 400, 384), forward and backward: the residual add,
 * the bias add (broadcast over rows), scaling by a constant (q / √d) and GELU (feed-forward blocks).
 */
public class ElementwiseBenchmark extends AbstractKernelBenchmark {
    private Tensor a, b, bias, dy;

    @Setup
    public void setup() {
        a = OpBench.randn(1, 8, 400, 384).requiresGrad(true);
        b = OpBench.randn(2, 8, 400, 384).requiresGrad(true);
        bias = OpBench.randn(3, 384).requiresGrad(true);
        dy = OpBench.randn(4, 8, 400, 384);
        OpBench.near("add", a.add(b).toFloatArray()[5], a.toFloatArray()[5] + b.toFloatArray()[5], 1e-6);
        double x = a.toFloatArray()[7];
        double gelu = 0.5 * x * (1 + erf(x / Math.sqrt(2)));
        OpBench.near("gelu", a.gelu().toFloatArray()[7], gelu, 1e-3);
    }

    /** Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7), enough for the setup check. */
    private static double erf(double x) {
        double t = 1 / (1 + 0.3275911 * Math.abs(x));
        double y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t
                * Math.exp(-x * x);
        return Math.signum(x) * y;
    }

    @Benchmark
    public Tensor add() {
        a.zeroGrad();
        b.zeroGrad();
        a.add(b).backward(dy);
        return b.grad();
    }

    @Benchmark
    public Tensor addBias() {
        a.zeroGrad();
        bias.zeroGrad();
        a.add(bias).backward(dy);
        return bias.grad();
    }

    @Benchmark
    public Tensor scale() {
        a.zeroGrad();
        a.mul(0.125).backward(dy);
        return a.grad();
    }

    @Benchmark
    public Tensor gelu() {
        a.zeroGrad();
        a.gelu().backward(dy);
        return a.grad();
    }
}
