package lmu.amp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;

/**
 * {@link Autocast#operand} and {@link Autocast#result} on the CPU (the emulation, equal to {@link
 * Autocast#half}) and the argument checks of the device-side conversions; their device behaviour is
 * checked by the CUDA parity suite ("half autocast ...").
 */
class HalfCastTest {
    private static float[] rounded(Precision p, float[] a) {
        float[] out = new float[a.length];
        p.round(a, 0, out, 0, a.length);
        return out;
    }

    @Test
    void onTheCpuOperandAndResultRoundValuesAndGradientsLikeHalf() {
        Rng rng = new Rng(3);
        for (Precision p : new Precision[] {Precision.FP16, Precision.BF16}) {
            Tensor x = Tensor.randn(rng, DType.F32, 3, 4, 33).requiresGrad(true);
            Tensor g = Tensor.randn(rng, DType.F32, 3, 4, 33);
            for (int which = 0; which < 2; which++) {
                x.zeroGrad();
                Tensor y;
                try (Autocast ac = Autocast.enable(p)) {
                    y = which == 0 ? Autocast.operand(x) : Autocast.result(x);
                }
                assertArrayEquals(rounded(p, x.f32()), y.f32(), p + " values");
                y.backward(g);
                assertArrayEquals(rounded(p, g.f32()), x.grad().f32(), p + " gradient");
            }
        }
    }

    @Test
    void leftAloneWhenOffForF64AndForNull() {
        Tensor x = Tensor.of(new float[] {1.0001f}, 1);
        Tensor d = Tensor.of(new double[] {1.0001}, 1);
        assertSame(x, Autocast.operand(x));
        assertSame(x, Autocast.result(x));
        try (Autocast ac = Autocast.enable(Precision.FP16)) {
            assertSame(d, Autocast.operand(d));
            assertSame(d, Autocast.result(d));
            assertSame(null, Autocast.operand(null));
            assertSame(null, Autocast.result(null));
        }
    }

    @Test
    void deviceConversionsRejectTheCpuAndF64() {
        Tensor x = Tensor.zeros(2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HalfCast.apply(x, DType.F16));
        assertTrue(e.getMessage().startsWith("HalfCast: the CPU has no 16-bit storage"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> HalfCast.apply(x, DType.F64));
        assertTrue(e.getMessage().contains("got F32 to F64"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> HalfGradient.apply(x, DType.F32));
        assertTrue(e.getMessage().contains("HalfGradient: format must be F16 or BF16, got F32"), e.getMessage());
    }
}
