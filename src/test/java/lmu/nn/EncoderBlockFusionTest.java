package lmu.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import lmu.autograd.GradCheck;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;

/** The norms around a pre-LN block fused into its residual adds compute what running them after it computes. */
class EncoderBlockFusionTest {
    private static EncoderBlock block(ModelConfig cfg, long seed, DType dtype) {
        Rng rng = new Rng(seed);
        return new EncoderBlock(cfg, new CausalStandIn(cfg.hidden(), rng, dtype), rng, dtype);
    }

    @Test
    void passingTheNormsInEqualsApplyingThemAround() {
        for (String order : new String[] {"lmu_first", "attention_first"}) {
            for (boolean lmuResidual : new boolean[] {true, false}) {
                ModelConfig cfg = EncoderBlockTest.config(4, 2, "pre", lmuResidual ? 6 : 0, lmuResidual, order);
                EncoderBlock first = block(cfg, 40, DType.F64), second = block(cfg, 41, DType.F64);
                Tensor x = Tensor.randn(new Rng(42), DType.F64, 1, 2, 5, 4);
                int[] lengths = {5, 3};
                Tensor plain = second.forward(first.forward(x, lengths), lengths);
                Tensor[] a = first.forward(x, null, lengths, second.firstNorm());
                assertArrayEquals(second.firstNorm().forward(a[0]).toDoubleArray(), a[1].toDoubleArray(), 1e-12, order);
                Tensor[] b = second.forward(a[0], a[1], lengths, null);
                assertArrayEquals(plain.toDoubleArray(), b[0].toDoubleArray(), 1e-12, order);
                assertNull(b[1]);
            }
        }
    }

    @Test
    void gradientsThroughTwoFusedBlocksMatchFiniteDifferences() {
        ModelConfig cfg = EncoderBlockTest.config(4, 2, "pre", 0, true, "lmu_first");
        EncoderBlock first = block(cfg, 50, DType.F64), second = block(cfg, 51, DType.F64);
        LayerNorm last = new LayerNorm(4, 1e-5, DType.F64);
        Tensor x = GradCheck.leaf(new Rng(52), 2, 3, 4);
        int[] lengths = {3, 2};
        List<Tensor> leaves = new ArrayList<>(List.of(x));
        leaves.addAll(first.parameters());
        leaves.addAll(second.parameters());
        GradCheck.check("two fused pre-LN blocks", in -> {
            Tensor[] a = first.forward(in[0], null, lengths, second.firstNorm());
            return second.forward(a[0], a[1], lengths, last)[1];
        }, leaves.toArray(new Tensor[0]));
    }

    @Test
    void aPostNormBlockRefusesNorms() {
        ModelConfig cfg = EncoderBlockTest.config(4, 2, "post", 0, true, "lmu_first");
        EncoderBlock b = block(cfg, 60, DType.F64);
        Tensor x = Tensor.zeros(DType.F64, 1, 2, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> b.forward(x, null, new int[] {2}, new LayerNorm(4, 1e-5, DType.F64)));
        assertEquals("EncoderBlock: a post-LN block takes no norms from around it, got a next norm", e.getMessage());
    }
}
