package lmu.train;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import lmu.amp.DynamicLossScaler;
import lmu.nn.CtcModel;
import lmu.nn.ModelConfig;
import lmu.nn.lmu.LmuSequenceLayers;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training loop with mixed precision (CPU emulation): loss scaling, skips, metrics, resume, convergence. */
class MixedPrecisionIT {
    @TempDir Path dir;

    private static TrainConfig config(String precision, int epochs, long maxSteps, Map<String, Object> extra) {
        Map<String, Object> root = TrainConfig.parseYaml(new java.io.StringReader(TrainerIT.MODEL), "test");
        TrainConfig.override(root, "train.epochs", epochs);
        TrainConfig.override(root, "train.max_steps", maxSteps);
        TrainConfig.override(root, "train.log_every", 1);
        TrainConfig.override(root, "train.patience", 0);
        TrainConfig.override(root, "train.mixed_precision", precision);
        TrainConfig.override(root, "optim.lr", 0.02);
        TrainConfig.override(root, "optim.warmup", 2);
        TrainConfig.override(root, "optim.schedule", "constant");
        extra.forEach((k, v) -> TrainConfig.override(root, k, v));
        return TrainConfig.resolve(root);
    }

    private static CtcModel model(TrainConfig cfg) {
        ModelConfig mc = ModelConfig.parse(cfg.model());
        return new CtcModel(mc, LmuSequenceLayers.factory(mc, DType.F32), new Rng(7));
    }

    private record Run(Trainer trainer, Trainer.Summary summary, String text) {}

    private static Run train(TrainConfig cfg, CtcModel m, BatchSource data, Path out, boolean resume) throws Exception {
        return train(cfg, m, data, out, resume, true);
    }

    private static Run train(TrainConfig cfg, CtcModel m, BatchSource data, Path out, boolean resume, boolean validate)
            throws Exception {
        SyntheticBatches validData = new SyntheticBatches(2, 4, 5, 99);
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        Trainer tr = new Trainer(cfg, m, data, validate ? () -> validData.epoch(1, 0) : null, out, new PrintStream(text), false);
        if (resume) tr.resume(Checkpoints.latestGood(out, new ArrayList<>()));
        try (MetricsLog log = new MetricsLog(out)) {
            Trainer.Summary s = tr.run(log);
            return new Run(tr, s, text.toString());
        }
    }

