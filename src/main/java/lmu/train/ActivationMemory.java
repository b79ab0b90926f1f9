package lmu.train;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import lmu.amp.Autocast;
import lmu.amp.Precision;
import lmu.backend.Backends;
import lmu.backend.cuda.CudaBackend;
import lmu.nn.CtcModel;
import lmu.nn.ModelConfig;
import lmu.speech.ctc.CtcLoss;
import lmu.speech.ctc.CtcLossFunction;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.Tensor;
import lmu.util.Rng;

/**
 * Estimate of the activations one training step keeps for backward, split into values the
 * precision policy stores in half precision (operands of matrix products: projection inputs, q, k,
 * v, attention probabilities, convolution and LMU inputs) and values that stay fp32 whatever the
 * precision (layer-norm inputs on the fp32 residual stream, the LMU's internal memory and
 * pre-activation, log-probabilities for CTC). Counted per encoder block from the model shape, one
 * copy of each tensor kept for backward (casts fused into the producing kernel, so a value is never
 * kept twice); results that no backward needs (attention scores, projection outputs), per-row
 * statistics, dropout masks and workspace are left out. {@link #bytes} at {@link Precision#OFF} is the fp32 figure, at FP16 or
 * BF16 the half-precision elements take 2 bytes instead of 4.
 *
 * <p>On a GPU, {@link #measure} reports what a training step of this build really keeps ({@code
 * java -cp lmu-engine.jar lmu.train.ActivationMemory --config configs/seed.yaml --batch-size 96},
 * the {@code memory} step of {@code bench/gpu/run_all.sh}). Where the device path differs from this
 * estimate: operands are converted to half precision by separate casts (an activation feeding
 * several products is converted once), the attention softmax keeps its fp32 output for backward in
 * addition to the half-precision copy that feeds probabilities·v (the composed attention runs under
 * a mixed-precision policy), and the LMU layer and the convolution compute and keep fp32 there.
 *
 * @param halfElements elements stored in the policy's format
 * @param fp32Elements elements always stored in fp32
 */
public record ActivationMemory(long halfElements, long fp32Elements) {
    /**
     * @param m the model
     * @param batch B, utterances per batch
     * @param frames T, input frames of the longest utterance of the batch (before downsampling)
     * @throws IllegalArgumentException if batch or frames is not positive
     */
    public static ActivationMemory estimate(ModelConfig m, int batch, int frames) {
        if (batch <= 0 || frames <= 0) {
            throw new IllegalArgumentException("ActivationMemory: batch and frames must be > 0, got " + batch + " and " + frames);
        }
        long half = 0, full = 0;
        long b = batch, t = frames, c = m.hidden(), h = m.heads();
        half += b * t * m.inputDim(); // features as the operand of the input projection
        for (int block = 1; block <= m.blocks(); block++) {
            long btc = b * t * c;
            // attention: layer-norm input (fp32); projection operand, q, k, v, the softmax output (stored once, as
            // the operand of probabilities·v; the softmax backward computes in fp32 from it) and the context
            full += btc;
            half += btc + 3 * btc + b * h * t * t + btc;
            // LMU: layer-norm input, memory (B, T, K·d) and pre-activation in fp32; the input as operand
            full += btc + b * t * (long) m.lmu().memoryD() * m.lmu().order() + btc;
            half += btc;
            if (m.feedForward() > 0) {
                long btf = b * t * m.feedForward();
                full += btc; // layer-norm input
                half += btc + btf + btf; // operand, GELU input, GELU output as operand
            }
            if (m.downsampleAfter().contains(block)) {
                half += btc; // convolution input
                t = m.downsampled((int) t);
            }
        }
        half += b * t * c; // operand of the CTC head
        full += b * t * m.vocabSize(); // log-probabilities for the CTC loss
        return new ActivationMemory(half, full);
    }

    /** Bytes at a precision: half elements at its width (4 bytes when off), the rest at 4. */
    public long bytes(Precision p) {
        return halfElements * p.bytes() + fp32Elements * 4;
    }

    /** One line for the dry run: the estimate at the run's precision, and at fp32 for comparison. */
    public String describe(Precision p, int batch, int frames) {
        double mib = bytes(p) / 1048576.0;
        String s = String.format(Locale.ROOT, "activation memory estimate: %.1f MiB for a batch of %d x %d frames (%s)", mib,
                batch, frames, p == Precision.OFF ? "fp32" : p.configName() + " operands");
        if (p != Precision.OFF) s += String.format(Locale.ROOT, "; %.1f MiB in fp32", bytes(Precision.OFF) / 1048576.0);
        return s;
    }

