package lmu.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import lmu.backend.Backends;
import lmu.backend.CtcKernels;
import lmu.speech.ctc.CtcLoss;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;

class CpuCtcKernelsTest {
    // utterance 1 is infeasible (3 labels, one repeat, 3 frames), utterance 2 empty
    private static final int[] IN = {6, 3, 0, 5};
    private static final int[] TARGETS = {1, 2, 3, 2, 2, 3, 0, 0, 0, 4, 1, 0};
    private static final int[] TGT = {3, 3, 0, 2};
    private static final int B = 4, T = 6, V = 5;

    @Test
    void theCpuBackendServesTheFamily() {
        assertSame(CpuCtcKernels.INSTANCE, Backends.kernels(Tensor.zeros(DType.F32, 1), CtcKernels.class));
    }

    @Test
    void sameValuesAsCtcLossFloat32() {
        for (CtcLoss.Reduction red : CtcLoss.Reduction.values()) {
            for (boolean zeroInf : new boolean[] {false, true}) {
                CtcLoss loss = new CtcLoss(CtcLoss.Layout.BATCH_MAJOR, red, zeroInf);
                Tensor x = Tensor.randn(new Rng(3), DType.F32, 2, B, T, V);
                float[] d = new float[B * T * V];
                CtcLoss.Result ref = loss.forwardBackward(x.f32(), x.shape(), IN, TARGETS, TGT, d, null);
                CtcKernels.Result r = CpuCtcKernels.INSTANCE.lossAndGradient(loss, x, IN, TARGETS, TGT, true);
                assertArrayEquals(ref.losses(), r.result().losses(), 0, red + " " + zeroInf);
                assertArrayEquals(new int[] {1}, r.result().infeasible());
                if (red != CtcLoss.Reduction.NONE) assertEquals(ref.loss(), r.result().loss(), 0);
                assertArrayEquals(d, r.dLogits().f32(), 0f);
                assertArrayEquals(x.shape(), r.dLogits().shape());
            }
        }
    }

    @Test
    void sameValuesAsCtcLossFloat64TimeMajorWithoutGradient() {
        CtcLoss loss = new CtcLoss(CtcLoss.Layout.TIME_MAJOR, CtcLoss.Reduction.SUM, true);
        Tensor x = Tensor.randn(new Rng(4), DType.F64, 1, T, B, V);
        CtcLoss.Result ref = loss.forward(x.f64(), x.shape(), IN, TARGETS, TGT);
        CtcKernels.Result r = CpuCtcKernels.INSTANCE.lossAndGradient(loss, x, IN, TARGETS, TGT, false);
        assertArrayEquals(ref.losses(), r.result().losses(), 0);
        assertEquals(ref.loss(), r.result().loss(), 0);
        assertNull(r.dLogits());
    }
}
