package lmu.autograd;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
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

    /** Identity that logs its name when its backward runs. */
    private static final class Tag extends Function {
        private final String tag;
        private final List<String> log;

        Tag(String tag, List<String> log) {
            this.tag = tag;
            this.log = log;
        }

        @Override
        protected Tensor forward(Ctx ctx, Tensor... inputs) {
            return inputs[0].copy();
        }

        @Override
        protected Tensor[] backward(Ctx ctx, Tensor dOut) {
            log.add(tag);
            return new Tensor[] {dOut.copy()};
        }
    }

    /**
     * loss = sum(w1 * second(tanh(first(w0 * x + w0)))): w1 (the first input of the last product,
     * so a depth-first sort lists it first) is final as soon as that product's backward ran, before
     * anything below it; w0, used twice at the bottom, is final once, after both its consumers.
     * The gradients equal those of a plain backward.
     */
    @Test
    void leafListenerHearsEachLeafOnceAsSoonAsItsLastConsumerRan() {
        float[] x = {0.3f, -1.2f, 2f};
        List<String> log = new ArrayList<>();
        Tensor[] heard = new Tensor[2];
        Tensor[] w = new Tensor[2];
        for (int pass = 0; pass < 2; pass++) {
            Tensor w0 = Tensor.of(new float[] {0.5f, -0.25f, 1f}, 3).requiresGrad(true);
            Tensor w1 = Tensor.of(new float[] {2f, 1f, -3f}, 3).requiresGrad(true);
            Tensor h = new Tag("first", log).apply(w0.mul(Tensor.of(x.clone(), 3)).add(w0));
            Tensor loss = w1.mul(new Tag("second", log).apply(h.tanh())).sum();
            if (pass == 0) {
                loss.backward();
                heard[0] = w0.grad();
                heard[1] = w1.grad();
                log.clear();
            } else {
                Backward.run(loss, Tensor.full(DType.F32, 1, new int[0]), false, leaf -> log.add(leaf == w0 ? "w0" : leaf == w1 ? "w1" : "?"));
                w[0] = w0;
                w[1] = w1;
            }
        }
        assertEquals(List.of("w1", "second", "first", "w0"), log);
        assertArrayEquals(heard[0].toFloatArray(), w[0].grad().toFloatArray());
        assertArrayEquals(heard[1].toFloatArray(), w[1].grad().toFloatArray());
    }
}