    /**
     * Device memory of one training step (forward under the policy, CTC loss, backward), measured
     * on a GPU with the allocator's statistics.
     *
     * @param precision the policy of the step
     * @param weights bytes held before the step (weights and the batch)
     * @param kept bytes held once forward has finished, less {@code weights}: what the graph keeps for
     *     backward (saved activations, the outputs, half-precision copies of the weights)
     * @param peak the allocator's peak during the step, less {@code weights} (blocks of tensors that
     *     were unreachable but not yet collected by the JVM count too)
     * @param estimate {@link #bytes} of the estimate at this precision, for comparison
     */
    public record Measured(Precision precision, long weights, long kept, long peak, long estimate) {
        /** One line of the report. */
        public String describe() {
            return String.format(Locale.ROOT, "%-4s kept for backward %9.1f MiB (estimate %9.1f MiB), step peak %9.1f MiB,"
                    + " weights and batch %7.1f MiB", precision.configName(), kept / 1048576.0, estimate / 1048576.0,
                    peak / 1048576.0, weights / 1048576.0);
        }
    }

    /**
     * Runs one training step of {@code cfg}'s model on random features on a CUDA device and measures
     * its memory.
     *
     * @param backend the open backend of the device
     * @param batch B, utterances
     * @param frames T, frames per utterance (all of the same length)
     * @throws IllegalArgumentException if batch or frames is not positive
     */
    public static Measured measure(TrainConfig cfg, CudaBackend backend, Precision precision, int batch, int frames) {
        ActivationMemory estimate = estimate(ModelConfig.parse(cfg.model()), batch, frames);
        Device device = backend.device();
        CtcModel model = Models.create(cfg);
        model.to(device);
        Rng rng = new Rng(5);
        Tensor x = Backends.to(Tensor.randn(rng, DType.F32, 1, batch, frames, model.config().inputDim()), device);
        int[] lengths = new int[batch];
        Arrays.fill(lengths, frames);
        int labels = Math.max(1, model.config().outputFrames(frames) / 3);
        int[] targets = new int[batch * labels];
        for (int i = 0; i < targets.length; i++) targets[i] = 1 + rng.nextInt(model.vocabulary().size() - 1);
        int[] targetLengths = new int[batch];
        Arrays.fill(targetLengths, labels);
        long weights = backend.liveBytes();
        backend.context().allocator().resetPeaks();
        Tensor loss;
        try (Autocast ac = Autocast.enable(precision)) {
            CtcModel.Output o = model.forward(x, lengths);
            loss = CtcLossFunction.apply(CtcLoss.batchMajor().withZeroInfinity(true), o.values(), o.lengths(), targets,
                    targetLengths);
        }
        long kept = backend.liveBytes() - weights;
        loss.backward();
        backend.synchronize();
        long peak = backend.context().allocator().stats().peakAllocated() - weights;
        model.zeroGrad();
        return new Measured(precision, weights, kept, peak, estimate.bytes(precision));
    }

    /**
     * {@code java -cp lmu-engine.jar lmu.train.ActivationMemory [--config FILE] [--batch-size B]
     * [--frames T] [--precisions off,fp16,bf16] [--device cuda:N]}: one line per precision with the
     * measured and the estimated memory of a training step (defaults: configs/seed.yaml, B 96, T 400,
     * all three precisions, cuda:0). Needs a GPU.
     *
     * @throws IllegalArgumentException for an unknown flag or value
     * @throws IllegalStateException when CUDA is not available
     */
    public static void main(String[] args) {
        String config = null, device = "cuda:0";
        int batch = 96, frames = 400;
        List<Precision> precisions = new ArrayList<>(List.of(Precision.OFF, Precision.FP16, Precision.BF16));
        for (int i = 0; i < args.length; i++) {
            String v = i + 1 < args.length ? args[i + 1] : null;
            if (v == null) throw new IllegalArgumentException("ActivationMemory: " + args[i] + " needs a value");
            switch (args[i]) {
                case "--config" -> config = v;
                case "--batch-size" -> batch = Integer.parseInt(v);
                case "--frames" -> frames = Integer.parseInt(v);
                case "--device" -> device = v;
                case "--precisions" -> {
                    precisions.clear();
                    for (String p : v.split(",")) precisions.add(Precision.resolve(p.trim(), true));
                }
                default -> throw new IllegalArgumentException("ActivationMemory: unknown flag " + args[i]
                        + " (expected --config, --batch-size, --frames, --precisions, --device)");
            }
            i++;
        }
        TrainConfig cfg = TrainConfig.resolve(config == null ? TrainConfig.loadBuiltin("configs/seed.yaml")
                : TrainConfig.loadYaml(java.nio.file.Path.of(config)));
        PrintStream out = System.out;
        try (CudaBackend backend = CudaBackend.open(Device.parse(device))) {
            out.printf(Locale.ROOT, "%s, %s; config %s, batch %d x %d frames, one training step%n", backend.context(),
                    backend.matmulImplementation(), config == null ? "configs/seed.yaml" : config, batch, frames);
            for (Precision p : precisions) {
                out.println(measure(cfg, backend, p, batch, frames).describe());
                backend.liveBytes();
            }
            out.println("allocator: " + backend.context().allocator().stats());
        }
    }
}
