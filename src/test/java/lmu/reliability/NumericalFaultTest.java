package lmu.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.nn.CtcModel;
import lmu.nn.Module;
import lmu.nn.ModelConfig;
import lmu.nn.SequenceLayer;
import lmu.nn.lmu.LmuSequenceLayers;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.train.BatchSource;
import lmu.train.Checkpoints;
import lmu.train.MetricsLog;
import lmu.train.TrainBatch;
import lmu.train.TrainConfig;
import lmu.train.Trainer;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Numerical faults injected into a real training loop, with no hook in the trainer: a NaN in a
 * batch's features makes the loss non-finite; an {@link InjectGradient} op placed after every
 * LMU layer leaves the forward pass (and the loss) untouched and writes an infinity into the
 * gradient flowing back on chosen backward passes. A step with a non-finite loss or gradient is
 * skipped (no weight changes), counted in the progress line and in metrics.jsonl, and the run
 * goes on; {@code train.max_bad_steps} consecutive bad steps stop the run with a message naming the
 * step and the last good checkpoint, which loads.
 */
class NumericalFaultTest {
    static final String MODEL = """
            model:
              input_dim: 8
              hidden: 16
              blocks: 1
              dropout: 0.0
              max_frames: 64
              attention: {heads: 2, dropout: 0.0}
              lmu: {memory_order: 4, theta: 8}
              downsample: {after: []}
              vocabulary: "abcd"
            """;
    static final int BATCHES = 4;

    @TempDir Path dir;

    /** Identity forward; on the backward passes listed in {@code faults} (1-based count) the gradient gets an infinity. */
    static final class InjectGradient extends Function {
        private final AtomicInteger backwardCalls;
        private final Set<Integer> faults;

        InjectGradient(AtomicInteger backwardCalls, Set<Integer> faults) {
            this.backwardCalls = backwardCalls;
            this.faults = faults;
        }

        @Override
        protected Tensor forward(Ctx ctx, Tensor... inputs) {
            return inputs[0].copy();
        }

        @Override
        protected Tensor[] backward(Ctx ctx, Tensor dOut) {
            Tensor g = dOut.copy();
            if (faults.contains(backwardCalls.incrementAndGet())) g.set(Float.POSITIVE_INFINITY, 0, 0, 0);
            return new Tensor[] {g};
        }
    }

    /** The project's LMU layer followed by {@link InjectGradient}. */
    static final class FaultyLayer extends Module implements SequenceLayer {
        private final SequenceLayer inner;
        private final AtomicInteger calls;
        private final Set<Integer> faults;

        FaultyLayer(SequenceLayer inner, AtomicInteger calls, Set<Integer> faults) {
            this.inner = inner;
            child("lmu", (Module) inner);
            this.calls = calls;
            this.faults = faults;
        }

        @Override
        public Tensor forward(Tensor x, int[] lengths) {
            return new InjectGradient(calls, faults).apply(inner.forward(x, lengths));
        }
    }

    /** Fixed random batches (B 2, T 12, F 8); the batches listed in {@code nanBatches} (1-based, over the run) hold a NaN. */
    static BatchSource batches(Set<Integer> nanBatches) {
        AtomicInteger served = new AtomicInteger();
        return new BatchSource() {
            @Override
            public Iterator<TrainBatch> epoch(int epoch, int skip) {
                List<TrainBatch> list = new ArrayList<>();
                for (int i = skip; i < BATCHES; i++) {
                    Rng rng = new Rng(100 + i);
                    float[] x = new float[2 * 12 * 8];
                    for (int k = 0; k < x.length; k++) x[k] = (float) rng.nextGaussian();
                    int[] labels = {1 + rng.nextInt(4), 1 + rng.nextInt(4), 1 + rng.nextInt(4), 1 + rng.nextInt(4), 1 + rng.nextInt(4), 0};
                    list.add(new TrainBatch(Tensor.of(x, 2, 12, 8), new int[] {12, 10}, labels, new int[] {3, 2},
                            new String[] {"u" + i, "v" + i}, new String[] {"", ""}, i + 1));
                }
                Iterator<TrainBatch> it = list.iterator();
                return new Iterator<>() {
                    public boolean hasNext() {
                        return it.hasNext();
                    }

                    public TrainBatch next() {
                        TrainBatch b = it.next();
                        if (nanBatches.contains(served.incrementAndGet())) b.features().set(Float.NaN, 0, 3, 2);
                        return b;
                    }
                };
            }

            @Override
            public int batchesPerEpoch() {
                return BATCHES;
            }
        };
    }

