package lmu.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import lmu.backend.Backends;
import lmu.backend.sim.SimBackend;
import lmu.nn.CtcModel;
import lmu.speech.data.DataLoader;
import lmu.speech.data.FeatureExtractor;
import lmu.speech.data.Utterance;
import lmu.speech.features.Cmvn;
import lmu.speech.features.FeatureConfig;
import lmu.speech.features.SpecAugment;
import lmu.speech.text.Vocabulary;
import lmu.tensor.Device;
import lmu.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code data.features_on: device}: batches of audio whose features the trainer computes on the
 * model's device equal the loader's feature batches (log-mel, per-utterance CMVN, SpecAugment with
 * the same seeded masks, speed perturbation, zero padding), on the CPU backend and on the
 * simulated device, for training and evaluation.
 */
class DeviceFeaturesTest {
    /**
     * Tolerance of normalised values: {@code ATOL + RTOL·|ref| + RAW / std}, std the utterance's
     * standard deviation in that bin. Both paths round the raw log-mel (|x| &lt; 16 here) to float32
     * before subtracting a mean, so each carries up to about one float32 ulp of 16 (1e-6) divided by
     * std; bins with almost no energy (std 1e-3) magnify that to 1e-3.
     */
    private static final double ATOL = 1e-4, RTOL = 1e-4, RAW = 4e-6;

    @TempDir Path dir;

    private static TrainConfig config(String... overrides) {
        Map<String, Object> root = TrainConfig.loadBuiltin("configs/small.yaml");
        TrainConfig.overrideAll(root, List.of("data.feature_cache=none", "data.speed_perturbation=[0.9, 1.0, 1.1]",
                "data.spec_augment.freq_masks=2", "data.spec_augment.time_masks=2", "train.seed=5"));
        TrainConfig.overrideAll(root, List.of(overrides));
        return TrainConfig.resolve(root);
    }

    private static List<Utterance> utterances(int n) {
        List<Utterance> all = DataPipeline.open("builtin", "train").utterances();
        return all.subList(0, n);
    }

    private static List<TrainBatch> epoch(BatchSource source, int epoch) {
        List<TrainBatch> out = new ArrayList<>();
        source.epoch(epoch, 0).forEachRemaining(out::add);
        return out;
    }

    /**
     * 1 / std of every (utterance, bin) of a loader's batches of audio over the valid frames of the
     * raw log-mel, in float64, shape (B, C) per batch.
     */
    private static List<double[]> inverseStd(DataLoader audio, int epoch) {
        DeviceFeatures raw = new DeviceFeatures(FeatureConfig.defaults(), FeatureExtractor.CmvnMode.NONE, null, null, 0);
        List<double[]> out = new ArrayList<>();
        audio.iterator(epoch).forEachRemaining(b -> {
            float[] x = raw.compute(b.signals(), b.ids(), epoch, false, Device.CPU).f32();
            int t = b.frames(), c = b.bins();
            double[] inv = new double[b.size() * c];
            for (int u = 0; u < b.size(); u++) {
                for (int m = 0; m < c; m++) {
                    double sum = 0, sq = 0;
                    int n = b.frameLengths()[u];
                    for (int i = 0; i < n; i++) sum += x[(u * t + i) * c + m];
                    for (int i = 0; i < n; i++) sq += Math.pow(x[(u * t + i) * c + m] - sum / n, 2);
                    inv[u * c + m] = 1 / Math.sqrt(Math.max(sq / n, Cmvn.VARIANCE_FLOOR));
                }
            }
            out.add(inv);
        });
        return out;
    }

    /** Every batch: same utterances and frames; features within float tolerance; masked and padded cells exactly 0 in both. */
    private static void assertSameBatches(List<TrainBatch> cpu, List<TrainBatch> dev, List<double[]> inverseStd, Device device) {
        assertEquals(cpu.size(), dev.size());
        long maskedCells = 0;
        double worst = 0;
        for (int i = 0; i < cpu.size(); i++) {
            TrainBatch a = cpu.get(i), b = dev.get(i);
            assertArrayEquals(a.ids(), b.ids());
            assertArrayEquals(a.frames(), b.frames());
            assertArrayEquals(a.labels(), b.labels());
            Tensor x = b.features();
            assertEquals(device, x.device());
            assertArrayEquals(a.features().shape(), x.shape());
            float[] ref = a.features().f32(), got = Backends.to(x, Device.CPU).f32();
            int t = x.dim(1), c = x.dim(2);
            maskedCells += assertSameMasks(ref, got, a.frames(), t, c, "batch " + i);
            for (int k = 0; k < ref.length; k++) {
                double err = Math.abs(got[k] - ref[k]);
                double tol = ATOL + RTOL * Math.abs(ref[k]) + RAW * inverseStd.get(i)[k / (t * c) * c + k % c];
                worst = Math.max(worst, err / tol);
                if (err > tol) {
                    throw new AssertionError("batch " + i + " index " + k + ": device " + got[k] + ", loader " + ref[k]);
                }
            }
        }
        assertTrue(maskedCells > 1000, "SpecAugment and padding leave zeros to compare: " + maskedCells);
        assertTrue(worst <= 1, "worst error / tolerance " + worst);
    }

