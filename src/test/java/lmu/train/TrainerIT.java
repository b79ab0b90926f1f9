package lmu.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import lmu.nn.CtcModel;
import lmu.nn.ModelConfig;
import lmu.nn.lmu.LmuSequenceLayers;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training loop on a toy task: learning, checkpoints, exact resume (also mid-epoch). */
class TrainerIT {
    static final String MODEL = """
            model:
              input_dim: 8
              hidden: 16
              blocks: 1
              dropout: 0.1
              max_frames: 64
              attention: {heads: 2, dropout: 0.0}
              lmu: {memory_order: 4, theta: 8}
              downsample: {after: []}
              vocabulary: "abcd"
            """;

    @TempDir Path dir;

    private static TrainConfig config(int epochs, long maxSteps) {
        Map<String, Object> root = TrainConfig.parseYaml(new java.io.StringReader(MODEL), "test");
        TrainConfig.override(root, "train.epochs", epochs);
        TrainConfig.override(root, "train.max_steps", maxSteps);
        TrainConfig.override(root, "train.log_every", 1);
        TrainConfig.override(root, "train.patience", 0);
        TrainConfig.override(root, "optim.lr", 0.02);
        TrainConfig.override(root, "optim.warmup", 2);
        TrainConfig.override(root, "optim.schedule", "constant");
        return TrainConfig.resolve(root);
    }

    private static CtcModel model(TrainConfig cfg) {
        ModelConfig mc = ModelConfig.parse(cfg.model());
        return new CtcModel(mc, LmuSequenceLayers.factory(mc, DType.F32), new Rng(7));
    }

    private Trainer.Summary train(TrainConfig cfg, CtcModel m, Path out, boolean resume) throws Exception {
        SyntheticBatches data = new SyntheticBatches(6, 4, 5, 3);
        SyntheticBatches validData = new SyntheticBatches(2, 4, 5, 99);
        Trainer tr = new Trainer(cfg, m, data, () -> validData.epoch(1, 0), out, new PrintStream(new ByteArrayOutputStream()), false);
        if (resume) tr.resume(Checkpoints.latestGood(out, new ArrayList<>()));
        try (MetricsLog log = new MetricsLog(out)) {
            return tr.run(log);
        }
    }

    @Test
    void lossFallsAndCheckpointsAreWrittenEachEpoch() throws Exception {
        TrainConfig cfg = config(4, 0);
        CtcModel m = model(cfg);
        Trainer.Summary s = train(cfg, m, dir, false);
        assertEquals(Trainer.Stop.COMPLETED, s.stop());
        assertEquals(24, s.step());
        List<Double> l = s.losses();
        double first = (l.get(0) + l.get(1) + l.get(2)) / 3, last = (l.get(21) + l.get(22) + l.get(23)) / 3;
        assertTrue(last < 0.7 * first, "loss fell from " + first + " to " + last);
        assertTrue(Files.isDirectory(dir.resolve("checkpoint_epoch_4")));
        assertTrue(Checkpoints.list(dir).stream().anyMatch(Checkpoints.Entry::best));
        List<String> csv = Files.readAllLines(dir.resolve("metrics.csv"));
        assertEquals(MetricsLog.COLUMNS, List.of(csv.get(0).split(",")));
        assertEquals(24 + 4, csv.size() - 1, "one train row per step and one valid row per epoch");
    }

    @Test
    void resumeMidEpochEqualsAnUninterruptedRunBitForBit() throws Exception {
        Path a = dir.resolve("a"), b = dir.resolve("b");
        CtcModel full = model(config(2, 0));
        Trainer.Summary whole = train(config(2, 0), full, a, false);

        CtcModel part = model(config(2, 0));
        Trainer.Summary first = train(config(2, 4), part, b, false); // stops inside epoch 1 (6 batches)
        assertEquals(Trainer.Stop.MAX_STEPS, first.stop());
        assertTrue(Files.isDirectory(b.resolve("checkpoint_epoch_1_step_4")));
        CtcModel resumed = model(config(2, 0)); // fresh weights: everything must come from the checkpoint
        Trainer.Summary second = train(config(2, 0), resumed, b, true);
        assertEquals(whole.step(), second.step());

        List<Double> joined = new ArrayList<>(first.losses());
        joined.addAll(second.losses());
        assertEquals(whole.losses(), joined, "per-step losses identical");
        for (Map.Entry<String, Tensor> e : full.namedParameters().entrySet()) {
            assertArrayEquals(e.getValue().toFloatArray(), resumed.namedParameters().get(e.getKey()).toFloatArray(), e.getKey());
        }
    }

