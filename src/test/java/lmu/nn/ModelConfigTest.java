package lmu.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import lmu.speech.text.Vocabulary;
import org.junit.jupiter.api.Test;

class ModelConfigTest {

    @Test
    void seedConfigIsThePrototypeArchitecture() {
        ModelConfig c = ModelConfig.fromYaml(Path.of("configs/seed.yaml"));
        assertEquals(80, c.inputDim());
        assertEquals(384, c.hidden());
        assertEquals(3, c.blocks());
        assertEquals(6, c.heads());
        assertEquals(192, c.lmu().order());
        assertTrue(c.lmu().parallel());
        assertEquals(List.of(1), c.downsampleAfter());
        assertEquals(2, c.downsampleFactor());
        assertEquals(29, c.vocabSize());
        assertEquals(Vocabulary.english(), c.vocabulary());
        assertTrue(c.lmu().theta() >= c.lmu().order());
        assertEquals(ModelConfig.logPriorBias(0.7, 29), c.blankBias(), 0.005);
    }

    @Test
    void smallConfigParses() {
        ModelConfig c = ModelConfig.fromYaml(Path.of("configs/small.yaml"));
        assertEquals(128, c.hidden());
        assertEquals(2, c.blocks());
        assertEquals(4, c.heads());
        assertEquals(32, c.lmu().order());
        assertEquals(8, c.lmu().memoryD());
        assertTrue(c.lmu().inputToHidden());
    }

    @Test
    void defaultsWhenKeysAreAbsent() {
        ModelConfig c = ModelConfig.fromYamlText("model: {}\n");
        assertEquals(80, c.inputDim());
        assertEquals(384, c.hidden());
        assertTrue(c.preNorm());
        assertTrue(c.lmuFirst());
        assertEquals(0, c.feedForward());
        assertEquals(1e-5, c.layerNormEps());
        assertEquals(List.of(1), c.downsampleAfter());
        assertEquals(3, c.downsampleKernel());
        // ln(0.7 · 28 / 0.3): the blank then has probability 0.7 against 28 zero logits
        double b = c.blankBias();
        assertEquals(0.7, Math.exp(b) / (Math.exp(b) + 28), 1e-12);
        assertFalse(c.lmu().hiddenToMemory());
        assertTrue(c.lmu().hiddenBias());
    }

    @Test
    void otherSectionsAreIgnored() {
        ModelConfig c = ModelConfig.fromYamlText("optim: {lr: 1.0e-3, whatever: 1}\ntrain: {batch: 16}\nmodel: {hidden: 64, "
                + "attention: {heads: 4}}\n");
        assertEquals(64, c.hidden());
    }

    @Test
    void outputFramesFollowEveryDownsampling() {
        ModelConfig c = ModelConfig.fromYamlText("model: {blocks: 3, downsample: {after: [0, 1, 3]}}\n");
        // ceil(ceil(ceil(T/2)/2)/2)
        assertEquals(1, c.outputFrames(1));
        assertEquals(2, c.outputFrames(9));
        assertEquals(13, c.outputFrames(100));
        assertEquals(13, c.outputFrames(97));
        assertEquals(12, c.outputFrames(96));
        assertEquals(8, c.downsampleFactor());
        // max_frames 3000 → 1500 before block 1 → 750 from block 2 on
        assertEquals(1500, c.maxFramesAtBlock(0));
        assertEquals(750, c.maxFramesAtBlock(1));
        assertEquals(750, c.maxFramesAtBlock(2));
    }

    private static String error(String yaml) {
        return assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromYamlText(yaml)).getMessage();
    }

    @Test
    void errorsNameTheKey() {
        String heads = error("model: {hidden: 100, attention: {heads: 6}}\n");
        assertTrue(heads.contains("model.attention.heads") && heads.contains("100") && heads.contains("got 6"), heads);
        String order = error("model: {lmu: {memory_order: 0}}\n");
        assertTrue(order.contains("model.lmu.memory_order") && order.contains("got 0"), order);
        String theta = error("model: {lmu: {theta: -1}}\n");
        assertTrue(theta.contains("model.lmu.theta"), theta);
        String unknown = error("model: {hiden: 64}\n");
        assertTrue(unknown.contains("unknown key model.hiden"), unknown);
        String nestedUnknown = error("model: {lmu: {memory_ordr: 64}}\n");
        assertTrue(nestedUnknown.contains("unknown key model.lmu.memory_ordr"), nestedUnknown);
        String type = error("model: {blocks: three}\n");
        assertTrue(type.contains("model.blocks") && type.contains("integer"), type);
        String norm = error("model: {norm: middle}\n");
        assertTrue(norm.contains("model.norm") && norm.contains("pre, post"), norm);
        String dropout = error("model: {dropout: 1.0}\n");
        assertTrue(dropout.contains("model.dropout"), dropout);
        String after = error("model: {blocks: 2, downsample: {after: [3]}}\n");
        assertTrue(after.contains("model.downsample.after") && after.contains("[0, 2]"), after);
        String feedback = error("model: {lmu: {mode: parallel, hidden_to_memory: true}}\n");
        assertTrue(feedback.contains("model.lmu.mode") && feedback.contains("hidden_to_memory"), feedback);
        String vocabulary = error("model: {vocabulary: \"abca\"}\n");
        assertTrue(vocabulary.contains("model.vocabulary") && vocabulary.contains("duplicate"), vocabulary);
    }

    @Test
    void downsamplingThatLeavesNoFramesIsCaught() {
        String e = error("model: {max_frames: 10, blocks: 3, downsample: {after: [1, 2, 3], kernel: 5, stride: 2, padding: 0}}\n");
        // 10 → 3 → 0: the second step leaves nothing
        assertTrue(e.contains("model.downsample.after") && e.contains("step 2 of 3") && e.contains("model.max_frames = 10"), e);
    }

    @Test
    void recurrentModeAllowsFeedback() {
        ModelConfig c = ModelConfig.fromYamlText("model: {lmu: {mode: recurrent, hidden_to_memory: true, memory_to_memory: true}}\n");
        assertFalse(c.lmu().parallel());
        assertTrue(c.lmu().hiddenToMemory());
    }

    @Test
    void resolvedMapReadsBackToAnEqualConfig() {
        for (String yaml : new String[] {"model: {}\n", "model: {norm: post, block_order: attention_first, feed_forward: 32, "
                + "lmu_residual: false, lmu: {mode: recurrent, memory_to_memory: true, activation: relu, theta: 12.5}, "
                + "downsample: {after: [0, 2], kernel: 5, stride: 3, padding: 2}, vocabulary: \"ab c\", blank_bias: -1.5}\n"}) {
            ModelConfig c = ModelConfig.fromYamlText(yaml);
            ModelConfig back = ModelConfig.parse(new lmu.util.ConfigMap("model", c.toMap()));
            assertEquals(c, back, yaml);
        }
        ModelConfig seed = ModelConfig.fromYaml(Path.of("configs/seed.yaml"));
        String dumped = new org.yaml.snakeyaml.Yaml().dump(java.util.Map.of("model", seed.toMap()));
        assertEquals(seed, ModelConfig.fromYamlText(dumped), dumped);
    }
}
