package lmu.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import lmu.autograd.GradCheck;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;

class EncoderBlockTest {

    static ModelConfig config(int hidden, int heads, String norm, int feedForward, boolean lmuResidual, String order) {
        return ModelConfig.fromYamlText("model:\n  input_dim: 5\n  hidden: " + hidden + "\n  blocks: 1\n  norm: " + norm
                + "\n  feed_forward: " + feedForward + "\n  lmu_residual: " + lmuResidual + "\n  block_order: " + order
                + "\n  dropout: 0\n  attention: {heads: " + heads + ", dropout: 0}\n");
    }

    private static void gradCheck(ModelConfig cfg) {
        Rng rng = new Rng(21);
        EncoderBlock block = new EncoderBlock(cfg, new CausalStandIn(cfg.hidden(), rng, DType.F64), rng, DType.F64);
        Tensor x = GradCheck.leaf(new Rng(22), 2, 4, cfg.hidden());
        int[] lengths = {4, 3};
        List<Tensor> leaves = new ArrayList<>();
        leaves.add(x);
        leaves.addAll(block.parameters());
        GradCheck.check("EncoderBlock " + cfg.describe(), in -> block.forward(in[0], lengths), leaves.toArray(new Tensor[0]));
    }

    @Test
    void gradientPreNormWithFeedForward() {
        gradCheck(config(4, 2, "pre", 6, true, "lmu_first"));
    }

    @Test
    void gradientPostNormAttentionFirstNoLmuResidual() {
        gradCheck(config(4, 2, "post", 0, false, "attention_first"));
    }

    @Test
    void preNormEqualsItsFormula() {
        ModelConfig cfg = config(4, 2, "pre", 0, true, "lmu_first");
        Rng rng = new Rng(30);
        CausalStandIn lmu = new CausalStandIn(4, rng, DType.F64);
        EncoderBlock block = new EncoderBlock(cfg, lmu, rng, DType.F64);
        Tensor x = Tensor.randn(new Rng(31), DType.F64, 1, 2, 5, 4);
        int[] lengths = {5, 2};
        var p = block.namedParameters();
        LayerNormRef lmuNorm = new LayerNormRef(p.get("lmu_norm.weight"), p.get("lmu_norm.bias"), cfg.layerNormEps());
        LayerNormRef attNorm = new LayerNormRef(p.get("attention_norm.weight"), p.get("attention_norm.bias"), cfg.layerNormEps());
        // x1 = x + lmu(LN(x)); x2 = x1 + attention(LN(x1))
        Tensor x1 = x.add(lmu.forward(lmuNorm.apply(x), lengths));
        Tensor x2 = x1.add(block.attention().forward(attNorm.apply(x1), lengths));
        assertArrayEquals(x2.toDoubleArray(), block.forward(x, lengths).toDoubleArray(), 1e-12);
    }

    @Test
    void postNormWithoutLmuResidualEqualsItsFormula() {
        ModelConfig cfg = config(4, 2, "post", 0, false, "attention_first");
        Rng rng = new Rng(32);
        CausalStandIn lmu = new CausalStandIn(4, rng, DType.F64);
        EncoderBlock block = new EncoderBlock(cfg, lmu, rng, DType.F64);
        Tensor x = Tensor.randn(new Rng(33), DType.F64, 1, 2, 5, 4);
        int[] lengths = {5, 3};
        var p = block.namedParameters();
        LayerNormRef lmuNorm = new LayerNormRef(p.get("lmu_norm.weight"), p.get("lmu_norm.bias"), cfg.layerNormEps());
        LayerNormRef attNorm = new LayerNormRef(p.get("attention_norm.weight"), p.get("attention_norm.bias"), cfg.layerNormEps());
        // x1 = LN(x + attention(x)); x2 = LN(lmu(x1))
        Tensor x1 = attNorm.apply(x.add(block.attention().forward(x, lengths)));
        Tensor x2 = lmuNorm.apply(lmu.forward(x1, lengths));
        assertArrayEquals(x2.toDoubleArray(), block.forward(x, lengths).toDoubleArray(), 1e-12);
    }

    /** Layer norm over the last axis written out in doubles. */
    private record LayerNormRef(Tensor weight, Tensor bias, double eps) {
        Tensor apply(Tensor x) {
            int c = x.dim(-1);
            double[] in = x.toDoubleArray(), out = new double[in.length];
            for (int r = 0; r < in.length / c; r++) {
                double mean = 0, var = 0;
                for (int i = 0; i < c; i++) mean += in[r * c + i] / c;
                for (int i = 0; i < c; i++) var += (in[r * c + i] - mean) * (in[r * c + i] - mean) / c;
                for (int i = 0; i < c; i++) {
                    out[r * c + i] = (in[r * c + i] - mean) / Math.sqrt(var + eps) * weight.get(i) + bias.get(i);
                }
            }
            return Tensor.of(out, x.shape());
        }
    }

    @Test
    void parameterNamesAndCount() {
        int c = 8, ff = 16;
        ModelConfig cfg = config(c, 2, "pre", ff, true, "lmu_first");
        Rng rng = new Rng(1);
        EncoderBlock block = new EncoderBlock(cfg, new CausalStandIn(c, rng, DType.F32), rng, DType.F32);
        long attention = 4L * (c * c + c), norm = 2L * c, feedForward = (long) c * ff + ff + (long) ff * c + c;
        assertEquals(attention + 3 * norm + feedForward + CausalStandIn.parameterCount(c), block.parameterCount());
        assertEquals(List.of("lmu", "lmu_norm", "attention", "attention_norm", "feed_forward", "feed_forward_norm", "dropout"),
                List.copyOf(block.children().keySet()));
        assertTrue(block.namedParameters().containsKey("lmu.current.weight"));
    }

    @Test
    void sequenceLayerMustBeAModule() {
        SequenceLayer notModule = (x, lengths) -> x;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new EncoderBlock(config(4, 2, "pre", 0, true, "lmu_first"), notModule, new Rng(1), DType.F32));
        assertTrue(e.getMessage().contains("must be a Module"), e.getMessage());
    }
}