    @Test
    void gradientAccumulationAveragesMicroBatchesIntoOneStep() throws Exception {
        Map<String, Object> root = TrainConfig.parseYaml(new java.io.StringReader(MODEL.replace("dropout: 0.1", "dropout: 0.0")), "test");
        TrainConfig.override(root, "train.grad_accum", 2);
        TrainConfig.override(root, "train.epochs", 1);
        TrainConfig.override(root, "train.max_steps", 1);
        TrainConfig.override(root, "optim.clip_norm", 0);
        TrainConfig cfg = TrainConfig.resolve(root);
        SyntheticBatches data = new SyntheticBatches(6, 4, 5, 3);
        CtcModel trained = model(cfg);
        Trainer tr = new Trainer(cfg, trained, data, null, dir, new PrintStream(new ByteArrayOutputStream()), false);
        Trainer.Summary s;
        try (MetricsLog log = new MetricsLog(dir)) {
            s = tr.run(log);
        }
        assertEquals(1, s.step(), "two batches, one optimizer step");

        // the same step by hand: mean of the two batches' gradients, one AdamW update
        CtcModel manual = model(cfg);
        Iterator<TrainBatch> it = data.epoch(1, 0);
        for (int i = 0; i < 2; i++) {
            TrainBatch b = it.next();
            CtcModel.Output o = manual.forward(b.features(), b.frames());
            lmu.speech.ctc.CtcLossFunction.apply(lmu.speech.ctc.CtcLoss.batchMajor().withZeroInfinity(true), o.values(), o.lengths(),
                    b.labels(), b.labelLengths()).mul(0.5).backward();
        }
        lmu.optim.Adam opt = lmu.optim.Adam.adamW(manual.namedParameters(), cfg.optim().beta1(), cfg.optim().beta2(), cfg.optim().eps(),
                cfg.optim().weightDecay());
        try (lmu.autograd.GradMode g = lmu.autograd.GradMode.off()) {
            opt.step(lmu.optim.LrSchedule.warmupConstant(cfg.optim().lr(), cfg.optim().warmup()).lr(0));
        }
        for (Map.Entry<String, Tensor> e : manual.namedParameters().entrySet()) {
            assertArrayEquals(e.getValue().toFloatArray(), trained.namedParameters().get(e.getKey()).toFloatArray(), 1e-6f, e.getKey());
        }
    }

    @Test
    void divergingRunStopsAfterMaxBadStepsNamingTheLastGoodCheckpoint() throws Exception {
        Map<String, Object> root = TrainConfig.parseYaml(new java.io.StringReader(MODEL), "test");
        TrainConfig.override(root, "train.max_bad_steps", 3);
        TrainConfig.override(root, "train.epochs", 2);
        TrainConfig cfg = TrainConfig.resolve(root);
        CtcModel m = model(cfg);
        SyntheticBatches good = new SyntheticBatches(2, 2, 5, 3);
        BatchSource poisoned = new BatchSource() {
            @Override
            public Iterator<TrainBatch> epoch(int epoch, int skip) {
                Iterator<TrainBatch> it = good.epoch(epoch, skip);
                return new Iterator<>() {
                    public boolean hasNext() {
                        return epoch == 1 ? it.hasNext() : true;
                    }

                    public TrainBatch next() {
                        TrainBatch t = epoch == 1 ? it.next() : good.batch(0);
                        if (epoch > 1) t.features().set(Float.NaN, 0, 0, 0);
                        return t;
                    }
                };
            }

            @Override
            public int batchesPerEpoch() {
                return 2;
            }
        };
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        Trainer tr = new Trainer(cfg, m, poisoned, null, dir, new PrintStream(text), false);
        Trainer.Summary s;
        try (MetricsLog log = new MetricsLog(dir)) {
            s = tr.run(log);
        }
        assertEquals(Trainer.Stop.DIVERGED, s.stop());
        assertTrue(text.toString().contains("3 consecutive steps") && text.toString().contains("checkpoint_epoch_1"), text.toString());
    }
}
