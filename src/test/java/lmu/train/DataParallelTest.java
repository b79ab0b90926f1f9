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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.backend.Backends;
import lmu.backend.sim.SimBackend;
import lmu.distributed.Communicator;
import lmu.distributed.Ranks;
import lmu.nn.CtcModel;
import lmu.nn.ModelConfig;
import lmu.nn.lmu.LmuSequenceLayers;
import lmu.tensor.DType;
import lmu.tensor.Device;
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
        return config(batch, 1);
    }

    private static TrainConfig config(int batch, int accum) {
        Map<String, Object> root = TrainConfig.parseYaml(new StringReader(TrainerIT.MODEL), "test");
        TrainConfig.override(root, "train.grad_accum", accum);
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

    /** Enough batches for {@link #STEPS} steps of {@code accum} micro-batches, and two more. */
    private static SyntheticBatches batches(int batch, int accum) {
        return new SyntheticBatches(STEPS * accum + 2, batch, 5, 3);
    }

    private float[] single(int batch, int accum, Path out) throws Exception {
        TrainConfig cfg = config(batch, accum);
        CtcModel m = model(cfg, 7);
        Trainer tr = new Trainer(cfg, m, batches(batch, accum), null, out, quiet(), false);
        Trainer.Summary s = tr.run(null);
        assertEquals(STEPS, s.step());
        return weights(m);
    }

    private List<float[]> parallel(int batch, int n, Path out, long bucketBytes) {
        return parallel(batch, 1, n, out, bucketBytes);
    }

    private List<float[]> parallel(int batch, int accum, int n, Path out, long bucketBytes) {
        TrainConfig cfg = config(batch, accum);
        return Ranks.run(n, Duration.ofSeconds(60), "dp-test", comm -> {
            CtcModel m = model(cfg, comm.rank() == 0 ? 7 : 100 + comm.rank());
            Trainer tr = new Trainer(cfg, m, slice(batches(batch, accum), comm.rank(), n), null, out, quiet(), false);
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
        check(batch, 1, n, bucketBytes);
    }

    private void check(int batch, int accum, int n, long bucketBytes) throws Exception {
        float[] one = single(batch, accum, dir.resolve("one"));
        float[] start = weights(model(config(batch), 7));
        assertTrue(maxDiff(one, start) > 10 * TOLERANCE, "training moved the weights by " + maxDiff(one, start));
        List<float[]> ranks = parallel(batch, accum, n, dir.resolve("dp" + n), bucketBytes);
        for (int r = 0; r < n; r++) {
            assertEquals(0.0, maxDiff(ranks.get(0), ranks.get(r)), "rank " + r + " differs from rank 0: replicas must stay identical");
        }
        double d = maxDiff(one, ranks.get(0));
        System.out.printf("DataParallelTest: %d ranks, global batch %d, grad_accum %d: max abs weight difference to 1 rank after %d steps %.3g (moved %.3g)%n", n, batch, accum, STEPS, d, maxDiff(one, start));
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

    @Test
    void twoRanksWithGradientAccumulationMatchOneRank() throws Exception {
        check(8, 2, 2, DataParallel.DEFAULT_BUCKET_BYTES);
    }

    @Test
    void fourRanksWithGradientAccumulationAndSmallBucketsMatchOneRank() throws Exception {
        check(6, 3, 4, 512);
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

    /** Passes everything to {@code inner}; runs {@code onFloatAllReduce} as each float32 all-reduce (a gradient bucket) begins. */
    static final class Recording implements Communicator {
        private final Communicator inner;
        private final Runnable onFloatAllReduce;

        Recording(Communicator inner, Runnable onFloatAllReduce) {
            this.inner = inner;
            this.onFloatAllReduce = onFloatAllReduce;
        }

        @Override public int rank() { return inner.rank(); }
        @Override public int size() { return inner.size(); }
        @Override public Duration timeout() { return inner.timeout(); }
        @Override public void allReduce(double[] buf, int off, int len, Op op) { inner.allReduce(buf, off, len, op); }
        @Override public void broadcast(float[] buf, int off, int len, int root) { inner.broadcast(buf, off, len, root); }
        @Override public void broadcast(double[] buf, int off, int len, int root) { inner.broadcast(buf, off, len, root); }
        @Override public void allGather(float[] send, float[] recv) { inner.allGather(send, recv); }
        @Override public void allGather(double[] send, double[] recv) { inner.allGather(send, recv); }
        @Override public void barrier() { inner.barrier(); }
        @Override public void abort(Throwable cause) { inner.abort(cause); }
        @Override public void close() { inner.close(); }

        @Override
        public void allReduce(float[] buf, int off, int len, Op op) {
            onFloatAllReduce.run();
            inner.allReduce(buf, off, len, op);
        }
    }

    /** Identity whose backward first waits (bounded) until {@code started} opened, then logs whether it had. */
    static final class Gate extends Function {
        private final CountDownLatch started;
        private final List<String> log;

        Gate(CountDownLatch started, List<String> log) {
            this.started = started;
            this.log = log;
        }

        @Override
        protected Tensor forward(Ctx ctx, Tensor... inputs) {
            return inputs[0].copy();
        }

        @Override
        protected Tensor[] backward(Ctx ctx, Tensor dOut) {
            boolean open;
            try {
                open = started.await(20, TimeUnit.SECONDS); // a bound against a hang, not a measurement
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            log.add(open ? "gate backward, after a reduction started" : "gate backward, no reduction started");
            return new Tensor[] {dOut.copy()};
        }
    }

    /**
     * loss = sum(gate(x * w1) * w2) with one bucket per parameter: backward finishes w2's gradient
     * first, so bucket 0 (w2, the last parameter) must start its all-reduce before backward goes
     * through the gate, which waits for that start; bucket 1 (w1) follows. Gradients are the mean
     * over ranks of the closed forms dL/dw1 = x * w2, dL/dw2 = x * w1.
     */
    @Test
    void theFirstBucketIsReducedWhileBackwardStillRuns() {
        overlapScenario(t -> t);
    }

    /** The same on a simulated accelerator: gradients are reduced in place on the device, never copied to the host. */
    @Test
    void onADeviceGradientsAreReducedOnTheDevice() {
        try (SimBackend sim = SimBackend.install(0)) {
            long copies = sim.hostCopies();
            overlapScenario(sim::toDevice);
            // the scenario reads back w1.grad and w2.grad (3 values each, per rank) to check them: nothing else
            assertEquals(2 * 2 * 3, sim.hostCopies() - copies, "host copies on " + sim.device());
        }
    }

    private static void overlapScenario(java.util.function.UnaryOperator<Tensor> place) {
        float[] w1v = {1, -2, 3}, w2v = {0.5f, 4, -1};
        List<Object[]> out = Ranks.run(2, Duration.ofSeconds(60), "dp-overlap", comm -> {
            List<String> log = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch started = new CountDownLatch(1);
            Communicator rec = new Recording(comm, () -> {
                log.add("all-reduce started");
                started.countDown();
            });
            Tensor w1 = place.apply(Tensor.of(w1v.clone(), 3)).requiresGrad(true);
            Tensor w2 = place.apply(Tensor.of(w2v.clone(), 3)).requiresGrad(true);
            DataParallel dp = new DataParallel(rec, List.of(w1, w2), 12);
            assertEquals(2, dp.buckets());
            int r = comm.rank();
            Tensor x = place.apply(Tensor.of(new float[] {r + 1, r + 2, r + 3}, 3));
            Tensor loss = new Gate(started, log).apply(x.mul(w1)).mul(w2).sum();
            dp.backward(loss, true);
            log.add("backward returned");
            dp.addMicroBatch(1, loss.item());
            dp.reduceGradients();
            assertEquals(w1.device(), w1.grad().device(), "the gradient stays where the parameter is");
            return new Object[] {new ArrayList<>(log), Backends.to(w1.grad(), Device.CPU).toFloatArray(),
                Backends.to(w2.grad(), Device.CPU).toFloatArray()};
        });
        for (int r = 0; r < 2; r++) {
            @SuppressWarnings("unchecked")
            List<String> log = (List<String>) out.get(r)[0];
            assertEquals("all-reduce started", log.get(0), "rank " + r + ": " + log);
            assertEquals("gate backward, after a reduction started", log.get(1), "rank " + r + ": " + log);
            assertTrue(log.indexOf("backward returned") > 1, "rank " + r + ": " + log);
            assertEquals(2, Collections.frequency(log, "all-reduce started"), "rank " + r + ": " + log);
            float[] g1 = (float[]) out.get(r)[1], g2 = (float[]) out.get(r)[2];
            for (int i = 0; i < 3; i++) {
                double meanX = ((1 + i) + (2 + i)) / 2.0; // x of rank 0 and rank 1
                assertEquals(meanX * w2v[i], g1[i], 1e-6, "dL/dw1[" + i + "] on rank " + r);
                assertEquals(meanX * w1v[i], g2[i], 1e-6, "dL/dw2[" + i + "] on rank " + r);
            }
        }
    }

    /**
     * grad_accum 3: every bucket's all-reduce begins while the third micro-batch of its step is
     * the last one fetched (during that backward or right after it), never on the first two.
     */
    @Test
    void withGradientAccumulationOnlyTheLastMicroBatchReduces() {
        int batch = 4, accum = 3, n = 2;
        TrainConfig cfg = config(batch, accum);
        List<Object[]> out = Ranks.run(n, Duration.ofSeconds(60), "dp-accum", comm -> {
            AtomicInteger fetched = new AtomicInteger();
            List<Integer> at = Collections.synchronizedList(new ArrayList<>());
            CtcModel m = model(cfg, 7);
            BatchSource src = slice(batches(batch, accum), comm.rank(), n);
            BatchSource counted = new BatchSource() {
                @Override
                public Iterator<TrainBatch> epoch(int epoch, int skip) {
                    Iterator<TrainBatch> it = src.epoch(epoch, skip);
                    return new Iterator<>() {
                        @Override
                        public boolean hasNext() {
                            return it.hasNext();
                        }

                        @Override
                        public TrainBatch next() {
                            fetched.incrementAndGet();
                            return it.next();
                        }
                    };
                }

                @Override
                public int batchesPerEpoch() {
                    return src.batchesPerEpoch();
                }
            };
            Trainer tr = new Trainer(cfg, m, counted, null, dir.resolve("accum"), quiet(), false);
            DataParallel dp = new DataParallel(new Recording(comm, () -> at.add(fetched.get())), m.parameters(), 512);
            tr.dataParallel(dp);
            assertEquals(STEPS, tr.run(null).step());
            return new Object[] {new ArrayList<>(at), dp.buckets()};
        });
        for (int r = 0; r < n; r++) {
            @SuppressWarnings("unchecked")
            List<Integer> at = (List<Integer>) out.get(r)[0];
            int buckets = (Integer) out.get(r)[1];
            assertTrue(buckets > 1, "several buckets: " + buckets);
            assertEquals(STEPS * buckets, at.size(), "one all-reduce per bucket and step on rank " + r + ": " + at);
            for (int k = 0; k < at.size(); k++) {
                assertEquals(accum * (k / buckets + 1), at.get(k), "all-reduce " + k + " on rank " + r + ": " + at);
            }
        }
    }

    @Test
    void aParameterListedTwiceIsRejected() {
        Tensor w = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
        List<String> out = Ranks.run(1, Duration.ofSeconds(10), "dp-args", comm -> assertThrows(IllegalArgumentException.class,
                () -> new DataParallel(comm, List.of(w, Tensor.of(new float[] {3}, 1), w), 64)).getMessage());
        assertTrue(out.get(0).contains("parameter 0 [2] is listed twice"), out.get(0));
    }
}
