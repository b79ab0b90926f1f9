package lmu.ops;

import static lmu.autograd.GradCheck.check;
import static lmu.autograd.GradCheck.leaf;

import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Finite-difference checks (float64) of every op's backward on awkward sizes. */
class OpsGradientTest {

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 13})
    void broadcastingArithmetic(int n) {
        Rng rng = new Rng(n);
        Tensor a = leaf(rng, 2, n, 3), b = leaf(rng, n, 1), c = leaf(rng, 3);
        check("add", x -> x[0].add(x[1]), a, b);
        check("sub", x -> x[0].sub(x[1]), a, c);
        check("mul", x -> x[0].mul(x[1]).mul(x[2]), a, b, c);
        Tensor pos = Tensor.uniform(rng, lmu.tensor.DType.F64, 0.5, 2, n, 1).requiresGrad(true);
        check("div", x -> x[0].div(x[1]), a, pos);
        check("scalar ops", x -> x[0].mul(2.5).add(-1), a);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 207})
    void activations(int n) {
        Rng rng = new Rng(n);
        Tensor a = leaf(rng, n, 2);
        check("tanh", x -> x[0].tanh(), a);
        check("sigmoid", x -> x[0].sigmoid(), a);
        check("gelu", x -> x[0].gelu(), a);
        check("exp", x -> x[0].exp(), a);
        Tensor shifted = Tensor.uniform(rng, lmu.tensor.DType.F64, 0.1, 1, n, 2).requiresGrad(true);
        check("log", x -> x[0].log(), shifted);
        // relu away from its kink
        Tensor away = Tensor.uniform(rng, lmu.tensor.DType.F64, 0.1, 1, n, 2).requiresGrad(true);
        check("relu", x -> x[0].mul(-1).add(0.55).relu(), away);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 13})
    void reductions(int n) {
        Rng rng = new Rng(n);
        Tensor a = leaf(rng, 3, n, 4);
        check("sum all", x -> x[0].sum(), a);
        check("sum axis 1", x -> x[0].sum(1, false), a);
        check("sum axes 0,2", x -> Sum.apply(x[0], new int[] {0, 2}, true), a);
        check("mean axis -1", x -> x[0].mean(-1, false), a);
        check("mean all", x -> x[0].mean(), a);
        check("max axis 1", x -> x[0].max(1, false), a);
        check("max axis 2 keep", x -> x[0].max(2, true), a);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 13})
    void layout(int n) {
        Rng rng = new Rng(n);
        Tensor a = leaf(rng, 2, n, 3), b = leaf(rng, 2, 4, 3);
        check("reshape", x -> x[0].reshape(n, -1).mul(x[0].reshape(n, 6)), a);
        check("transpose", x -> x[0].transpose(0, 2), a);
        check("permute", x -> x[0].permute(2, 0, 1), a);
        check("slice", x -> x[0].slice(1, n / 2, n), a);
        check("pad", x -> x[0].pad(1, 2, 1, 0.5), a);
        check("concat", x -> Concat.apply(1, x[0], x[1]), a, b);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 13})
    void matrixProducts(int n) {
        Rng rng = new Rng(n);
        Tensor x = leaf(rng, 2, n, 5), w = leaf(rng, 5, 4), wt = leaf(rng, 4, 5);
        check("linear", t -> t[0].matmul(t[1]), x, w);
        check("linear transposed weight", t -> MatMul.apply(t[0], t[1], false, true), x, wt);
        Tensor q = leaf(rng, 3, n, 4), k = leaf(rng, 3, 7, 4), v = leaf(rng, 3, 7, 2);
        check("batched q·kᵀ", t -> MatMul.apply(t[0], t[1], false, true), q, k);
        check("batched aᵀ·b", t -> MatMul.apply(t[0], t[1], true, false), k, v);
        Tensor shared = leaf(rng, 1, 4, 2);
        check("batch broadcast", t -> t[0].matmul(t[1]), q, shared);
        Tensor xt = leaf(rng, 2, 5, n);
        check("transposed a with 2-D b", t -> MatMul.apply(t[0], t[1], true, false), xt, w);
        check("transposed both, 3-D", t -> MatMul.apply(t[0], t[1], true, true), leaf(rng, 3, 4, n), leaf(rng, 3, 2, 4));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 29})
    void softmaxFamily(int n) {
        Rng rng = new Rng(n);
        Tensor a = leaf(rng, 4, n);
        check("softmax last", x -> x[0].softmax(-1), a);
        check("log-softmax last", x -> x[0].logSoftmax(-1), a);
        check("softmax axis 0", x -> x[0].softmax(0), a);
        check("log-softmax axis 0", x -> x[0].logSoftmax(0), leaf(rng, n, 3, 2));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 13})
    void layerNorm(int n) {
        Rng rng = new Rng(n);
        Tensor x = leaf(rng, 2, 3, n + 1), w = leaf(rng, n + 1), b = leaf(rng, n + 1);
        check("layer norm", t -> LayerNorm.apply(t[0], t[1], t[2], 1e-5), x, w, b);
        check("layer norm no affine", t -> LayerNorm.apply(t[0], null, null, 1e-5), x);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 13})
    void dropoutAndMask(int n) {
        Rng rng = new Rng(n);
        Tensor x = leaf(rng, 3, n);
        check("dropout", t -> Dropout.apply(t[0], 0.3, 77), x);
        boolean[] mask = new boolean[n];
        for (int i = 0; i < n; i += 2) mask[i] = true;
        check("masked fill", t -> MaskedFill.apply(t[0], mask, new int[] {1, n}, -1e4), x);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 13})
    void conv1d(int t) {
        Rng rng = new Rng(t);
        Tensor x = leaf(rng, 2, t + 2, 3), w = leaf(rng, 4, 3, 3), b = leaf(rng, 4);
        check("conv1d stride 2 pad 1", v -> Conv1d.apply(v[0], v[1], v[2], 2, 1), x, w, b);
        check("conv1d stride 1 no pad", v -> Conv1d.apply(v[0], v[1], null, 1, 0), x, w);
    }
}
