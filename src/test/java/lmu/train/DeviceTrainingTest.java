package lmu.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import lmu.backend.sim.SimBackend;
import lmu.backend.sim.SimStorage;
import lmu.nn.CtcModel;
import lmu.nn.ModelConfig;
import lmu.nn.lmu.LmuSequenceLayers;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The training step as a whole on a device, checked on the CPU through the simulated device: a
 * model moved there trains to the same weights as on the CPU, and its checkpoints load anywhere.
 */
class DeviceTrainingTest {
    /** LMU + attention (dropout on the weights too) + CTC, small enough for a few fast steps. */
    static final String MODEL = """
            model:
              input_dim: 8
              hidden: 16
              blocks: 1
              dropout: 0.1
              max_frames: 64
              attention: {heads: 2, dropout: 0.1}
              lmu: {memory_order: 4, theta: 8}
              downsample: {after: []}
              vocabulary: "abcd"
            """;
    private static final Device GPU = Device.cuda(0);

    @TempDir Path dir;
    private SimBackend sim;

    @BeforeEach
    void install() {
        sim = SimBackend.install(0);
    }

    @AfterEach
    void uninstall() {
        sim.close();
    }

    private static TrainConfig config(long maxSteps) {
        return config(maxSteps, "off");
    }

    private static TrainConfig config(long maxSteps, String precision) {
        Map<String, Object> root = TrainConfig.parseYaml(new java.io.StringReader(MODEL), "test");
        TrainConfig.override(root, "train.epochs", 1);
        TrainConfig.override(root, "train.max_steps", maxSteps);
        TrainConfig.override(root, "train.log_every", 1);
        TrainConfig.override(root, "train.patience", 0);
        TrainConfig.override(root, "train.mixed_precision", precision);
        TrainConfig.override(root, "optim.lr", 0.02);
        TrainConfig.override(root, "optim.warmup", 2);
        TrainConfig.override(root, "optim.clip_norm", 0.5); // small enough that every step clips
        TrainConfig.override(root, "optim.schedule", "constant");
        // The attention key bias has an exactly zero gradient (it shifts every score of a row alike),
        // so its computed gradient is rounding noise (~1e-9) that Adam with a tiny eps turns into full
        // ±lr steps whose signs depend on the order of float operations; eps 1e-4 keeps such noise
        // below 1e-6 while real gradients (1e-3 and up) move as usual.
        TrainConfig.override(root, "optim.eps", 1e-4);
        return TrainConfig.resolve(root);
    }

    private static CtcModel model(TrainConfig cfg) {
        ModelConfig mc = ModelConfig.parse(cfg.model());
        return new CtcModel(mc, LmuSequenceLayers.factory(mc, DType.F32), new Rng(7));
    }

    private static Map<String, float[]> hostWeights(CtcModel m) {
        Map<String, float[]> out = new LinkedHashMap<>();
        m.namedParameters().forEach((k, t) -> out.put(k, lmu.backend.Backends.to(t, Device.CPU).toFloatArray()));
        return out;
    }

    private static void assertWeights(Map<String, float[]> expected, CtcModel m, Device device, float tol) {
        assertEquals(expected.keySet(), m.namedParameters().keySet());
        m.namedParameters().forEach((k, t) -> assertEquals(device, t.device(), k));
        Map<String, float[]> actual = hostWeights(m);
        for (String k : expected.keySet()) assertArrayEquals(expected.get(k), actual.get(k), tol, k);
    }

    @Test
    void aModelMovesToTheDeviceWithItsWeightsAndRefusesHostArrays() {
        CtcModel m = model(config(1));
        Map<String, float[]> before = hostWeights(m);
        Tensor w = m.head().weight();
        assertSame(m, m.to(GPU));
        assertSame(w, m.head().weight()); // moved in place: layers and optimizers keep their references
        assertEquals(GPU, m.device());
        assertWeights(before, m, GPU, 0f);
        assertThrows(IllegalStateException.class, w::f32);
        m.to(Device.CPU);
        assertWeights(before, m, Device.CPU, 0f);
    }