    private record Run(Trainer.Summary summary, String stdout) {}

    private Run train(int epochs, int maxBadSteps, Set<Integer> nanBatches, Set<Integer> gradientFaults) throws Exception {
        Map<String, Object> root = TrainConfig.parseYaml(new StringReader(MODEL), "test");
        TrainConfig.override(root, "train.epochs", epochs);
        TrainConfig.override(root, "train.max_bad_steps", maxBadSteps);
        TrainConfig.override(root, "train.log_every", 1);
        TrainConfig.override(root, "train.patience", 0);
        TrainConfig.override(root, "optim.warmup", 1);
        TrainConfig cfg = TrainConfig.resolve(root);
        ModelConfig mc = ModelConfig.parse(cfg.model());
        AtomicInteger calls = new AtomicInteger();
        SequenceLayer.Factory lmu = LmuSequenceLayers.factory(mc, DType.F32);
        CtcModel model = new CtcModel(mc, (block, c, frames, rng) -> new FaultyLayer(lmu.create(block, c, frames, rng), calls,
                gradientFaults), new Rng(7));
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        Trainer tr = new Trainer(cfg, model, batches(nanBatches), null, dir, new PrintStream(text, true, StandardCharsets.UTF_8), false);
        try (MetricsLog log = new MetricsLog(dir)) {
            return new Run(tr.run(log), text.toString(StandardCharsets.UTF_8));
        }
    }

    private JsonObject lastTrainRecord() throws Exception {
        JsonObject last = null;
        for (String line : Files.readAllLines(dir.resolve("metrics.jsonl"))) {
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            if (o.has("kind") && o.get("kind").getAsString().equals("train")) last = o;
        }
        return last;
    }

    @Test
    void nonFiniteLossOrGradientSkipsTheStepAndTheRunGoesOn() throws Exception {
        // backward pass 2: infinite gradient, finite loss; batch 6: NaN input, so NaN loss
        Run r = train(2, 3, Set.of(6), Set.of(2));
        assertEquals(Trainer.Stop.COMPLETED, r.summary.stop(), r.stdout);
        assertEquals(2 * BATCHES - 2, r.summary.step(), "two of the eight steps were skipped: " + r.stdout);
        JsonObject rec = lastTrainRecord();
        assertEquals(2, rec.get("skipped_steps").getAsLong(), rec.toString());
        assertTrue(r.stdout.contains("skipped 2"), r.stdout);
        for (double loss : r.summary.losses()) assertTrue(Double.isFinite(loss), "only finite losses were applied: " + r.summary.losses());
        Checkpoints.Loaded last = Checkpoints.load(dir.resolve(Checkpoints.epochName(2, false)));
        assertEquals(2, last.state().get("skipped_steps").getAsLong());
        for (float[] w : last.model().arrays().values()) {
            for (float v : w) assertTrue(Float.isFinite(v), "weights stay finite");
        }
    }

    @Test
    void persistentFaultsStopAfterMaxBadStepsNamingTheStepAndTheLastGoodCheckpoint() throws Exception {
        // every backward pass from the 6th on is bad: epoch 1 (4 steps) is saved, then step 5 succeeds, then 3 failures
        Set<Integer> always = new java.util.HashSet<>();
        for (int i = 6; i < 100; i++) always.add(i);
        Run r = train(5, 3, Set.of(), always);
        assertEquals(Trainer.Stop.DIVERGED, r.summary.stop(), r.stdout);
        assertEquals(5, r.summary.step());
        String ck = dir.resolve(Checkpoints.epochName(1, false)).toString();
        assertTrue(r.stdout.contains("stopping: 3 consecutive steps with non-finite loss or gradients (last at step 5)")
                && r.stdout.contains("last good checkpoint: " + ck), r.stdout);
        assertEquals(4, Checkpoints.load(Path.of(ck)).state().get("step").getAsLong(), "the named checkpoint loads");
    }
}
