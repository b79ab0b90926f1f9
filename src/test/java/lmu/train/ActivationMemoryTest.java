package lmu.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import lmu.amp.Precision;
import lmu.nn.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The activation estimate of the dry run and the precision line of the session header. */
class ActivationMemoryTest {
    @TempDir Path dir;

    private static TrainConfig config(String yamlFile, String precision) throws Exception {
        Map<String, Object> root = TrainConfig.loadYaml(Path.of(yamlFile));
        TrainConfig.override(root, "train.mixed_precision", precision);
        return TrainConfig.resolve(root);
    }

    private static ModelConfig tiny(int blocks, String downsample) {
        Map<String, Object> root = TrainConfig.parseYaml(new java.io.StringReader(TrainerIT.MODEL
                .replace("blocks: 1", "blocks: " + blocks).replace("after: []", "after: " + downsample)), "test");
        return ModelConfig.parse(TrainConfig.resolve(root).model());
    }

    @Test
    void halfPrecisionStoresTheHalfElementsInTwoBytes() {
        ActivationMemory a = ActivationMemory.estimate(tiny(2, "[1]"), 3, 50);
        assertEquals(4 * (a.halfElements() + a.fp32Elements()), a.bytes(Precision.OFF));
        assertEquals(2 * a.halfElements() + 4 * a.fp32Elements(), a.bytes(Precision.FP16));
        assertEquals(a.bytes(Precision.FP16), a.bytes(Precision.BF16));
    }

    @Test
    void estimateIsLinearInBatchAndHasTheAttentionTermQuadraticInFrames() {
        ModelConfig m = tiny(1, "[]"); // 1 block, 16 channels, 2 heads, no downsampling, no feed-forward
        ActivationMemory one = ActivationMemory.estimate(m, 1, 40), four = ActivationMemory.estimate(m, 4, 40);
        assertEquals(4 * one.halfElements(), four.halfElements());
        assertEquals(4 * one.fp32Elements(), four.fp32Elements());
        // f(2T) - 2 f(T) leaves only the T² term: the attention probabilities, 2 heads × (2T)² - 2 × 2 heads × T²
        ActivationMemory t = ActivationMemory.estimate(m, 1, 40), t2 = ActivationMemory.estimate(m, 1, 80);
        long quad = 2L * 80 * 80 - 2 * (2L * 40 * 40);
        assertEquals(quad, t2.halfElements() - 2 * t.halfElements(), "probabilities, stored in half precision");
        assertEquals(0, t2.fp32Elements() - 2 * t.fp32Elements(), "nothing of size T² stays fp32");
    }

    @Test
    void downsamplingShrinksLaterBlocks() {
        ActivationMemory without = ActivationMemory.estimate(tiny(2, "[]"), 2, 60);
        ActivationMemory with = ActivationMemory.estimate(tiny(2, "[1]"), 2, 60);
        assertTrue(with.bytes(Precision.OFF) < without.bytes(Precision.OFF));
        assertThrows(IllegalArgumentException.class, () -> ActivationMemory.estimate(tiny(1, "[]"), 0, 10));
    }

    @Test
    void seedConfigAtBatch96RoughlyHalvesInFp16() throws Exception {
        ModelConfig seed = ModelConfig.parse(config("configs/seed.yaml", "fp16").model());
        ActivationMemory a = ActivationMemory.estimate(seed, 96, 1500);
        double ratio = (double) a.bytes(Precision.FP16) / a.bytes(Precision.OFF);
        System.out.printf("seed.yaml, batch 96 x 1500 frames: fp32 %.0f MiB, fp16 %.0f MiB (ratio %.3f)%n",
                a.bytes(Precision.OFF) / 1048576.0, a.bytes(Precision.FP16) / 1048576.0, ratio);
        assertTrue(ratio > 0.5 && ratio < 0.65, "ratio " + ratio);
    }

    @Test
    void dryRunPrintsTheActivationEstimateAtTheRunsPrecision() throws Exception {
        for (String p : new String[] {"fp16", "off"}) {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            TrainSession.run(config("configs/small.yaml", p), new TrainSession.Options(dir, "none", true, false, null),
                    new PrintStream(buf, true, StandardCharsets.UTF_8));
            String out = buf.toString(StandardCharsets.UTF_8);
            assertTrue(out.contains("activation memory estimate: "), out);
            if (p.equals("fp16")) {
                assertTrue(out.contains("(fp16 operands); ") && out.contains("MiB in fp32"), out);
                assertTrue(out.contains("mixed precision: fp16 emulated on the CPU"), out);
            } else {
                assertTrue(out.contains("frames (fp32)") && out.contains("mixed precision: off"), out);
            }
        }
    }

    @Test
    void precisionLineSaysWhatRuns() throws Exception {
        assertEquals("off (auto chooses fp16 on a GPU only)", TrainSession.describePrecision(config("configs/small.yaml", "auto").train()));
        assertTrue(TrainSession.describePrecision(config("configs/small.yaml", "bf16").train()).endsWith("; no loss scaling"));
        String fp16 = TrainSession.describePrecision(config("configs/small.yaml", "fp16").train());
        assertTrue(fp16.contains("dynamic loss scale from 65536, x2 after 2000 clean steps"), fp16);
    }

    @Test
    void measurementCommandRejectsBadFlagsBeforeTouchingTheGpu() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ActivationMemory.main(new String[] {"--batch", "96"}));
        assertTrue(e.getMessage().contains("unknown flag --batch (expected --config, --batch-size"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ActivationMemory.main(new String[] {"--frames"}));
        assertTrue(e.getMessage().contains("--frames needs a value"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ActivationMemory.main(new String[] {"--precisions", "fp8"}));
        assertTrue(e.getMessage().contains("got 'fp8'"), e.getMessage());
    }
}
