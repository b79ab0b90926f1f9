package lmu.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import lmu.backend.Backends;
import lmu.backend.sim.SimBackend;
import lmu.backend.sim.SimStorage;
import lmu.distributed.Communicator;
import lmu.distributed.InProcessCommunicator;
import lmu.distributed.Ranks;
import lmu.distributed.World;
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
 * Data parallel over several simulated devices in one JVM, one thread per device, with the
 * in-process communicator standing in for NCCL: the same weights as one device with the global
 * batch, gradients reduced on the devices (no host copies), a failing rank ending the others.
 */
class MultiDeviceTrainingTest {
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
        TrainConfig.override(root, "train.mixed_precision", "off");
        TrainConfig.override(root, "optim.lr", 1e-3);
        TrainConfig.override(root, "optim.warmup", 0);
        TrainConfig.override(root, "optim.eps", 1e-3); // see DataParallelTest.TOLERANCE
        TrainConfig.override(root, "optim.schedule", "constant");
        return TrainConfig.resolve(root);
    }

    private static CtcModel model(TrainConfig cfg, long seed) {
        ModelConfig mc = ModelConfig.parse(cfg.model());
        return new CtcModel(mc, LmuSequenceLayers.factory(mc, DType.F32), new Rng(seed));
    }

    private static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream());
    }

    /** The model's weights as one host array (read after training: host copies counted before this). */
    private static float[] weights(CtcModel m) {
        List<Tensor> ps = m.parameters();
        int n = 0;
        for (Tensor p : ps) n += p.numel();
        float[] w = new float[n];
        int at = 0;
        for (Tensor p : ps) {
            System.arraycopy(Backends.to(p, Device.CPU).toFloatArray(), 0, w, at, p.numel());
            at += p.numel();
        }
        return w;
    }

    private static double maxDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        return d;
    }

    private static SyntheticBatches batches(int batch) {
        return new SyntheticBatches(STEPS + 2, batch, 5, 3);
    }

    /** One simulated device, the whole global batch. */
    private RankResult oneDevice(int batch) throws Exception {
        TrainConfig cfg = config(batch);
        try (SimBackend sim = SimBackend.install(0)) {
            CtcModel m = model(cfg, 7);
            m.to(sim.device());
            Trainer tr = new Trainer(cfg, m, batches(batch), null, dir.resolve("one"), quiet(), false);
            long copies = sim.hostCopies();
            assertEquals(STEPS, tr.run(null).step());
            long copied = sim.hostCopies() - copies;
            return new RankResult(weights(m), copied, m.parameterCount());
        }
    }

    /** What each rank reports: its weights and the host copies / parameter count of its device during training. */
    private record RankResult(float[] weights, long hostCopies, long parameters) {}

    /** n ranks on simulated cuda:0 .. cuda:n-1, each opened on its own thread; rank r > 0 starts from other weights. */
    private List<RankResult> devices(int batch, int n, long bucketBytes) {
        TrainConfig cfg = config(batch);
        return Ranks.run(n, Duration.ofSeconds(60), "multi-device", comm -> {
            try (SimBackend sim = SimBackend.install(comm.rank())) {
                CtcModel m = model(cfg, comm.rank() == 0 ? 7 : 100 + comm.rank());
                m.to(sim.device());
                Trainer tr = new Trainer(cfg, m, DataParallelTest.slice(batches(batch), comm.rank(), n), null, dir.resolve("dp" + n),
                        quiet(), false);
                DataParallel dp = new DataParallel(comm, m.parameters(), bucketBytes);
                if (bucketBytes < 1000) assertTrue(dp.buckets() > 1, "several buckets: " + dp.buckets());
                tr.dataParallel(dp); // rank 0's weights reach the others through the host, once
                long copies = sim.hostCopies();
                assertEquals(STEPS, tr.run(null).step());
                long copied = sim.hostCopies() - copies;
                return new RankResult(weights(m), copied, m.parameterCount());
            }
        });
    }

    private void check(int batch, int n, long bucketBytes) throws Exception {
        RankResult single = oneDevice(batch);
        float[] one = single.weights();
        float[] start = weights(model(config(batch), 7));
        assertTrue(maxDiff(one, start) > 10 * DataParallelTest.TOLERANCE, "training moved the weights by " + maxDiff(one, start));
        List<RankResult> ranks = devices(batch, n, bucketBytes);
        for (int r = 0; r < n; r++) {
            assertEquals(0.0, maxDiff(ranks.get(0).weights(), ranks.get(r).weights()), "rank " + r + " differs from rank 0");
        }
        double d = maxDiff(one, ranks.get(0).weights());
        System.out.printf("MultiDeviceTrainingTest: %d simulated devices, global batch %d: max abs weight difference to one device"
                + " after %d steps %.3g (moved %.3g)%n", n, batch, STEPS, d, maxDiff(one, start));
        assertTrue(d < DataParallelTest.TOLERANCE, n + " devices vs 1 device, global batch " + batch + ": max |dw| = " + d);
        // No gradient crosses to the host: ranks other than 0 copy nothing at all while training; rank 0
        // copies what one device copies (the checkpoint at max_steps), and a step's gradients would
        // add all parameters' values per step.
        assertTrue(single.hostCopies() > 0, "one device copies its checkpoint: " + single.hostCopies());
        // (one device decides its step on the device and reads the step state, 8 floats, once after each step)
        assertEquals(single.hostCopies() - (long) STEPS * lmu.backend.OptimizerKernels.STEP_STATE_SIZE, ranks.get(0).hostCopies(),
                "rank 0: host copies while training (the checkpoint only)");
        for (int r = 1; r < n; r++) assertEquals(0, ranks.get(r).hostCopies(), "rank " + r + ": host copies while training");
    }

    @Test
    void twoDevicesMatchOneDeviceWithTheGlobalBatchAndKeepGradientsOnTheDevices() throws Exception {
        check(8, 2, DataParallel.DEFAULT_BUCKET_BYTES);
    }

    @Test
    void fourDevicesWithSmallBucketsAndUnevenSlicesMatchOneDevice() throws Exception {
        check(6, 4, 512); // slices of 1, 2, 1, 2 utterances; many buckets
    }

    /**
     * Stopped after 2 steps and resumed by rank 0 alone (the others start from other weights and
     * zero moments): the broadcast must carry rank 0's weights and Adam moments into every device,
     * so the end equals the uninterrupted run bit for bit.
     */
    @Test
    void resumeOnRankZeroAloneContinuesExactlyOnDevices() {
        int batch = 4, n = 2;
        float[] straight = devices(batch, n, DataParallel.DEFAULT_BUCKET_BYTES).get(0).weights();
        Path out = dir.resolve("resumed");
        Map<String, Object> root = TrainConfig.parseYaml(new StringReader(config(batch).toYaml()), "test");
        TrainConfig.override(root, "train.max_steps", 2);
        TrainConfig first = TrainConfig.resolve(root);
        TrainConfig cfg = config(batch);
        for (TrainConfig c : List.of(first, cfg)) {
            List<float[]> w = Ranks.run(n, Duration.ofSeconds(60), "multi-device", comm -> {
                try (SimBackend sim = SimBackend.install(comm.rank())) {
                    CtcModel m = model(c, comm.rank() == 0 ? 7 : 55);
                    m.to(sim.device());
                    Trainer tr = new Trainer(c, m, DataParallelTest.slice(batches(batch), comm.rank(), n), null, out, quiet(), false);
                    if (c == cfg && comm.rank() == 0) tr.resume(Checkpoints.latestGood(out, new ArrayList<>()));
                    tr.dataParallel(new DataParallel(comm, m.parameters(), DataParallel.DEFAULT_BUCKET_BYTES));
                    tr.run(null);
                    return weights(m);
                }
            });
            if (c == cfg) {
                for (float[] x : w) assertEquals(0.0, maxDiff(straight, x), "resumed replicas equal the uninterrupted run");
            }
        }
    }

    @Test
    void aRankThatThrowsOnItsDeviceEndsTheOthersWithItsError() {
        TrainConfig cfg = config(4);
        long t0 = System.nanoTime();
        Ranks.RankFailedException e = assertThrows(Ranks.RankFailedException.class, () -> Ranks.run(3, Duration.ofSeconds(60),
                "multi-device", comm -> {
                    try (SimBackend sim = SimBackend.install(comm.rank())) {
                        CtcModel m = model(cfg, 7);
                        m.to(sim.device());
                        BatchSource src = DataParallelTest.slice(batches(4), comm.rank(), 3);
                        if (comm.rank() == 2) src = DataParallelTest.onBatch(src, 2, () -> {
                            throw new IllegalStateException("cuda:2 lost");
                        });
                        Trainer tr = new Trainer(cfg, m, src, null, dir.resolve("fail"), quiet(), false);
                        tr.dataParallel(new DataParallel(comm, m.parameters(), DataParallel.DEFAULT_BUCKET_BYTES));
                        return tr.run(null);
                    }
                }));
        assertEquals(2, e.rank());
        assertTrue(e.getMessage().contains("cuda:2 lost"), e.getMessage());
        assertTrue((System.nanoTime() - t0) / 1e9 < 30, "ended well before the 60 s collective timeout");
    }

    /** Simulated devices for a session: each rank's thread installs its own, the ranks share an in-process group. */
    static final class SimDeviceRanks implements DeviceRanks {
        final List<Integer> opened = java.util.Collections.synchronizedList(new ArrayList<>());
        private final int failing;

        /** @param failing the device index whose open throws, or -1 */
        SimDeviceRanks(int failing) {
            this.failing = failing;
        }

        @Override
        public AutoCloseable open(Device device) {
            if (device.index() == failing) throw new IllegalStateException("cannot open " + device + ": simulated failure");
            opened.add(device.index());
            return SimBackend.install(device.index());
        }

        @Override
        public List<? extends Communicator> connect(World world, Duration timeout, PrintStream out) {
            return InProcessCommunicator.group(world.ranksPerNode(), timeout);
        }
    }

    private static TrainConfig sessionConfig() {
        Map<String, Object> root = TrainConfig.loadBuiltin("configs/small.yaml");
        for (String kv : new String[] {"train.max_steps=0", "train.log_every=1", "model.hidden=16", "model.attention.heads=2",
            "model.lmu.memory_order=4", "model.blocks=1", "data.feature_cache=none", "train.mixed_precision=off", "train.epochs=1",
            "train.batch_size=6"}) {
            TrainConfig.overrideAll(root, List.of(kv));
        }
        return TrainConfig.resolve(root);
    }

    @Test
    void aSessionWithSeveralDevicesRunsOneRankPerDeviceAndCountsEveryValidationUtteranceOnce() throws Exception {
        SimDeviceRanks devices = new SimDeviceRanks(-1);
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        TrainSession.Options opt = new TrainSession.Options(dir, "none", false, true, null, 3, Device.cuda(0), devices);
        Trainer.Summary s = TrainSession.run(sessionConfig(), opt, new PrintStream(text, true, StandardCharsets.UTF_8));
        String out = text.toString(StandardCharsets.UTF_8);
        assertEquals(Trainer.Stop.COMPLETED, s.stop(), out);
        assertEquals(List.of(0, 1, 2), devices.opened.stream().sorted().toList(), "one device opened per rank");
        assertTrue(out.contains("world: 3 rank(s) = 1 node x 3 GPUs"), out);
        assertTrue(out.contains("data parallel: 3 ranks"), out);
        Matcher v = Pattern.compile("epoch 1 validation: .*\\| (\\d+) utterances").matcher(out);
        assertTrue(v.find(), out);
        Matcher d = Pattern.compile("valid data: .*?(\\d+) utterances").matcher(out);
        assertTrue(d.find(), out);
        assertEquals(Math.min(16, Integer.parseInt(d.group(1))), Integer.parseInt(v.group(1)),
                "every validation utterance (--debug keeps 16) counted once over the 3 ranks: " + out);
        assertTrue(Files.isDirectory(s.lastCheckpoint()), "rank 0 saved " + s.lastCheckpoint());
        assertEquals(Device.CPU, Models.load(s.lastCheckpoint()).device());
    }

    @Test
    void aSessionWhoseSecondDeviceFailsToOpenEndsWithThatError() {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        TrainSession.Options opt = new TrainSession.Options(dir, "none", false, true, null, 2, Device.cuda(0), new SimDeviceRanks(1));
        long t0 = System.nanoTime();
        Ranks.RankFailedException e = assertThrows(Ranks.RankFailedException.class,
                () -> TrainSession.run(sessionConfig(), opt, new PrintStream(text, true, StandardCharsets.UTF_8)));
        assertEquals(1, e.rank());
        assertTrue(e.getMessage().contains("cannot open cuda:1: simulated failure"), e.getMessage());
        assertTrue((System.nanoTime() - t0) / 1e9 < 60, "no wait for the collective timeout");
    }

    @Test
    void severalDevicesWithoutAWayToOpenThemAreRefusedBeforeLoadingData() {
        TrainSession.Options opt = new TrainSession.Options(dir, "none", false, false, null, 2, Device.cuda(0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainSession.run(sessionConfig(), opt, quiet()));
        assertTrue(e.getMessage().contains("2 ranks on cuda devices (1 node x 2 GPUs) need Options.devices"), e.getMessage());
    }

    @Test
    void elementReadsStayAtTheLossScalars() {
        long before = SimStorage.elementAccesses();
        List<RankResult> r = devices(4, 2, DataParallel.DEFAULT_BUCKET_BYTES);
        assertEquals(2, r.size());
        long reads = SimStorage.elementAccesses() - before;
        // per rank and step: the loss (item) of its micro-batch; nothing else is read element-wise
        assertTrue(reads <= 2L * STEPS, "element reads " + reads + " for 2 ranks x " + STEPS + " steps");
    }
}
