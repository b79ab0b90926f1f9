package lmu.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.function.Function;
import lmu.ops.Dropout;
import lmu.ops.LayerNorm;
import lmu.ops.MaskedFill;
import lmu.ops.Sum;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The float32 fast paths give what the generic kernels give in float64 (forward and backward). */
class CpuFloatKernelsTest {

    /** Runs f on x in F32 and in F64 and compares outputs and input gradients. */
    private static void same(String what, Function<Tensor, Tensor> f, Tensor x64) {
        Tensor x32 = x64.to(DType.F32).detach().requiresGrad(true);
        Tensor x = x64.detach().requiresGrad(true);
        Tensor y32 = f.apply(x32), y64 = f.apply(x);
        Tensor r = Tensor.randn(new Rng(9), DType.F64, 1, y64.shape());
        y32.mul(r.to(DType.F32)).sum().backward();
        y64.mul(r).sum().backward();
        compare(what + " forward", y32, y64);
        compare(what + " backward", x32.grad(), x.grad());
    }

    private static void compare(String what, Tensor a, Tensor b) {
        float[] x = a.toFloatArray();
        double[] y = b.toDoubleArray();
        for (int i = 0; i < y.length; i++) {
            assertEquals(y[i], x[i], 1e-5 + 1e-5 * Math.abs(y[i]), what + " at " + i);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 13, 207})
    void fastPathsMatchGenericKernels(int n) {
        Rng rng = new Rng(n);
        Tensor x = Tensor.randn(rng, DType.F64, 2, 2, 3, n, 5); // std 2: exercises saturation too
        same("softmax", t -> t.softmax(-1), x);
        same("log-softmax", t -> t.logSoftmax(-1), x);
        same("dropout", t -> Dropout.apply(t, 0.3, 11), x);
        same("tanh", Tensor::tanh, x);
        same("gelu", Tensor::gelu, x);
        same("sigmoid", Tensor::sigmoid, x);
        same("relu", Tensor::relu, x);
        same("scale", t -> t.mul(0.7), x);
        Tensor bias64 = Tensor.randn(rng, DType.F64, 1, n, 5);
        same("bias add", t -> t.add(bias64.to(t.dtype())), x);
        same("bias mul", t -> t.mul(bias64.to(t.dtype())), x);
        same("sum leading", t -> Sum.apply(t, new int[] {0, 1}, false), x);
        Tensor w = Tensor.randn(rng, DType.F64, 1, 5), b = Tensor.randn(rng, DType.F64, 1, 5);
        same("layer norm", t -> LayerNorm.apply(t, w.to(t.dtype()).requiresGrad(true), b.to(t.dtype()).requiresGrad(true), 1e-5), x);
        boolean[] mask = new boolean[5];
        mask[1] = mask[4] = true;
        same("masked fill", t -> MaskedFill.apply(t, mask, new int[] {1, 1, 1, 5}, -1e4), x);
        Tensor xc = Tensor.randn(rng, DType.F64, 1, 2, n, 4), wc = Tensor.randn(rng, DType.F64, 1, 3, 4, 3);
        same("conv1d stride 2 pad 1", t -> lmu.ops.Conv1d.apply(t, wc.to(t.dtype()), null, 2, 1), xc);
        same("conv1d stride 1 pad 2", t -> lmu.ops.Conv1d.apply(t, wc.to(t.dtype()), null, 1, 2), xc);
    }
}
