package lmu.autograd;

import static org.junit.jupiter.api.Assertions.*;

import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

class AutogradTest {

    @Test
    void gradientOfSharedSubexpressionIsSummed() {
        Tensor w = Tensor.of(new float[] {1, 2, 3}, 3).requiresGrad(true);
        Tensor y = w.mul(w).add(w.mul(3)); // d/dw = 2w + 3
        y.sum().backward();
        assertArrayEquals(new float[] {5, 7, 9}, w.grad().toFloatArray());
    }

    @Test
    void leafGradientsAccumulateAcrossBackwardCallsUntilZeroed() {
        Tensor w = Tensor.of(new float[] {2}, 1).requiresGrad(true);
        w.mul(w).sum().backward();
        w.mul(w).sum().backward();
        assertEquals(8, w.grad().item(), 0);
        w.zeroGrad();
        w.mul(5).sum().backward();
        assertEquals(5, w.grad().item(), 0);
    }

    @Test
    void backwardTwiceThroughTheSameGraphFailsClearly() {
        Tensor w = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
        Tensor loss = w.tanh().sum();
        loss.backward();
        IllegalStateException e = assertThrows(IllegalStateException.class, loss::backward);
        assertTrue(e.getMessage().contains("backward called twice"), e.getMessage());
    }

    @Test
    void retainedGraphAllowsASecondBackward() {
        Tensor w = Tensor.of(new float[] {0.5f}, 1).requiresGrad(true);
        Tensor loss = w.mul(w).sum();
        Backward.run(loss, Tensor.full(DType.F32, 1, new int[0]), true);
        Backward.run(loss, Tensor.full(DType.F32, 1, new int[0]), false);
        assertEquals(2.0, w.grad().item(), 1e-7);
    }

    @Test
    void noGradModeRecordsNothing() {
        Tensor w = Tensor.of(new float[] {1}, 1).requiresGrad(true);
        Tensor y;
        try (GradMode g = GradMode.off()) {
            y = w.mul(2);
        }
        assertFalse(y.requiresGrad());
        assertNull(y.node());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> y.sum().backward());
        assertTrue(e.getMessage().contains("does not require grad"), e.getMessage());
        assertTrue(GradMode.isEnabled());
    }

    @Test
    void onlyInputsThatNeedGradientsGetThem() {
        Tensor a = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
        Tensor b = Tensor.of(new float[] {3, 4}, 2);
        a.mul(b).sum().backward();
        assertArrayEquals(new float[] {3, 4}, a.grad().toFloatArray());
        assertNull(b.grad());
    }

    @Test
    void dtypeAndShapeMismatchesNameTheProblem() {
        Tensor f = Tensor.zeros(2, 3);
        Tensor d = Tensor.zeros(DType.F64, 2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.add(d));
        assertTrue(e.getMessage().contains("dtype mismatch") && e.getMessage().contains("F64"), e.getMessage());
        IllegalArgumentException s = assertThrows(IllegalArgumentException.class, () -> f.add(Tensor.zeros(4)));
        assertTrue(s.getMessage().contains("[2, 3]") && s.getMessage().contains("[4]"), s.getMessage());
        IllegalArgumentException m = assertThrows(IllegalArgumentException.class, () -> f.matmul(Tensor.zeros(2, 3)));
        assertTrue(m.getMessage().contains("inner dimensions differ"), m.getMessage());
        IllegalArgumentException seed = assertThrows(IllegalArgumentException.class,
                () -> f.requiresGrad(true).mul(2).backward(Tensor.zeros(3, 2)));
        assertTrue(seed.getMessage().contains("seed gradient"), seed.getMessage());
    }

    @Test
    void deepChainsDoNotOverflowTheStack() {
        Tensor w = Tensor.of(new double[] {1}, 1).requiresGrad(true);
        Tensor y = w;
        for (int i = 0; i < 20000; i++) y = y.add(0.0);
        y.sum().backward();
        assertEquals(1.0, w.grad().item(), 0);
    }

    /** The checker itself must catch a wrong backward. */
    @Test
    void gradCheckRejectsAWrongGradient() {
        Function wrong = new Function() {
            @Override
            protected Tensor forward(Ctx ctx, Tensor... in) {
                return in[0].mul(in[0]);
            }

            @Override
            protected Tensor[] backward(Ctx ctx, Tensor dOut) {
                return new Tensor[] {dOut.mul(1.0)}; // should be 2x · dOut
            }
        };
        Tensor x = GradCheck.leaf(new Rng(3), 4);
        assertThrows(AssertionFailedError.class, () -> GradCheck.check("wrong", t -> wrong.apply(t[0]), x));
    }
}
