package lmu.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import lmu.speech.text.Vocabulary;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;

class CtcModelTest {

    private static ModelConfig config(String extra) {
        return ModelConfig.fromYamlText("model:\n  input_dim: 6\n  hidden: 16\n  blocks: 2\n  dropout: 0\n"
                + "  attention: {heads: 4, dropout: 0}\n  downsample: {after: [1]}\n" + extra);
    }

    @Test
    void logitsShapeLengthsAndBlankBias() {
        ModelConfig cfg = config("  blank_bias: 3.5\n");
        CtcModel m = new CtcModel(cfg, CausalStandIn.factory(DType.F32), new Rng(1));
        CtcModel.Output o = m.forward(Tensor.randn(new Rng(2), DType.F32, 1, 2, 11, 6), new int[] {11, 4});
        assertArrayEquals(new int[] {2, 6, 29}, o.values().shape());
        assertArrayEquals(new int[] {6, 2}, o.lengths());
        Tensor bias = m.head().bias();
        assertEquals(3.5, bias.get(0), 1e-6);
        for (int v = 1; v < 29; v++) assertEquals(0.0, bias.get(v));
        assertSame(cfg.vocabulary(), m.vocabulary());
        assertEquals(Vocabulary.english(), m.vocabulary());
    }

    @Test
    void untrainedModelFavoursBlankWithDefaultBias() {
        CtcModel m = new CtcModel(config(""), CausalStandIn.factory(DType.F32), new Rng(3));
        m.train(false);
        CtcModel.Output lp = m.logProbs(Tensor.randn(new Rng(4), DType.F32, 1, 2, 20, 6), new int[] {20, 20});
        int b = lp.values().dim(0), t = lp.values().dim(1), v = lp.values().dim(2);
        double blank = 0;
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                double z = 0;
                for (int k = 0; k < v; k++) z += Math.exp(lp.values().get(i, j, k));
                assertEquals(1.0, z, 1e-5, "log-probabilities must normalise");
                blank += Math.exp(lp.values().get(i, j, 0)) / (b * t);
            }
        }
        // ln(0.7·28/0.3) aims at 0.7; random head weights spread the other logits a little
        assertTrue(blank > 0.5 && blank < 0.85, "mean blank probability " + blank);
    }

    @Test
    void parameterSummaryMatchesFormulas() {
        int c = 16, in = 6, v = 29, k = 3;
        CtcModel m = new CtcModel(config(""), CausalStandIn.factory(DType.F32), new Rng(5));
        Map<String, Long> s = m.parameterSummary();
        long block = 4L * (c * c + c) + 2 * 2L * c + CausalStandIn.parameterCount(c);
        assertEquals(List.of("encoder.input", "encoder.blocks.0", "encoder.downsample.0", "encoder.blocks.1",
                "encoder.final_norm", "head", "total"), List.copyOf(s.keySet()));
        assertEquals((long) in * c + c, s.get("encoder.input"));
        assertEquals(block, s.get("encoder.blocks.0"));
        assertEquals(block, s.get("encoder.blocks.1"));
        assertEquals((long) c * c * k + c, s.get("encoder.downsample.0"));
        assertEquals(2L * c, s.get("encoder.final_norm"));
        assertEquals((long) c * v + v, s.get("head"));
        long total = s.entrySet().stream().filter(e -> !e.getKey().equals("total")).mapToLong(Map.Entry::getValue).sum();
        assertEquals(total, s.get("total"));
        assertEquals(total, m.parameterCount());
        String table = m.parameterTable();
        assertTrue(table.contains("encoder.blocks.1") && table.contains(String.format(java.util.Locale.ROOT, "%,d", total)), table);
    }

    @Test
    void seedConfigBuildsWithTheRightShapes() {
        ModelConfig cfg = ModelConfig.fromYaml(java.nio.file.Path.of("configs/seed.yaml"));
        CtcModel m = new CtcModel(cfg, CausalStandIn.factory(DType.F32), new Rng(6));
        int c = 384;
        long withoutLmu = (80L * c + c) + 3 * (4L * (c * c + c) + 4L * c) + ((long) c * c * 3 + c) + 2L * c + (c * 29L + 29);
        assertEquals(withoutLmu + 3 * CausalStandIn.parameterCount(c), m.parameterCount());
        assertEquals(List.of("encoder", "head"), List.copyOf(m.children().keySet()));
        assertTrue(m.namedParameters().containsKey("encoder.blocks.2.attention.query.weight"));
    }
}