    @Test
    void trainingBatchesOnTheCpuBackendEqualTheLoadersWithSpeedCmvnAndSpecAugment() {
        List<Utterance> utts = utterances(12);
        Vocabulary v = Vocabulary.english();
        try (DataLoader host = DataPipeline.trainLoader(config(), utts, v, 0, 1, 4);
                DataLoader audio = DataPipeline.trainLoader(config("data.features_on=device"), utts, v, 0, 1, 4)) {
            assertTrue(audio.deliversSignals());
            for (int e = 1; e <= 2; e++) { // epochs draw other speeds and masks
                assertSameBatches(epoch(DataPipeline.source(host), e), epoch(DataPipeline.source(audio, Device.CPU), e), inverseStd(audio, e),
                        Device.CPU);
            }
        }
    }

    @Test
    void trainingAndEvaluationBatchesOnTheSimulatedDeviceEqualTheLoaders() {
        List<Utterance> utts = utterances(8);
        Vocabulary v = Vocabulary.english();
        try (SimBackend sim = SimBackend.install(0);
                DataLoader host = DataPipeline.trainLoader(config(), utts, v, 0, 1, 4);
                DataLoader audio = DataPipeline.trainLoader(config("data.features_on=device"), utts, v, 0, 1, 4);
                DataLoader hostEval = DataPipeline.evalLoader(config(), utts, v, 0, 1, 4);
                DataLoader audioEval = DataPipeline.evalLoader(config("data.features_on=device"), utts, v, 0, 1, 4)) {
            assertSameBatches(epoch(DataPipeline.source(host), 3), epoch(DataPipeline.source(audio, Device.cuda(0)), 3), inverseStd(audio, 3),
                    Device.cuda(0));
            List<TrainBatch> a = new ArrayList<>(), b = new ArrayList<>();
            DataPipeline.evalSource(hostEval).get().forEachRemaining(a::add);
            DataPipeline.evalSource(audioEval, Device.cuda(0)).get().forEachRemaining(b::add);
            assertSameBatchesNoMasks(a, b, inverseStd(audioEval, 1), Device.cuda(0));
        }
    }

    /**
     * Frames (rows of C) and bins (columns over an utterance's valid frames) that are all 0 in the
     * loader's batch (time and frequency masks, padding; no normalised value is 0 across a whole
     * row or column by chance) are all 0 on the device too.
     *
     * @return cells in such rows and columns
     */
    private static long assertSameMasks(float[] ref, float[] got, int[] frames, int t, int c, String what) {
        long cells = 0;
        for (int u = 0; u < frames.length; u++) {
            for (int i = 0; i < t; i++) {
                boolean zero = true;
                for (int m = 0; m < c && zero; m++) zero = ref[(u * t + i) * c + m] == 0f;
                if (!zero) continue;
                for (int m = 0; m < c; m++) assertEquals(0f, got[(u * t + i) * c + m], what + " utterance " + u + " frame " + i);
                cells += c;
            }
            for (int m = 0; m < c; m++) {
                boolean zero = true;
                for (int i = 0; i < frames[u] && zero; i++) zero = ref[(u * t + i) * c + m] == 0f;
                if (!zero) continue;
                for (int i = 0; i < frames[u]; i++) assertEquals(0f, got[(u * t + i) * c + m], what + " utterance " + u + " bin " + m);
                cells += frames[u];
            }
        }
        return cells;
    }