    private static List<JsonObject> trainRows(Path out) throws Exception {
        List<JsonObject> rows = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            if (o.get("kind").getAsString().equals("train")) rows.add(o);
        }
        return rows;
    }

    private static Map<String, float[]> weights(CtcModel m) {
        Map<String, float[]> w = new java.util.LinkedHashMap<>();
        m.namedParameters().forEach((k, v) -> w.put(k, v.toFloatArray()));
        return w;
    }

    private static void assertSameWeights(Map<String, float[]> a, Map<String, float[]> b, String what) {
        for (String k : a.keySet()) assertArrayEquals(a.get(k), b.get(k), what + ": " + k);
    }

    @Test
    void overflowingStepsAreSkippedWithTheScaleHalvedAndTheWeightsUntouched() throws Exception {
        // a loss scale of 2^30 makes every fp16 gradient overflow; the scaler must walk it down
        TrainConfig cfg = config("fp16", 1, 1, Map.of("train.loss_scale.initial", 1 << 30, "train.loss_scale.max", 1 << 30));
        CtcModel m = model(cfg);
        Map<String, float[]> initial = weights(m);
        List<Map<String, float[]>> beforeBatch = new ArrayList<>();
        SyntheticBatches data = new SyntheticBatches(40, 4, 5, 3);
        BatchSource watched = new BatchSource() {
            @Override
            public Iterator<TrainBatch> epoch(int epoch, int skip) {
                Iterator<TrainBatch> it = data.epoch(epoch, skip);
                return new Iterator<>() {
                    public boolean hasNext() {
                        return it.hasNext();
                    }

                    public TrainBatch next() {
                        beforeBatch.add(weights(m));
                        return it.next();
                    }
                };
            }

            @Override
            public int batchesPerEpoch() {
                return data.batchesPerEpoch();
            }
        };
        Run r = train(cfg, m, watched, dir, false);
        assertEquals(Trainer.Stop.MAX_STEPS, r.summary().stop());
        assertEquals(1, r.summary().step());
        DynamicLossScaler s = r.trainer().lossScaler();
        long k = s.skipped();
        assertTrue(k >= 3 && k < 30, "skipped " + k + " steps");
        assertEquals(Math.scalb(1.0, 30 - (int) k), s.scale(), "halved once per skipped step");
        assertEquals(1, s.cleanSteps());
        assertEquals(k + 1, beforeBatch.size(), "one batch per skipped step, then the good one");
        for (int i = 1; i <= k; i++) assertSameWeights(initial, beforeBatch.get(i), "after skipped step " + i);
        assertNotEquals(initial.get("head.weight")[0], weights(m).get("head.weight")[0], "the good step changed the weights");

        List<JsonObject> rows = trainRows(dir);
        assertEquals(k + 1, rows.size(), "a row per skipped step and one for the good step");
        for (int i = 0; i < rows.size(); i++) {
            long skipped = Math.min(i + 1, k);
            assertEquals(skipped, rows.get(i).get("skipped_steps").getAsLong());
            assertEquals(Math.scalb(1.0, 30 - (int) skipped), rows.get(i).get("loss_scale").getAsDouble());
        }
        assertTrue(r.text().contains(" | scale " + (long) s.scale()) && r.text().contains(" | skipped " + k), r.text());
        assertFalse(r.text().contains("consecutive steps"), "overflow skips are not divergence");

        Path ck = dir.resolve("checkpoint_epoch_1_step_1");
        JsonObject state = Checkpoints.load(ck).state();
        assertEquals(1, state.get("optimizer_steps").getAsLong(), "skipped steps never reached AdamW");
        assertEquals(s.scale(), state.get("loss_scale").getAsDouble());
        assertEquals(k, state.get("loss_scale_skipped").getAsLong());
        assertEquals(1, state.get("loss_scale_clean_steps").getAsInt());
    }

    @Test
    void persistentNanStillStopsTheRunOnceTheScaleIsAtItsFloor() throws Exception {
        TrainConfig cfg = config("fp16", 3, 0, Map.of("train.loss_scale.initial", 4, "train.max_bad_steps", 3));
        SyntheticBatches good = new SyntheticBatches(6, 4, 5, 3);
        BatchSource poisoned = new BatchSource() {
            @Override
            public Iterator<TrainBatch> epoch(int epoch, int skip) {
                Iterator<TrainBatch> it = good.epoch(epoch, skip);
                return new Iterator<>() {
                    public boolean hasNext() {
                        return it.hasNext();
                    }

                    public TrainBatch next() {
                        TrainBatch t = it.next();
                        t.features().set(Float.NaN, 0, 0, 0);
                        return t;
                    }
                };
            }

            @Override
            public int batchesPerEpoch() {
                return good.batchesPerEpoch();
            }
        };
        Run r = train(cfg, model(cfg), poisoned, dir, false, false);
        assertEquals(Trainer.Stop.DIVERGED, r.summary().stop());
        // 4 -> 2 -> 1 absorbs two skips; at the floor three more count as bad steps
        assertEquals(5, r.trainer().lossScaler().skipped());
        assertEquals(1, r.trainer().lossScaler().scale());
        assertTrue(r.text().contains("3 consecutive steps"), r.text());
    }

    @Test
    void scaleDoublesAfterGrowthIntervalCleanStepsDuringTraining() throws Exception {
        TrainConfig cfg = config("fp16", 2, 7, Map.of("train.loss_scale.initial", 1024, "train.loss_scale.growth_interval", 3));
        Run r = train(cfg, model(cfg), new SyntheticBatches(6, 4, 5, 3), dir, false);
        assertEquals(0, r.trainer().lossScaler().skipped());
        double[] expected = {1024, 1024, 2048, 2048, 2048, 4096, 4096};
        List<JsonObject> rows = trainRows(dir);
        assertEquals(expected.length, rows.size());
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], rows.get(i).get("loss_scale").getAsDouble(), "after step " + (i + 1));
        }
        List<String> csv = Files.readAllLines(dir.resolve("metrics.csv"));
        int col = MetricsLog.COLUMNS.indexOf("loss_scale");
        assertEquals("4096.0", csv.get(csv.size() - 1).split(",")[col]);
    }

    @Test
    void fp16ResumeEqualsAnUninterruptedRunBitForBitScalerStateIncluded() throws Exception {
        Map<String, Object> ls = Map.of("train.loss_scale.initial", 1024, "train.loss_scale.growth_interval", 3);
        Path a = dir.resolve("a"), b = dir.resolve("b");
        CtcModel full = model(config("fp16", 2, 0, ls));
        Run whole = train(config("fp16", 2, 0, ls), full, new SyntheticBatches(6, 4, 5, 3), a, false);

        Run first = train(config("fp16", 2, 4, ls), model(config("fp16", 2, 0, ls)), new SyntheticBatches(6, 4, 5, 3), b, false);
        assertEquals(Trainer.Stop.MAX_STEPS, first.summary().stop());
        CtcModel resumed = model(config("fp16", 2, 0, ls));
        Run second = train(config("fp16", 2, 0, ls), resumed, new SyntheticBatches(6, 4, 5, 3), b, true);

        List<Double> joined = new ArrayList<>(first.summary().losses());
        joined.addAll(second.summary().losses());
        assertEquals(whole.summary().losses(), joined, "per-step losses identical");
        assertSameWeights(weights(full), weights(resumed), "final weights");
        DynamicLossScaler w = whole.trainer().lossScaler(), s = second.trainer().lossScaler();
        assertEquals(12, whole.summary().step());
        assertEquals(w.scale(), s.scale());
        assertEquals(w.cleanSteps(), s.cleanSteps(), "the clean-step count continues across the resume");
        assertEquals(w.skipped(), s.skipped());
    }

    /** Mean loss of the last three steps. */
    private static double finalLoss(Trainer.Summary s) {
        List<Double> l = s.losses();
        return (l.get(l.size() - 1) + l.get(l.size() - 2) + l.get(l.size() - 3)) / 3;
    }

    @Test
    void fp16WithTheDefaultScaleSkipsOnlyItsFirstStepsAndConverges() throws Exception {
        TrainConfig cfg = config("fp16", 4, 0, Map.of());
        Run r = train(cfg, model(cfg), new SyntheticBatches(6, 4, 5, 3), dir, false, false);
        long skipped = r.trainer().lossScaler().skipped();
        assertTrue(skipped >= 1 && skipped <= 4, "2^16 overflows the first gradients of this model; skipped " + skipped);
        assertEquals(24 - skipped, r.summary().step());
        assertEquals(Math.scalb(65536.0, (int) -skipped), r.trainer().lossScaler().scale());
        List<Double> l = r.summary().losses();
        double first = (l.get(0) + l.get(1) + l.get(2)) / 3;
        assertTrue(finalLoss(r.summary()) < 0.7 * first, "loss fell from " + first + " to " + finalLoss(r.summary()));
    }

    @Test
    void halfPrecisionTrainingConvergesAndTracksFp32() throws Exception {
        Map<String, Double> last = new java.util.LinkedHashMap<>();
        for (String p : new String[] {"off", "fp16", "bf16"}) {
            // fp16 starts at scale 2^10, low enough that no step overflows: both runs then take the same 24 steps on
            // the same batches and differ only by rounding (with 2^16 the first steps are skipped, tested above)
            TrainConfig cfg = config(p, 4, 0, Map.of("train.loss_scale.initial", 1024));
            Run r = train(cfg, model(cfg), new SyntheticBatches(6, 4, 5, 3), dir.resolve(p), false, false);
            assertEquals(24, r.summary().step(), p);
            List<Double> l = r.summary().losses();
            double first = (l.get(0) + l.get(1) + l.get(2)) / 3;
            last.put(p, finalLoss(r.summary()));
            assertTrue(last.get(p) < 0.7 * first, p + ": loss fell from " + first + " to " + last.get(p));
            assertEquals(p.equals("fp16"), trainRows(dir.resolve(p)).get(0).has("loss_scale"), p);
        }
        System.out.println("final loss (mean of the last 3 of 24 steps): " + last);
        // Tolerance: fp16 within 1% of fp32, bf16 within 3%. One rounding changes a value by at most 2^-11 (fp16) or
        // 2^-8 (bf16) relative; 24 steps of a well-conditioned task accumulate a few tens of such errors at most, far
        // below the 30% fall of the loss these runs must show. Measured when written: 0.02% (fp16), 0.14% (bf16).
        double ref = last.get("off");
        assertEquals(ref, last.get("fp16"), 0.01 * ref, "fp16 tracks fp32");
        assertEquals(ref, last.get("bf16"), 0.03 * ref, "bf16 tracks fp32");
        assertNotEquals(ref, last.get("fp16"), "fp16 emulation must change the numbers");
    }
}
