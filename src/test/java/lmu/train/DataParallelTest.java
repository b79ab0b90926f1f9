package lmu.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import lmu.distributed.Ranks;
import lmu.nn.CtcModel;
import lmu.nn.ModelConfig;
import lmu.nn.lmu.LmuSequenceLayers;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** N in-process data-parallel replicas against one replica on the same global batches. */
class DataParallelTest {
    /**
     * Tolerance on the weights after {@link #STEPS} AdamW steps (lr 1e-3). The replicas sum
     * per-utterance gradients in another order than one replica, which changes float32 rounding
     * (about 1e-7 relative); measured: 1.5e-8 max abs difference. Adam's eps is 1e-3 here: with
     * the default 1e-9, a gradient that is zero up to rounding becomes a full ±lr step whose sign
     * is the rounding noise (measured 4e-4 to 9e-4 apart), which would hide real mistakes. A wrong
     * average (e.g. by the per-rank batch) moves weights by up to lr per step, far above this.
     */
    static final double TOLERANCE = 1e-6;
    static final int STEPS = 4;

    @TempDir Path dir;

    private static TrainConfig config(int batch) {
        Map<String, Object> root = TrainConfig.parseYaml(new StringReader(TrainerIT.MODEL), "test");
        TrainConfig.override(root, "model.dropout", 0.0);
        TrainConfig.override(root, "train.batch_size", batch);
        TrainConfig.override(root, "train.epochs", 1);
        TrainConfig.override(root, "train.max_steps", STEPS);
        TrainConfig.override(root, "train.patience", 0);
        TrainConfig.override(root, "train.log_every", 1);
        TrainConfig.override(root, "optim.lr", 1e-3);
        TrainConfig.override(root, "optim.warmup", 0);
        TrainConfig.override(root, "optim.eps", 1e-3);
        TrainConfig.override(root, "optim.schedule", "constant");
        return TrainConfig.resolve(root);
    }

    /** The model every replica would build from the run's seed; rank r > 0 gets another seed to show the broadcast works. */
    private static CtcModel model(TrainConfig cfg, long seed) {
        ModelConfig mc = ModelConfig.parse(cfg.model());
        return new CtcModel(mc, LmuSequenceLayers.factory(mc, DType.F32), new Rng(seed));
    }

    /** Rank r's slice of every batch of {@code all}: members [B r / n, B (r + 1) / n), as the sampler cuts. */
    static BatchSource slice(BatchSource all, int rank, int n) {
        return new BatchSource() {
            @Override
            public Iterator<TrainBatch> epoch(int epoch, int skip) {
                Iterator<TrainBatch> it = all.epoch(epoch, skip);
                return new Iterator<>() {
                    @Override
                    public boolean hasNext() {
                        return it.hasNext();
                    }

                    @Override
                    public TrainBatch next() {
                        TrainBatch b = it.next();
                        int size = b.size(), lo = size * rank / n, hi = size * (rank + 1) / n;
                        int t = b.features().dim(1), f = b.features().dim(2), l = b.labels().length / size;
                        float[] x = Arrays.copyOfRange(b.features().f32(), lo * t * f, hi * t * f);
                        return new TrainBatch(Tensor.of(x, hi - lo, t, f), Arrays.copyOfRange(b.frames(), lo, hi),
                                Arrays.copyOfRange(b.labels(), lo * l, hi * l), Arrays.copyOfRange(b.labelLengths(), lo, hi),
                                Arrays.copyOfRange(b.ids(), lo, hi), Arrays.copyOfRange(b.texts(), lo, hi), b.resumeAt());
                    }
                };
            }

            @Override
            public int batchesPerEpoch() {
                return all.batchesPerEpoch();
            }
        };
    }

