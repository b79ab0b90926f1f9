package lmu.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;
import lmu.backend.Backends;
import lmu.backend.sim.SimBackend;
import lmu.nn.CtcModel;
import lmu.nn.ModelConfig;
import lmu.nn.lmu.LmuSequenceLayers;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The training step captured once and replayed (what a CUDA graph does), on the simulated device,
 * whose recording freezes every launch with the argument values it had at capture: N eager steps
 * and 1 eager + 1 captured + N−2 replayed steps must give the same weights bit for bit, with
 * dropout, AdamW, clipping that scales every step, a learning rate that warms up and an fp16 loss
 * scale that changes every step. Any per-step value still passed to a launch as a host scalar
 * (a dropout seed, the learning rate, Adam's step, the loss scale) would be replayed stale and
 * change the weights.
 */
class CapturedStepTest {
    private static final Device GPU = Device.cuda(0);

    @TempDir Path dir;

    /** The model of {@link DeviceTrainingTest} with two blocks and a downsampling between them. */
    private static final String DOWNSAMPLED = DeviceTrainingTest.MODEL.replace("blocks: 1", "blocks: 2")
            .replace("after: []", "after: [0]");
    private String model = DeviceTrainingTest.MODEL;

    private TrainConfig config(int steps, String precision, String graphs) {
        Map<String, Object> root = TrainConfig.parseYaml(new java.io.StringReader(model), "test");
        TrainConfig.override(root, "train.epochs", 1);
        TrainConfig.override(root, "train.max_steps", steps);
        TrainConfig.override(root, "train.log_every", 1);
        TrainConfig.override(root, "train.patience", 0);
        TrainConfig.override(root, "train.mixed_precision", precision);
        TrainConfig.override(root, "train.cuda_graphs", graphs);
        TrainConfig.override(root, "train.loss_scale.growth_interval", 1); // the scale changes every step
        TrainConfig.override(root, "train.loss_scale.initial", 256);
        TrainConfig.override(root, "optim.lr", 0.02);
        TrainConfig.override(root, "optim.warmup", 4); // a new learning rate every step
        TrainConfig.override(root, "optim.clip_norm", 0.5); // every step clips
        TrainConfig.override(root, "optim.schedule", "constant");
        TrainConfig.override(root, "optim.eps", 1e-4);
        return TrainConfig.resolve(root);
    }

    /**
     * Steps whose batches repeat the frame lengths and labels of templates (letters of {@code
     * pattern}: A is 4 utterances, B 3) with new features every step: the same graph key, new data.
     */
    private static BatchSource repeating(String pattern) {
        return repeating(pattern, false);
    }

    /**
     * As {@link #repeating(String)}; with {@code relabel} every step also gets new labels (no
     * adjacent repeats, so every utterance stays feasible) and label lengths shortened by 0 or 1,
     * within the template's L: the same graph key, new CTC targets.
     */
    private static BatchSource repeating(String pattern, boolean relabel) {
        return repeating(pattern, relabel, false);
    }

    /**
     * As {@link #repeating(String, boolean)}; with {@code reframe} every step also shortens each
     * utterance's frame length by 0 to 2 frames (at least 1 frame kept): the same (B, T, L), new
     * frame lengths.
     */
    private static BatchSource repeating(String pattern, boolean relabel, boolean reframe) {
        TrainBatch a = new SyntheticBatches(1, 4, 5, 3).batch(0), b = new SyntheticBatches(1, 3, 5, 11).batch(0);
        return new BatchSource() {
            @Override
            public Iterator<TrainBatch> epoch(int epoch, int skip) {
                return new Iterator<>() {
                    int next = skip;

                    @Override
                    public boolean hasNext() {
                        return next < pattern.length();
                    }

                    @Override
                    public TrainBatch next() {
                        if (!hasNext()) throw new NoSuchElementException();
                        TrainBatch t = pattern.charAt(next) == 'A' ? a : b;
                        float[] x = t.features().toFloatArray();
                        Rng rng = new Rng(100 + next);
                        for (int i = 0; i < x.length; i++) x[i] += 0.2f * (float) rng.nextGaussian();
                        int[] labels = t.labels().clone(), lens = t.labelLengths().clone();
                        if (relabel) {
                            int l = labels.length / lens.length;
                            for (int u = 0; u < lens.length; u++) {
                                lens[u] = Math.max(0, lens[u] - rng.nextInt(2));
                                for (int j = 0; j < l; j++) {
                                    int v;
                                    do {
                                        v = 1 + rng.nextInt(4);
                                    } while (j > 0 && v == labels[u * l + j - 1]);
                                    labels[u * l + j] = v;
                                }
                            }
                        }
                        int[] frames = t.frames().clone();
                        if (reframe) {
                            for (int u = 0; u < frames.length; u++) frames[u] = Math.max(1, frames[u] - rng.nextInt(3));
                        }
                        next++;
                        return new TrainBatch(Tensor.of(x, t.features().shape()), frames, labels, lens, t.ids(),
                                t.texts(), next);
                    }
                };
            }

            @Override
            public int batchesPerEpoch() {
                return pattern.length();
            }
        };
    }

    private record Run(Map<String, float[]> weights, Trainer.Summary summary, long captured, long replays, String log) {}

    /** Trains on the simulated device, capture allowed or not; failAfter ≥ 0 makes the first capture fail. */
    private Run train(String pattern, String precision, String graphs, boolean capture, int failAfter, String name)
            throws Exception {
        return train(pattern, false, precision, graphs, capture, failAfter, name);
    }

    private Run train(String pattern, boolean relabel, String precision, String graphs, boolean capture, int failAfter,
            String name) throws Exception {
        return train(pattern, relabel, false, precision, graphs, capture, failAfter, name);
    }

    private Run train(String pattern, boolean relabel, boolean reframe, String precision, String graphs, boolean capture,
            int failAfter, String name) throws Exception {
        TrainConfig cfg = config(pattern.length(), precision, graphs);
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        try (SimBackend sim = SimBackend.install(0)) {
            sim.enableCapture(capture);
            sim.failNextCaptureAfter(failAfter);
            ModelConfig mc = ModelConfig.parse(cfg.model());
            CtcModel m = new CtcModel(mc, LmuSequenceLayers.factory(mc, DType.F32), new Rng(7));
            m.to(GPU);
            Trainer tr = new Trainer(cfg, m, repeating(pattern, relabel, reframe), null, dir.resolve(name),
                    new PrintStream(text, true, StandardCharsets.UTF_8), false);
            Trainer.Summary s = tr.run(null);
            Map<String, float[]> w = new LinkedHashMap<>();
            m.namedParameters().forEach((k, t) -> w.put(k, Backends.to(t, Device.CPU).toFloatArray()));
            return new Run(w, s, sim.capturedGraphs(), sim.replays(), text.toString(StandardCharsets.UTF_8));
        }
    }

    private static void assertSameWeights(Run expected, Run actual) {
        assertEquals(expected.weights().keySet(), actual.weights().keySet());
        for (String k : expected.weights().keySet()) assertArrayEquals(expected.weights().get(k), actual.weights().get(k), k);
        assertEquals(expected.summary().step(), actual.summary().step(), "optimizer steps taken");
    }

    @Test
    void oneEagerOneCapturedAndReplayedStepsGiveTheEagerWeightsBitForBit() throws Exception {
        Run eager = train("AAAAAA", "fp16", "auto", false, -1, "eager");
        Run graphs = train("AAAAAA", "fp16", "auto", true, -1, "graphs");
        assertEquals(0, eager.captured());
        assertEquals(1, graphs.captured(), graphs.log());
        assertEquals(5, graphs.replays(), "the captured step launched once, then 4 replays");
        assertSameWeights(eager, graphs);
        assertTrue(graphs.summary().step() >= 3, "most steps applied: " + graphs.summary().step());
        assertSameLosses(eager, graphs);
    }

    /** Every logged loss (eager, captured and replayed steps alike) equals the eager run's. */
    private static void assertSameLosses(Run expected, Run actual) {
        assertEquals(expected.summary().losses().size(), actual.summary().losses().size(), "logged losses");
        assertTrue(expected.summary().losses().size() >= 2, "losses logged: " + expected.summary().losses());
        for (int i = 0; i < expected.summary().losses().size(); i++) {
            double e = expected.summary().losses().get(i);
            assertTrue(Double.isFinite(e), "eager loss " + i + ": " + e);
            assertEquals(e, actual.summary().losses().get(i), 0.0, "loss of logged step " + i);
        }
    }

    @Test
    void batchesWithNewLabelsReplayOneGraphToTheEagerWeightsAndLosses() throws Exception {
        Run eager = train("AAAAAA", true, "fp16", "auto", false, -1, "eager");
        Run graphs = train("AAAAAA", true, "fp16", "auto", true, -1, "graphs");
        assertEquals(1, graphs.captured(), graphs.log());
        assertEquals(5, graphs.replays(), "one graph for every step after the warm-up");
        assertSameWeights(eager, graphs);
        assertSameLosses(eager, graphs);
        Run fp32 = train("AAAA", true, "off", "on", true, -1, "fp32");
        Run fp32Eager = train("AAAA", true, "off", "off", true, -1, "fp32-eager");
        assertEquals(1, fp32.captured());
        assertSameWeights(fp32Eager, fp32);
        assertSameLosses(fp32Eager, fp32);
    }

    /**
     * Batches of one (B, T, L) whose frame lengths change every step replay one graph to the eager
     * weights and losses: the lengths reach the model's kernels and masks from device tensors
     * written before each replay (a length frozen at capture would change the weights).
     */
    @Test
    void batchesWithNewFrameLengthsReplayOneGraphToTheEagerWeightsAndLosses() throws Exception {
        Run eager = train("AAAAAA", true, true, "fp16", "auto", false, -1, "eager");
        Run graphs = train("AAAAAA", true, true, "fp16", "auto", true, -1, "graphs");
        assertEquals(1, graphs.captured(), graphs.log());
        assertEquals(5, graphs.replays(), "one graph for every step after the warm-up");
        assertSameWeights(eager, graphs);
        assertSameLosses(eager, graphs);
        Run fp32 = train("AAAA", true, true, "off", "on", true, -1, "fp32");
        Run fp32Eager = train("AAAA", true, true, "off", "off", true, -1, "fp32-eager");
        assertEquals(1, fp32.captured());
        assertEquals(3, fp32.replays());
        assertSameWeights(fp32Eager, fp32);
        assertSameLosses(fp32Eager, fp32);
        model = DOWNSAMPLED; // two levels of lengths
        Run down = train("AAAA", true, true, "off", "on", true, -1, "down");
        Run downEager = train("AAAA", true, true, "off", "off", true, -1, "down-eager");
        assertEquals(1, down.captured(), down.log());
        assertEquals(3, down.replays());
        assertSameWeights(downEager, down);
        assertSameLosses(downEager, down);
    }

    @Test
    void fp32WithDropoutReplaysToTheEagerWeights() throws Exception {
        Run eager = train("AAAA", "off", "on", false, -1, "eager");
        Run graphs = train("AAAA", "off", "on", true, -1, "graphs");
        assertTrue(eager.log().contains("cuda graphs: off for this run (cuda:0 cannot capture)"), eager.log());
        assertEquals(1, graphs.captured());
        assertSameWeights(eager, graphs);
        assertEquals(4, graphs.summary().step());
    }

    @Test
    void aNewShapeRunsEagerlyUntilItIsSeenAgainAndOffKeepsEveryStepEager() throws Exception {
        Run eager = train("AABABAB", "fp16", "auto", false, -1, "eager");
        // A: warm-up, capture; B: warm-up (eager, a shape not captured); A: replay; B: capture; A, B: replays
        Run graphs = train("AABABAB", "fp16", "auto", true, -1, "graphs");
        assertEquals(2, graphs.captured());
        assertEquals(2 + 3, graphs.replays(), "two launches right after capture, three replays");
        assertSameWeights(eager, graphs);
        Run off = train("AABABAB", "fp16", "off", true, -1, "off");
        assertEquals(0, off.captured());
        assertSameWeights(eager, off);
    }

    @Test
    void aFailedCaptureIsReportedOnceAndTheRunGoesOnEagerlyWithTheSameWeights() throws Exception {
        Run eager = train("AAAAA", "fp16", "auto", false, -1, "eager");
        Run failed = train("AAAAA", "fp16", "auto", true, 40, "failed");
        assertEquals(0, failed.captured());
        assertSameWeights(eager, failed);
        String marker = "cuda graphs: capturing the step of batch 4 x 20 failed, training on with eager launches";
        assertTrue(failed.log().contains(marker), failed.log());
        assertEquals(failed.log().indexOf(marker), failed.log().lastIndexOf(marker), "reported once");
        assertTrue(failed.log().contains("cannot be captured (failNextCaptureAfter)"), failed.log());
    }

    @Test
    void benchStepWithCudaGraphsWarmsUpCapturesAndReplaysTheTrainersDeviceStep() {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        try (SimBackend sim = SimBackend.install(0)) {
            sim.enableCapture(true);
            double median = StepBenchmark.run(config(1, "off", "auto"), 2, 24, 2, 3, false, GPU, "on",
                    new PrintStream(text, true, StandardCharsets.UTF_8));
            assertTrue(median > 0);
            assertEquals(1, sim.capturedGraphs(), text.toString(StandardCharsets.UTF_8));
        }
        String out = text.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("step: the trainer's device step, cuda graphs on"), out);
        assertTrue(out.contains("cuda graphs: 1 captured, 3 steps replayed"), out);
    }
}