    @Test
    void movingDropsGradientsAndRefusesComputedTensors() {
        Tensor p = Tensor.of(new float[] {1, 2}, 2).requiresGrad(true);
        p.setGrad(Tensor.of(new float[] {3, 4}, 2));
        p.moveTo(GPU);
        assertNull(p.grad());
        Tensor y = p.mul(2.0);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> y.moveTo(Device.CPU));
        assertTrue(e.getMessage().contains("only leaves"), e.getMessage());
    }

    @Test
    void checkpointsSavedFromTheDeviceLoadOnTheCpuAndBackOnTheDevice() throws Exception {
        TrainConfig cfg = config(1);
        CtcModel m = model(cfg);
        // weights that differ from a fresh model's, so a load that did nothing would be caught
        Rng rng = new Rng(41);
        for (Tensor t : m.parameters()) for (int i = 0; i < t.numel(); i++) t.storage().set(i, rng.nextGaussian());
        Map<String, float[]> expected = hostWeights(m);
        m.to(GPU);
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("config", cfg.toYaml());
        state.put("vocabulary", m.vocabulary().characters());
        Path ck = Checkpoints.save(dir, "ck", m.namedParameters(), Map.of(), Map.of(), state, Map.of());
        CtcModel onCpu = Models.load(ck);
        assertWeights(expected, onCpu, Device.CPU, 0f);
        CtcModel onGpu = Models.load(Checkpoints.load(ck), GPU);
        assertWeights(expected, onGpu, GPU, 0f);
        // resume's path: weights copied into a model that is on the device already
        CtcModel fresh = model(cfg).to(GPU) instanceof CtcModel c ? c : null;
        Models.copyWeights(Checkpoints.load(ck), fresh.namedParameters());
        assertWeights(expected, fresh, GPU, 0f);
    }

    private Trainer.Summary train(CtcModel m, Path out) throws Exception {
        return train(m, out, 3, null);
    }

    private Trainer.Summary train(CtcModel m, Path out, long maxSteps, Path resumeFrom) throws Exception {
        SyntheticBatches data = new SyntheticBatches(6, 4, 5, 3);
        Trainer tr = new Trainer(config(maxSteps), m, data, null, out, new PrintStream(new ByteArrayOutputStream()), false);
        if (resumeFrom != null) tr.resume(Checkpoints.load(resumeFrom));
        try (MetricsLog log = new MetricsLog(out)) {
            return tr.run(log);
        }
    }

    /** Runs through the LMU, attention and CTC device paths (kernel families LmuKernels, AttentionKernels, CtcKernels). */
    @Test
    void threeStepsOnTheDeviceGiveTheCpuWeightsAndACheckpointTheCpuLoads() throws Exception {
        CtcModel cpu = model(config(3));
        Trainer.Summary a = train(cpu, dir.resolve("cpu"));
        CtcModel gpu = model(config(3)).to(GPU) instanceof CtcModel c ? c : null;
        long reads = SimStorage.elementAccesses();
        Trainer.Summary b = train(gpu, dir.resolve("gpu"));
        long perStep = (SimStorage.elementAccesses() - reads) / 3;
        assertEquals(3, a.step());
        assertEquals(3, b.step());
        List<Double> la = a.losses(), lb = b.losses();
        assertEquals(la.size(), lb.size());
        for (int i = 0; i < la.size(); i++) assertEquals(la.get(i), lb.get(i), 1e-5 * Math.max(1, Math.abs(la.get(i))), "loss " + i);
        Map<String, float[]> expected = hostWeights(cpu);
        assertWeights(expected, gpu, GPU, 1e-5f);
        // the host reads only the scalars it decides on, never whole tensors element by element
        assertEquals(1, perStep, "element reads of device tensors per step (the loss; the norm and overflow flag come from kernels)");
        CtcModel loaded = Models.load(b.lastCheckpoint());
        assertWeights(hostWeights(gpu), loaded, Device.CPU, 0f);

        // validation: features to the device, losses and logits back for greedy decoding
        SyntheticBatches valid = new SyntheticBatches(2, 4, 5, 99);
        Evaluator.Result ra = Evaluator.evaluate(cpu, valid.epoch(1, 0)), rb = Evaluator.evaluate(gpu, valid.epoch(1, 0));
        assertEquals(8, rb.utterances());
        assertEquals(ra.loss(), rb.loss(), 1e-5 * Math.max(1, Math.abs(ra.loss())));
        assertEquals(ra.hypotheses(), rb.hypotheses());
        assertEquals(ra.cer(), rb.cer(), 0);
    }

    @Test
    void onAGpuAutoPrecisionMeansFp16() {
        Map<String, Object> root = TrainConfig.parseYaml(new java.io.StringReader(MODEL), "test");
        TrainConfig.override(root, "train.mixed_precision", "off");
        assertEquals("off (fp32 on cuda:0)", TrainSession.describeDevicePrecision(TrainConfig.resolve(root).train(), GPU));
        TrainConfig.override(root, "train.mixed_precision", "auto");
        String auto = TrainSession.describeDevicePrecision(TrainConfig.resolve(root).train(), GPU);
        assertTrue(auto.startsWith("fp16 (auto on a GPU) on cuda:0: matrix-product operands stored in fp16"), auto);
        assertTrue(auto.endsWith("; dynamic loss scale from 65536, x2 after 2000 clean steps, in [1, 16777216]"), auto);
        TrainConfig.override(root, "train.mixed_precision", "bf16");
        assertTrue(TrainSession.describeDevicePrecision(TrainConfig.resolve(root).train(), GPU).endsWith("; no loss scaling"));
    }

    @Test
    void theStepBenchmarkRunsOnTheDevice() {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        long reads = SimStorage.elementAccesses();
        double median = StepBenchmark.run(config(1), 2, 24, 1, 2, false, GPU, new PrintStream(text));
        assertTrue(median > 0, "median " + median);
        assertTrue(text.toString().contains("training step, batch 2 x 24 frames: median"), text.toString());
        assertEquals(0, SimStorage.elementAccesses() - reads, "element reads of device tensors (the benchmark reads no loss)");
    }

    @Test
    void aDebugSessionOnTheBuiltInCorpusTrainsOnTheDeviceAndSavesACheckpointTheCpuLoads() throws Exception {
        Map<String, Object> root = TrainConfig.loadBuiltin("configs/small.yaml");
        for (String kv : new String[] {"train.max_steps=2", "train.log_every=1", "model.hidden=32", "model.attention.heads=2",
            "model.lmu.memory_order=8", "data.feature_cache=none", "train.mixed_precision=auto"}) {
            TrainConfig.overrideAll(root, List.of(kv));
        }
        TrainConfig cfg = TrainConfig.resolve(root);
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        Trainer.Summary s = TrainSession.run(cfg, new TrainSession.Options(dir, "none", false, true, null, 1, GPU),
                new PrintStream(text, true, java.nio.charset.StandardCharsets.UTF_8));
        String out = text.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(Trainer.Stop.MAX_STEPS, s.stop(), out);
        assertEquals(2, s.step());
        assertTrue(out.contains("mixed precision: fp16 (auto on a GPU) on cuda:0"), out);
        assertTrue(sim.allocated(DType.F16) > 0, "matrix-product operands stored in fp16 on the device");
        assertTrue(!out.contains("device: cpu"), out);
        CtcModel loaded = Models.load(s.lastCheckpoint());
        assertEquals(Device.CPU, loaded.device());
        assertEquals(2, s.losses().size());
        assertTrue(s.losses().stream().allMatch(Double::isFinite), s.losses().toString());
    }

    @Test
    void fp16OnTheDeviceScalesTheLossUnscalesOnTheDeviceAndTracksTheCpuEmulation() throws Exception {
        SyntheticBatches data = new SyntheticBatches(6, 4, 5, 3);
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        CtcModel cpu = model(config(3));
        Trainer a = new Trainer(config(3, "fp16"), cpu, data, null, dir.resolve("cpu"), quiet, false);
        CtcModel gpu = model(config(3)).to(GPU) instanceof CtcModel c ? c : null;
        Trainer b = new Trainer(config(3, "auto"), gpu, data, null, dir.resolve("gpu"), quiet, false);
        long f16Before = sim.allocated(DType.F16);
        Trainer.Summary sa = a.run(null);
        Trainer.Summary sb = b.run(null);
        assertTrue(sim.allocated(DType.F16) > f16Before, "auto on a GPU is fp16: operands stored in 16 bits");
        // the same overflows at 2^16 and 2^15 (gradients past fp16's range), the same skipped steps and scale
        assertTrue(a.lossScaler().skipped() > 0, "the test should exercise an overflow");
        assertEquals(a.lossScaler().skipped(), b.lossScaler().skipped());
        assertEquals(a.lossScaler().scale(), b.lossScaler().scale(), 0);
        assertEquals(sa.step(), sb.step());
        assertEquals(sa.losses().size(), sb.losses().size());
        // the CPU rounds product results to fp16 too, the device keeps them fp32: close, not equal
        for (int i = 0; i < sa.losses().size(); i++) {
            double la = sa.losses().get(i), lb = sb.losses().get(i);
            assertEquals(la, lb, 1e-3 * Math.abs(la), "loss " + i);
        }
    }
}
