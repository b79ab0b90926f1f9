package lmu.autograd;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.function.Function;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;

/**
 * Central finite-difference gradient check in float64. The scalar checked is sum(f(x) · r) for a
 * fixed random r, so every output element's gradient path is exercised.
 */
public final class GradCheck {
    private static final double H = 1e-6;
    private static final double ATOL = 1e-6;
    private static final double RTOL = 1e-4;
    /** At most this many elements per input are perturbed (spread over the whole tensor). */
    private static final int MAX_PROBES = 120;

    private GradCheck() {}

    /** Checks the gradient of f with respect to every input that requires grad (all must be F64). */
    public static void check(String what, Function<Tensor[], Tensor> f, Tensor... inputs) {
        for (Tensor t : inputs) {
            if (t != null && t.dtype() != DType.F64) throw new IllegalArgumentException("GradCheck: inputs must be F64");
        }
        Tensor out0 = f.apply(inputs);
        Rng rng = new Rng(1234);
        Tensor r = Tensor.randn(rng, DType.F64, 1, out0.shape());
        for (Tensor t : inputs) if (t != null) t.zeroGrad();
        Tensor loss = out0.mul(r).sum();
        loss.backward();
        StringBuilder errors = new StringBuilder();
        int bad = 0;
        for (int ii = 0; ii < inputs.length; ii++) {
            Tensor x = inputs[ii];
            if (x == null || !x.requiresGrad()) continue;
            double[] data = x.f64();
            double[] analytic = x.grad() == null ? new double[data.length] : x.grad().toDoubleArray();
            int step = Math.max(1, data.length / MAX_PROBES);
            for (int i = 0; i < data.length; i += step) {
                double keep = data[i];
                data[i] = keep + H;
                double up = scalar(f, inputs, r);
                data[i] = keep - H;
                double down = scalar(f, inputs, r);
                data[i] = keep;
                double numeric = (up - down) / (2 * H);
                double err = Math.abs(numeric - analytic[i]);
                if (!(err <= ATOL + RTOL * Math.abs(numeric))) {
                    if (bad++ < 5) {
                        errors.append(String.format("  input %d element %d: analytic %.9g, numeric %.9g%n", ii, i, analytic[i], numeric));
                    }
                }
            }
        }
        if (bad > 0) fail(what + ": " + bad + " gradient mismatches, first ones:\n" + errors);
    }

    private static double scalar(Function<Tensor[], Tensor> f, Tensor[] inputs, Tensor r) {
        try (GradMode g = GradMode.off()) {
            return f.apply(inputs).mul(r).sum().item();
        }
    }

    /** A random F64 leaf that requires grad. */
    public static Tensor leaf(Rng rng, int... shape) {
        return Tensor.randn(rng, DType.F64, 1, shape).requiresGrad(true);
    }
}
