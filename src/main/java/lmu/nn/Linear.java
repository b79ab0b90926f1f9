package lmu.nn;

import lmu.backend.FusedKernels.Activation;
import lmu.ops.BiasActivation;
import lmu.ops.MatMul;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Checks;
import lmu.util.Rng;

/**
 * y = x·Wᵀ + b with W of shape (out, in) as in PyTorch, so checkpoints map one to one. Initialised
 * uniform in ±1/√in (PyTorch's default for nn.Linear).
 */
public final class Linear extends Module {
    private final Tensor weight;
    private final Tensor bias;

    public Linear(int in, int out, boolean bias, Rng rng) {
        this(in, out, bias, rng, DType.F32);
    }

    public Linear(int in, int out, boolean bias, Rng rng, DType dtype) {
        Checks.positive("Linear in", in);
        Checks.positive("Linear out", out);
        double bound = 1 / Math.sqrt(in);
        this.weight = param("weight", Tensor.uniform(rng, dtype, -bound, bound, out, in));
        this.bias = bias ? param("bias", Tensor.uniform(rng, dtype, -bound, bound, out)) : null;
    }

    /**
     * @param x input, shape (…, in)
     * @return shape (…, out)
     */
    public Tensor forward(Tensor x) {
        return forward(x, Activation.IDENTITY);
    }

    /**
     * act(x·Wᵀ + b): the bias add and the activation run as one fused epilogue ({@link BiasActivation}).
     *
     * @param x input, shape (…, in)
     * @param act activation applied after the bias
     * @return shape (…, out)
     * @throws IllegalArgumentException if x's last axis is not {@code in}
     */
    public Tensor forward(Tensor x, Activation act) {
        if (x.dim(-1) != weight.dim(1)) {
            throw new IllegalArgumentException("Linear: input must have shape (…, " + weight.dim(1) + "), got "
                    + java.util.Arrays.toString(x.shape()));
        }
        Tensor y = MatMul.apply(x, weight, false, true);
        return bias == null && act == Activation.IDENTITY ? y : BiasActivation.apply(y, bias, act);
    }

    public Tensor weight() {
        return weight;
    }

    public Tensor bias() {
        return bias;
    }
}
