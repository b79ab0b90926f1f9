package lmu.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import lmu.tensor.DType;
import lmu.tensor.HalfFloats;
import org.junit.jupiter.api.Test;

/**
 * The host side of the half-precision parity checks (the references and the registry); the checks
 * themselves need a GPU and run with {@code check --parity}.
 */
class HalfParityTest {
    @Test
    void referenceRoundingIsHalfFloats() {
        for (DType d : new DType[] {DType.F16, DType.BF16}) {
            float[] x = HalfParity.specialValues();
            float[] r = HalfParity.rounded(d, x);
            for (int i = 0; i < x.length; i++) {
                float want = HalfFloats.decode(d, HalfFloats.encode(d, x[i]));
                if (Float.isNaN(want)) assertTrue(Float.isNaN(r[i]), d + " " + x[i]);
                else assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(r[i]), d + " " + x[i]);
            }
        }
    }

    @Test
    void specialValuesCoverEveryBranchOfTheFp16Conversion() {
        float[] x = HalfParity.specialValues();
        boolean nan = false, inf = false, overflow = false, subnormal = false, underflow = false, tie = false;
        for (float v : x) {
            short h = HalfFloats.floatToF16(v);
            int exp = (h >>> 10) & 0x1F;
            nan |= Float.isNaN(v);
            inf |= Float.isInfinite(v);
            overflow |= Float.isFinite(v) && exp == 0x1F;
            subnormal |= exp == 0 && (h & 0x3FF) != 0;
            underflow |= v != 0 && (h & 0x7FFF) == 0;
            tie |= v == 1 + 0x1p-11f;
        }
        assertTrue(nan && inf && overflow && subnormal && underflow && tie);
    }

    @Test
    void checksAreRegisteredWithTheSuite() {
        List<ParityCheck> half = HalfParity.all();
        assertTrue(half.size() >= 30, "checks: " + half.size());
        List<String> names = CudaSelfTest.checks().stream().map(ParityCheck::name).toList();
        for (ParityCheck c : half) assertTrue(names.contains(c.name()), c.name());
        assertTrue(names.contains("half matmul f16->f32 b1 m127 n33 k1000 tA cublas"), names.toString());
        assertTrue(names.contains("half autocast bf16 matmul fwd+bwd vs CPU emulation"));
    }
}