    /** Evaluation: no SpecAugment; only padding is exactly 0. */
    private static void assertSameBatchesNoMasks(List<TrainBatch> cpu, List<TrainBatch> dev, List<double[]> inverseStd, Device device) {
        assertEquals(cpu.size(), dev.size());
        for (int i = 0; i < cpu.size(); i++) {
            Tensor x = dev.get(i).features();
            assertEquals(device, x.device());
            float[] ref = cpu.get(i).features().f32(), got = Backends.to(x, Device.CPU).f32();
            assertEquals(ref.length, got.length);
            int t = x.dim(1), c = x.dim(2);
            for (int k = 0; k < ref.length; k++) {
                double tol = ATOL + RTOL * Math.abs(ref[k]) + RAW * inverseStd.get(i)[k / (t * c) * c + k % c];
                assertEquals(ref[k], got[k], tol, "eval batch " + i + " index " + k);
            }
        }
    }

    @Test
    void withoutCmvnAndWithGlobalCmvnTheFeaturesAgreeToo() {
        List<Utterance> utts = utterances(6);
        Vocabulary v = Vocabulary.english();
        FeatureConfig cfg = FeatureConfig.defaults();
        double[] mean = new double[80], std = new double[80];
        for (int m = 0; m < 80; m++) {
            mean[m] = -5 + 0.1 * m;
            std[m] = 1 + 0.05 * m;
        }
        Cmvn global = new Cmvn(mean, std, 1);
        SpecAugment sa = SpecAugment.defaults();
        for (boolean useGlobal : new boolean[] {false, true}) {
            DataLoader.Builder a = DataLoader.builder(utts, v).seed(3).maxBatchSize(3).specAugment(sa).threads(1);
            DataLoader.Builder b = DataLoader.builder(utts, v).seed(3).maxBatchSize(3).specAugment(sa).threads(1).signals();
            if (useGlobal) {
                a.globalCmvn(global);
                b.globalCmvn(global);
            } else {
                a.noCmvn();
                b.noCmvn();
            }
            try (DataLoader la = a.build(); DataLoader lb = b.build()) {
                DeviceFeatures df = DeviceFeatures.of(lb);
                assertEquals(useGlobal ? FeatureExtractor.CmvnMode.GLOBAL : FeatureExtractor.CmvnMode.NONE, lb.extractor().cmvnMode());
                Iterator<lmu.speech.data.Batch> ia = la.iterator(2), ib = lb.iterator(2);
                while (ia.hasNext()) {
                    lmu.speech.data.Batch x = ia.next(), y = ib.next();
                    assertEquals(0, y.features().length);
                    float[] got = df.compute(y.signals(), y.ids(), y.epoch(), true, Device.CPU).f32();
                    assertEquals(x.features().length, got.length);
                    for (int k = 0; k < got.length; k++) {
                        // global CMVN is the same float32 arithmetic on both sides; raw log-mel is identical
                        assertEquals(x.features()[k], got[k], useGlobal ? 1e-6 : 0, "global " + useGlobal + " index " + k);
                    }
                }
                assertTrue(!ib.hasNext());
            }
        }
        assertTrue(cfg.nMels() == 80);
    }

    @Test
    void theConfigKeyIsCheckedAndNamed() {
        assertEquals("cpu", config().data().featuresOn());
        assertEquals("device", config("data.features_on=device").data().featuresOn());
        String m = assertThrows(IllegalArgumentException.class, () -> config("data.features_on=gpu")).getMessage();
        assertTrue(m.contains("data.features_on") && m.contains("cpu, device") && m.contains("gpu"), m);
    }

    @Test
    void aShortTrainingRunWithFeaturesOnTheSimulatedDeviceTrainsAndSaysWhereFeaturesAre() throws Exception {
        TrainConfig cfg = config("data.features_on=device", "train.max_steps=2", "train.log_every=1", "model.hidden=32",
                "model.attention.heads=2", "model.lmu.memory_order=8", "data.features=/nonexistent/store");
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        try (SimBackend sim = SimBackend.install(0)) {
            Trainer.Summary s = TrainSession.run(cfg, new TrainSession.Options(dir, "none", false, true, null, 1, Device.cuda(0)),
                    new PrintStream(text, true, StandardCharsets.UTF_8));
            String out = text.toString(StandardCharsets.UTF_8);
            assertEquals(Trainer.Stop.MAX_STEPS, s.stop(), out);
            assertEquals(2, s.step());
            assertTrue(s.losses().stream().allMatch(Double::isFinite), s.losses().toString());
            // the store named by data.features is not opened: it does not exist, and the run still trains
            assertTrue(out.contains("features: log-mel, CMVN and SpecAugment on cuda:0 (data.features_on: device;"), out);
            CtcModel loaded = Models.load(s.lastCheckpoint());
            assertEquals(Device.CPU, loaded.device());
        }
    }
}
