package lmu.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import lmu.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Ops with several outputs ({@link Function#applyAll}, {@link Ctx#output}): one backward call sees every output's gradient. */
class ExtraOutputTest {
    /** (2x, 3x) from x; counts its backward calls and records what each saw. */
    private static final class TwoScales extends Function {
        int calls;
        boolean sawFirst, sawExtra;

        @Override
        protected Tensor forward(Ctx ctx, Tensor... in) {
            ctx.output(in[0].mul(3));
            ctx.save(in[0]);
            return in[0].mul(2);
        }

        @Override
        protected Tensor[] backward(Ctx ctx, Tensor dOut) {
            calls++;
            Tensor extra = ctx.outputGrad(1);
            sawFirst = dOut != null;
            sawExtra = extra != null;
            Tensor dx = dOut == null ? extra.mul(3) : extra == null ? dOut.mul(2) : dOut.mul(2).add(extra.mul(3));
            return new Tensor[] {dx};
        }
    }

    @Test
    void bothGradientsArriveInOneBackwardCall() {
        Tensor x = Tensor.of(new double[] {1, -2}, 2).requiresGrad(true);
        TwoScales op = new TwoScales();
        Tensor[] out = op.applyAll(x);
        assertEquals(2, out.length);
        assertArrayEquals(new double[] {3, -6}, out[1].toDoubleArray());
        // L = Σ 5·(2x) + Σ 7·(3x) → dL/dx = 10 + 21
        out[0].mul(5).sum().add(out[1].mul(7).sum()).backward();
        assertEquals(1, op.calls);
        assertArrayEquals(new double[] {31, 31}, x.grad().toDoubleArray());
    }

    @Test
    void anExtraOutputAloneStillReachesTheInputs() {
        Tensor x = Tensor.of(new double[] {4}, 1).requiresGrad(true);
        TwoScales op = new TwoScales();
        Tensor[] out = op.applyAll(x);
        out[1].sum().backward();
        assertEquals(1, op.calls);
        assertEquals(false, op.sawFirst);
        assertArrayEquals(new double[] {3}, x.grad().toDoubleArray());
    }

    @Test
    void theFirstOutputAloneSeesNoExtraGradientAndSecondPassesStartClean() {
        Tensor x = Tensor.of(new double[] {4}, 1).requiresGrad(true);
        TwoScales op = new TwoScales();
        Tensor[] out = op.applyAll(x);
        Tensor both = out[0].sum().add(out[1].sum());
        Backward.run(both, Tensor.of(new double[] {1}), true);
        assertArrayEquals(new double[] {5}, x.grad().toDoubleArray());
        x.zeroGrad();
        Backward.run(out[0].sum(), Tensor.of(new double[] {1}), true);
        assertEquals(false, op.sawExtra, "the extra gradient of the first pass is not seen again");
        assertArrayEquals(new double[] {2}, x.grad().toDoubleArray());
        x.zeroGrad();
        both.backward();
        assertThrows(IllegalStateException.class, both::backward);
    }

    @Test
    void withoutGradientsNothingIsRecorded() {
        Tensor x = Tensor.of(new double[] {1}, 1);
        Tensor[] out = new TwoScales().applyAll(x);
        assertNull(out[0].node());
        assertNull(out[1].node());
    }
}