    private static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream());
    }

    private static float[] weights(CtcModel m) {
        List<Tensor> ps = m.parameters();
        int n = 0;
        for (Tensor p : ps) n += p.numel();
        float[] w = new float[n];
        int at = 0;
        for (Tensor p : ps) {
            System.arraycopy(p.f32(), 0, w, at, p.numel());
            at += p.numel();
        }
        return w;
    }

    private float[] single(int batch, Path out) throws Exception {
        TrainConfig cfg = config(batch);
        CtcModel m = model(cfg, 7);
        Trainer tr = new Trainer(cfg, m, new SyntheticBatches(6, batch, 5, 3), null, out, quiet(), false);
        Trainer.Summary s = tr.run(null);
        assertEquals(STEPS, s.step());
        return weights(m);
    }

    private List<float[]> parallel(int batch, int n, Path out, long bucketBytes) {
        TrainConfig cfg = config(batch);
        return Ranks.run(n, Duration.ofSeconds(60), "dp-test", comm -> {
            CtcModel m = model(cfg, comm.rank() == 0 ? 7 : 100 + comm.rank());
            Trainer tr = new Trainer(cfg, m, slice(new SyntheticBatches(6, batch, 5, 3), comm.rank(), n), null, out, quiet(), false);
            DataParallel dp = new DataParallel(comm, m.parameters(), bucketBytes);
            if (bucketBytes < 1000) assertTrue(dp.buckets() > 1, "several buckets: " + dp.buckets());
            tr.dataParallel(dp);
            Trainer.Summary s = tr.run(null);
            assertEquals(STEPS, s.step());
            return weights(m);
        });
    }

    private static double maxDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        return d;
    }

    private void check(int batch, int n, long bucketBytes) throws Exception {
        float[] one = single(batch, dir.resolve("one"));
        float[] start = weights(model(config(batch), 7));
        assertTrue(maxDiff(one, start) > 10 * TOLERANCE, "training moved the weights by " + maxDiff(one, start));
        List<float[]> ranks = parallel(batch, n, dir.resolve("dp" + n), bucketBytes);
        for (int r = 0; r < n; r++) {
            assertEquals(0.0, maxDiff(ranks.get(0), ranks.get(r)), "rank " + r + " differs from rank 0: replicas must stay identical");
        }
        double d = maxDiff(one, ranks.get(0));
        System.out.printf("DataParallelTest: %d ranks, global batch %d: max abs weight difference to 1 rank after %d steps %.3g (moved %.3g)%n", n, batch, STEPS, d, maxDiff(one, start));
        assertTrue(d < TOLERANCE, n + " ranks vs 1 rank, global batch " + batch + ": max |dw| = " + d);
    }

    @Test
    void twoRanksMatchOneRank() throws Exception {
        check(8, 2, DataParallel.DEFAULT_BUCKET_BYTES);
    }

    @Test
    void fourRanksMatchOneRankWithSmallBucketsAndUnevenSlices() throws Exception {
        check(6, 4, 512); // slices of 1, 2, 1, 2 utterances; many buckets
    }

    /** {@code src} whose batch {@code at} (0-based, in epoch order) runs {@code action} first. */
    static BatchSource onBatch(BatchSource src, int at, Runnable action) {
        return new BatchSource() {
            @Override
            public Iterator<TrainBatch> epoch(int epoch, int skip) {
                Iterator<TrainBatch> it = src.epoch(epoch, skip);
                return new Iterator<>() {
                    int k = skip;

                    @Override
                    public boolean hasNext() {
                        return it.hasNext();
                    }

                    @Override
                    public TrainBatch next() {
                        if (k++ == at) action.run();
                        return it.next();
                    }
                };
            }

            @Override
            public int batchesPerEpoch() {
                return src.batchesPerEpoch();
            }
        };
    }

    private List<Trainer.Summary> runRanks(int batch, int n, Path out, int rankWithEvent, int at, Runnable event) {
        TrainConfig cfg = config(batch);
        return Ranks.run(n, Duration.ofSeconds(60), "dp-test", comm -> {
            CtcModel m = model(cfg, 7);
            BatchSource src = slice(new SyntheticBatches(6, batch, 5, 3), comm.rank(), n);
            if (comm.rank() == rankWithEvent) src = onBatch(src, at, event);
            Trainer tr = new Trainer(cfg, m, src, null, out, quiet(), false);
            tr.dataParallel(new DataParallel(comm, m.parameters(), DataParallel.DEFAULT_BUCKET_BYTES));
            return tr.run(null);
        });
    }

    @Test
    void aStopSignalStopsAllRanksAtTheSameStepAndRankZeroSaves() {
        Path out = dir.resolve("sig");
        // the signal arrives while rank 2 loads its batch; every rank stops after the same step
        try {
            List<Trainer.Summary> s = runRanks(4, 3, out, 2, 1, () -> StopSignal.request("SIGUSR1"));
            for (Trainer.Summary x : s) {
                assertEquals(Trainer.Stop.SIGNAL, x.stop());
                assertEquals(s.get(0).step(), x.step(), "every rank stops after the same step");
            }
            assertTrue(s.get(0).step() < STEPS);
            assertTrue(Files.isDirectory(out.resolve(Checkpoints.stepName(1, s.get(0).step()))), "rank 0 saved the stop checkpoint");
        } finally {
            StopSignal.clear();
        }
    }

    @Test
    void aRankThatThrowsEndsAllRanksWithItsError() {
        long t0 = System.nanoTime();
        Ranks.RankFailedException e = assertThrows(Ranks.RankFailedException.class,
                () -> runRanks(4, 2, dir.resolve("fail"), 1, 2, () -> {
                    throw new IllegalStateException("disk on fire");
                }));
        assertEquals(1, e.rank());
        assertTrue(e.getMessage().contains("disk on fire"), e.getMessage());
        assertTrue((System.nanoTime() - t0) / 1e9 < 30, "ended well before the 60 s collective timeout");
    }

    @Test
    void nonFiniteGradientsOnOneRankSkipTheStepOnAll() {
        TrainConfig cfg = config(4);
        List<float[]> w = Ranks.run(2, Duration.ofSeconds(60), "dp-test", comm -> {
            CtcModel m = model(cfg, 7);
            BatchSource src = slice(new SyntheticBatches(6, 4, 5, 3), comm.rank(), 2);
            if (comm.rank() == 1) {
                BatchSource clean = src;
                src = new BatchSource() { // rank 1's second batch has a NaN feature
                    @Override
                    public Iterator<TrainBatch> epoch(int epoch, int skip) {
                        Iterator<TrainBatch> it = clean.epoch(epoch, skip);
                        return new Iterator<>() {
                            int k = skip;

                            @Override
                            public boolean hasNext() {
                                return it.hasNext();
                            }

                            @Override
                            public TrainBatch next() {
                                TrainBatch b = it.next();
                                if (k++ == 1) b.features().f32()[0] = Float.NaN;
                                return b;
                            }
                        };
                    }

                    @Override
                    public int batchesPerEpoch() {
                        return clean.batchesPerEpoch();
                    }
                };
            }
            Trainer tr = new Trainer(cfg, m, src, null, dir.resolve("nan"), quiet(), false);
            tr.dataParallel(new DataParallel(comm, m.parameters(), DataParallel.DEFAULT_BUCKET_BYTES));
            Trainer.Summary s = tr.run(null);
            assertEquals(STEPS, s.step(), "the skipped batch does not count as a step");
            assertEquals(STEPS, s.losses().size());
            return weights(m);
        });
        assertEquals(0.0, maxDiff(w.get(0), w.get(1)), "both ranks skipped the same step");
    }

    @Test
    void resumeOnRankZeroAloneContinuesExactly() throws Exception {
        int batch = 4, n = 2;
        List<float[]> straight = parallel(batch, n, dir.resolve("straight"), DataParallel.DEFAULT_BUCKET_BYTES);
        Path out = dir.resolve("resumed");
        Map<String, Object> root = TrainConfig.parseYaml(new StringReader(config(batch).toYaml()), "test");
        TrainConfig.override(root, "train.max_steps", 2);
        TrainConfig first = TrainConfig.resolve(root);
        TrainConfig cfg = config(batch);
        for (TrainConfig c : List.of(first, cfg)) {
            List<float[]> w = Ranks.run(n, Duration.ofSeconds(60), "dp-test", comm -> {
                CtcModel m = model(c, comm.rank() == 0 ? 7 : 55);
                Trainer tr = new Trainer(c, m, slice(new SyntheticBatches(6, batch, 5, 3), comm.rank(), n), null, out, quiet(), false);
                if (c == cfg && comm.rank() == 0) tr.resume(Checkpoints.latestGood(out, new java.util.ArrayList<>())); // rank 0 only
                tr.dataParallel(new DataParallel(comm, m.parameters(), DataParallel.DEFAULT_BUCKET_BYTES));
                tr.run(null);
                return weights(m);
            });
            if (c == cfg) {
                for (float[] x : w) assertEquals(0.0, maxDiff(straight.get(0), x), "resumed replicas equal the uninterrupted run");
            }
        }
    }

    @Test
    void onlyRankZeroWritesCheckpoints() throws Exception {
        Path out = dir.resolve("ck");
        parallel(4, 2, out, DataParallel.DEFAULT_BUCKET_BYTES);
        try (var files = Files.list(out)) {
            List<String> names = files.map(p -> p.getFileName().toString()).toList();
            assertTrue(names.contains(Checkpoints.stepName(1, STEPS)), names.toString());
        }
    }
}
