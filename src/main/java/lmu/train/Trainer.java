package lmu.train;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import lmu.amp.Autocast;
import lmu.amp.DynamicLossScaler;
import lmu.amp.Precision;
import lmu.autograd.GradMode;
import lmu.nn.CtcModel;
import lmu.nn.Dropout;
import lmu.optim.Adam;
import lmu.optim.GradClip;
import lmu.optim.LrSchedule;
import lmu.speech.ctc.CtcLoss;
import lmu.speech.ctc.CtcLossFunction;
import lmu.tensor.Tensor;
import lmu.util.Rng;

/**
 * The training loop: forward, CTC loss, backward (accumulated over {@code grad_accum} batches),
 * clipping, a step skipped when gradients are not finite, AdamW, validation and checkpoints every
 * epoch, early stopping on validation WER. Every source of randomness is a pure function of the seed
 * and the position (epoch, batch, step), so resuming from a checkpoint continues exactly as an
 * uninterrupted run would. With {@code train.mixed_precision} fp16 or bf16 the forward pass runs under
 * that {@link Autocast} policy (validation stays fp32) and fp16 gradients go through a {@link
 * DynamicLossScaler} (loss scaled before backward, gradients unscaled before clipping).
 *
 * <p>The step runs where the model's parameters are ({@link lmu.nn.Module#to}): each batch's
 * features are copied there, the optimizer keeps its moments there; a single replica on an
 * accelerator decides unscaling, clipping and the skip of a non-finite step on the device and reads
 * the loss, the gradient norm and the overflow flag once, after the step ({@link DeviceStep}, which
 * also captures and replays the step as a CUDA graph: {@code train.cuda_graphs}); checkpoints are
 * written from host copies.
 */
public final class Trainer {
    /** Why a run ended. */
    public enum Stop { COMPLETED, MAX_STEPS, EARLY_STOPPED, SIGNAL, DIVERGED }

    /** The outcome of {@link #run}. */
    public record Summary(Stop stop, int epoch, long step, double bestWer, Path lastCheckpoint, List<Double> losses) {}

    private final TrainConfig cfg;
    private final CtcModel model;
    private final BatchSource train;
    private final Supplier<Iterator<TrainBatch>> valid;
    private final Path outDir;
    private final PrintStream out;
    private final Progress progress;
    /** Whether the progress line is redrawn in place (a terminal): then every step, not every log_every. */
    private final boolean live;
    /** Where the model's parameters live; batches are copied there. */
    private final lmu.tensor.Device device;
    private final Adam optimizer;
    private final LrSchedule schedule;
    private final Precision precision;
    private final DynamicLossScaler scaler;
    private final CtcLoss ctc = CtcLoss.batchMajor().withZeroInfinity(true);
    private final List<Double> losses = new java.util.ArrayList<>();

    // position and bookkeeping, all saved in checkpoints
    private int epoch = 1;
    private int batchInEpoch;
    private long step;
    private double bestWer = Double.POSITIVE_INFINITY;
    private int epochsWithoutImprovement;
    private long skippedSteps;
    private int consecutiveBad;
    private long infeasibleUtterances;
    private DataParallel dp; // null: a single replica
    private final DeviceStep deviceStep; // a single replica on an accelerator: decisions on the device; null on the CPU

    public Trainer(TrainConfig cfg, CtcModel model, BatchSource train, Supplier<Iterator<TrainBatch>> valid, Path outDir,
            PrintStream out, boolean live) {
        this.cfg = cfg;
        this.model = model;
        this.train = train;
        this.valid = valid;
        this.outDir = outDir;
        this.out = out;
        this.live = live;
        this.progress = new Progress(out, live, cfg.train().logEvery());
        TrainConfig.Optim o = cfg.optim();
        Map<String, Tensor> params = model.namedParameters();
        this.device = model.device();
        this.optimizer = o.name().equals("adam") ? Adam.adam(params, o.beta1(), o.beta2(), o.eps(), o.weightDecay())
                : Adam.adamW(params, o.beta1(), o.beta2(), o.eps(), o.weightDecay());
        // auto: fp16 on a GPU, off on the CPU
        this.precision = Precision.resolve(cfg.train().mixedPrecision(), device.kind() != lmu.tensor.Device.Kind.CPU);
        this.scaler = DynamicLossScaler.forPrecision(precision, cfg.train().lossScale());
        this.schedule = switch (o.schedule()) {
            case "constant" -> LrSchedule.warmupConstant(o.lr(), o.warmup());
            case "cosine" -> LrSchedule.warmupCosine(o.lr(), o.warmup(),
                    Math.max(o.warmup() + 1, (long) cfg.train().epochs() * Math.max(1, train.batchesPerEpoch()) / cfg.train().gradAccum()),
                    o.minLr());
            default -> LrSchedule.warmupStaircase(o.lr(), o.warmup(), o.gamma(), o.every());
        };
        this.deviceStep = device.kind() == lmu.tensor.Device.Kind.CPU ? null : new DeviceStep(model, optimizer, scaler, ctc,
                precision, cfg.train().gradAccum(), o.clipNorm(), cfg.train().cudaGraphs(), out);
    }

    /** Restores weights, optimizer and position from a checkpoint. */
    public void resume(Checkpoints.Loaded ck) {
        Models.copyWeights(ck, model.namedParameters());
        JsonObject s = ck.state();
        optimizer.load(ck.optimizer().arrays(), (long) ck.number("optimizer_steps"));
        epoch = (int) ck.number("epoch");
        batchInEpoch = (int) ck.number("batch_in_epoch");
        step = (long) ck.number("step");
        bestWer = ck.number("best_wer");
        epochsWithoutImprovement = (int) ck.number("epochs_without_improvement");
        skippedSteps = (long) ck.number("skipped_steps");
        consecutiveBad = (int) ck.number("consecutive_bad_steps");
        if (scaler.isDynamic() && s.has("loss_scale")) {
            scaler.restore(ck.number("loss_scale"), (int) ck.number("loss_scale_clean_steps"), (long) ck.number("loss_scale_skipped"));
        }
        out.printf(Locale.ROOT, "resumed from %s: epoch %d, batch %d of the epoch, step %d%n", ck.dir(), epoch, batchInEpoch, step);
    }

    public long step() {
        return step;
    }

    /** The loss scaler (scale 1 unless fp16); data-parallel runs set its {@link DynamicLossScaler#agreeWith vote}. */
    public DynamicLossScaler lossScaler() {
        return scaler;
    }

    /**
     * Makes this trainer one replica of a data-parallel group (after {@link #resume}, before
     * {@link #run}): rank 0's weights, optimizer state and position are copied to every rank; from
     * then on gradients are averaged over the global batch and control decisions are agreed, and
     * only rank 0 writes checkpoints and metrics (see {@link DataParallel}).
     */
    public void dataParallel(DataParallel group) {
        Map<String, float[]> state = optimizer.state(); // on a device: host copies, which the broadcast fills
        group.synchronizeStart(this, model.parameters(), state);
        optimizer.load(state, optimizer.steps());
        this.dp = group;
        scaler.agreeWith(group::anyTrue);
    }

    /** The position and bookkeeping as numbers (for {@link DataParallel} to broadcast). */
    double[] position() {
        return new double[] {epoch, batchInEpoch, step, bestWer, epochsWithoutImprovement, skippedSteps, consecutiveBad,
            optimizer.steps(), infeasibleUtterances};
    }

    void position(double[] p) {
        epoch = (int) p[0];
        batchInEpoch = (int) p[1];
        step = (long) p[2];
        bestWer = p[3];
        epochsWithoutImprovement = (int) p[4];
        skippedSteps = (long) p[5];
        consecutiveBad = (int) p[6];
        infeasibleUtterances = (long) p[8];
        optimizer.load(optimizer.state(), (long) p[7]);
    }

    private boolean hasNext(Iterator<TrainBatch> it) {
        return dp == null ? it.hasNext() : dp.allHaveNext(it.hasNext());
    }

    /**
     * Trains until the configured epochs, max steps, early stop, a stop signal or divergence.
     *
     * @param log where metrics go; null for none (the ranks other than 0 of a data-parallel group)
     */
    public Summary run(MetricsLog log) throws IOException {
        TrainConfig.Train t = cfg.train();
        Path last = null;
        long t0 = System.nanoTime();
        long framesSinceLog = 0, stepsSinceLog = 0;
        long logTime = System.nanoTime();
        double lossSinceLog = 0;
        int lossCount = 0;
        int accum = 0;
        model.train(true);
        for (; epoch <= t.epochs(); epoch++, batchInEpoch = 0) {
            Iterator<TrainBatch> it = train.epoch(epoch, batchInEpoch);
            while (hasNext(it)) {
                long tw = System.nanoTime();
                TrainBatch b = it.next();
                lmu.autograd.Profiler.add("data (waiting for the loader)", System.nanoTime() - tw);
                long dropoutSeed = Rng.derive(t.seed(), step * t.gradAccum() + accum).nextLong();
                Dropout.reseed(model, dp == null ? dropoutSeed : Rng.derive(dropoutSeed, dp.rank()).nextLong());
                boolean stepNow = accum + 1 >= t.gradAccum() || !hasNext(it); // known before backward: its reduction overlaps it
                DeviceStep.Outcome outcome = null;
                double lv;
                if (dp == null && deviceStep != null) { // the loss is read after the step
                    outcome = deviceStep.microBatch(b, schedule.lr(step), stepNow, () -> Dropout.reseed(model, dropoutSeed));
                    lv = Double.NaN;
                } else {
                    lv = forwardBackward(b, stepNow);
                }
                batchInEpoch = b.resumeAt();
                accum++;
                framesSinceLog += b.totalFrames();
                if (Double.isFinite(lv) && dp == null) {
                    lossSinceLog += lv;
                    lossCount++;
                }
                if (!stepNow) continue;
                accum = 0;
                boolean ok = outcome != null ? account(outcome) : applyStep();
                if (outcome != null && Double.isFinite(lv = outcome.loss())) {
                    lossSinceLog += lv;
                    lossCount++;
                }
                if (dp != null) {
                    lv = dp.lastStepLoss(); // the global batch's mean, the same on every rank
                    if (Double.isFinite(lv)) {
                        lossSinceLog += lv;
                        lossCount++;
                    }
                }
                stepsSinceLog++;
                if (!ok && consecutiveBad >= t.maxBadSteps()) {
                    progress.println(String.format(Locale.ROOT, "stopping: %d consecutive steps with non-finite loss or gradients"
                            + " (last at step %d); last good checkpoint: %s", consecutiveBad, step, last == null ? "none" : last));
                    return new Summary(Stop.DIVERGED, epoch, step, bestWer, last, losses);
                }
                if (ok) losses.add(lv);
                boolean logNow = stepsSinceLog > 0 && (step % t.logEvery() == 0 || !ok);
                if (logNow || (live && stepsSinceLog > 0)) { // a terminal's line is redrawn every step, the logs every log_every
                    double secs = (System.nanoTime() - logTime) / 1e9;
                    double mean = lossCount == 0 ? Double.NaN : lossSinceLog / lossCount;
                    long totalSteps = (long) t.epochs() * train.batchesPerEpoch() / t.gradAccum();
                    double rate = stepsSinceLog / Math.max(secs, 1e-9);
                    double eta = totalSteps > 0 ? (totalSteps - step) / Math.max(rate, 1e-9) : -1;
                    progress.step(new Progress.Step(epoch, t.epochs(), step, totalSteps, mean, schedule.lr(Math.max(0, step - 1)),
                            scaler.isDynamic() ? scaler.scale() : 0,
                            rate, framesSinceLog / Math.max(secs, 1e-9), eta, skippedSteps));
                }
                if (logNow) {
                    double secs = (System.nanoTime() - logTime) / 1e9;
                    Map<String, Object> rec = new LinkedHashMap<>();
                    rec.put("epoch", epoch);
                    rec.put("step", step);
                    rec.put("loss", lossCount == 0 ? Double.NaN : lossSinceLog / lossCount);
                    rec.put("lr", schedule.lr(Math.max(0, step - 1)));
                    rec.put("steps_per_s", stepsSinceLog / Math.max(secs, 1e-9));
                    rec.put("frames_per_s", framesSinceLog / Math.max(secs, 1e-9));
                    rec.put("skipped_steps", skippedSteps);
                    if (scaler.isDynamic()) rec.put("loss_scale", scaler.scale());
                    rec.put("time_s", (System.nanoTime() - t0) / 1e9);
                    if (log != null) log.log("train", rec);
                    framesSinceLog = 0;
                    stepsSinceLog = 0;
                    lossSinceLog = 0;
                    lossCount = 0;
                    logTime = System.nanoTime();
                }
                String signal = dp == null ? StopSignal.requested() : dp.agreeStop(StopSignal.requested());
                if (signal != null || (t.maxSteps() > 0 && step >= t.maxSteps())) {
                    last = save(Checkpoints.stepName(epoch, step), false, epoch, batchInEpoch);
                    progress.println((signal != null ? "received " + signal : "reached max_steps " + t.maxSteps())
                            + ": saved " + last + "; continue with --resume auto");
                    return new Summary(signal != null ? Stop.SIGNAL : Stop.MAX_STEPS, epoch, step, bestWer, last, losses);
                }
            }
            if (lmu.autograd.Profiler.enabled()) {
                progress.println("time per op, epoch " + epoch + ":\n" + lmu.autograd.Profiler.table());
                lmu.autograd.Profiler.reset();
            }
            Evaluator.Result r = valid == null ? null : Evaluator.evaluate(model, valid.get());
            if (r != null && dp != null) r = dp.combine(r);
            model.train(true);
            boolean best = false;
            if (r != null) {
                best = r.wer() < bestWer;
                if (best) {
                    bestWer = r.wer();
                    epochsWithoutImprovement = 0;
                } else {
                    epochsWithoutImprovement++;
                }
                reportValidation(log, r, t0);
            }
            int finished = epoch;
            last = save(Checkpoints.epochName(finished, false), best, finished + 1, 0);
            String signal = dp == null ? StopSignal.requested() : dp.agreeStop(StopSignal.requested());
            if (signal != null) {
                progress.println("received " + signal + ": saved " + last + "; continue with --resume auto");
                return new Summary(Stop.SIGNAL, finished, step, bestWer, last, losses);
            }
            boolean stopEarly = r != null && t.patience() > 0 && epochsWithoutImprovement >= t.patience();
            if (dp != null) stopEarly = dp.anyTrue(stopEarly);
            if (stopEarly) {
                progress.println(String.format(Locale.ROOT, "early stop: validation WER has not improved for %d epochs (best %.2f%%)",
                        epochsWithoutImprovement, 100 * bestWer));
                return new Summary(Stop.EARLY_STOPPED, finished, step, bestWer, last, losses);
            }
        }
        return new Summary(Stop.COMPLETED, t.epochs(), step, bestWer, last, losses);
    }

    /**
     * Forward (under the precision policy), CTC loss and backward of one (micro-)batch; returns its
     * mean loss. The loss is multiplied by the loss scale before backward. A single replica
     * back-propagates the mean (divided by grad_accum); a data-parallel replica the sum over its
     * utterances, which {@link DataParallel#reduceGradients} divides by the global batch (an empty
     * slice adds nothing); on the step's last micro-batch ({@code stepNow}) its backward starts
     * the all-reduces.
     */
    private double forwardBackward(TrainBatch b, boolean stepNow) {
        if (dp != null && b.size() == 0) {
            dp.addMicroBatch(0, Double.NaN);
            return Double.NaN;
        }
        CtcModel.Output o;
        try (Autocast ac = Autocast.enable(precision)) {
            o = model.forward(lmu.backend.Backends.to(b.features(), device), b.frames());
        }
        CtcLossFunction f = new CtcLossFunction(ctc, o.lengths(), b.labels(), b.labelLengths());
        Tensor loss = f.apply(o.values());
        infeasibleUtterances += f.result().infeasible().length;
        double lv = loss.item();
        double scale = scaler.scale();
        if (dp != null) {
            dp.backward(loss.mul(b.size() * scale), stepNow);
            dp.addMicroBatch(b.size(), lv);
        } else {
            double factor = scale / cfg.train().gradAccum();
            (factor == 1 ? loss : loss.mul(factor)).backward();
        }
        return lv;
    }

    /**
     * Averages (data parallel), unscales, clips and applies the accumulated gradient; false (and
     * gradients dropped) when they are not finite. A skip that lowered the loss scale is the
     * scaler's business and does not count toward {@code max_bad_steps}; one at the scale floor (or
     * without scaling) does.
     */
    private boolean applyStep() {
        List<Tensor> params = model.parameters();
        if (dp != null) dp.reduceGradients();
        if (!scaler.unscale(params)) {
            if (!scaler.update(true)) consecutiveBad++;
            skippedSteps++;
            optimizer.zeroGrad();
            return false;
        }
        scaler.update(false);
        double clip = cfg.optim().clipNorm();
        double norm = clip > 0 ? GradClip.clipGlobalNorm(params, clip) : GradClip.globalNorm(params);
        boolean finite = Double.isFinite(norm);
        if (dp != null) finite = !dp.anyTrue(!finite); // identical gradients give identical norms; agreed all the same
        if (!finite) {
            skippedSteps++;
            consecutiveBad++;
            optimizer.zeroGrad();
            return false;
        }
        consecutiveBad = 0;
        long t0 = System.nanoTime();
        try (GradMode g = GradMode.off()) {
            optimizer.step(schedule.lr(step));
        }
        lmu.autograd.Profiler.add("optimizer (AdamW)", System.nanoTime() - t0);
        optimizer.zeroGrad();
        step++;
        return true;
    }

    /**
     * The host's bookkeeping of a step whose decisions were taken on the device ({@link DeviceStep}),
     * as {@link #applyStep} keeps it: the loss scale, skipped and consecutive bad steps, the step count.
     */
    private boolean account(DeviceStep.Outcome o) {
        infeasibleUtterances += o.infeasible();
        optimizer.zeroGrad();
        if (o.overflow()) {
            if (!scaler.update(true)) consecutiveBad++;
            skippedSteps++;
            return false;
        }
        scaler.update(false);
        if (!Double.isFinite(o.norm())) {
            skippedSteps++;
            consecutiveBad++;
            return false;
        }
        consecutiveBad = 0;
        optimizer.countStep();
        step++;
        return true;
    }

    private void reportValidation(MetricsLog log, Evaluator.Result r, long t0) throws IOException {
        progress.println(String.format(Locale.ROOT, "epoch %d validation: loss %.4f | WER %.2f%% | CER %.2f%% | %d utterances%s",
                epoch, r.loss(), 100 * r.wer(), 100 * r.cer(), r.utterances(),
                r.infeasible() > 0 ? " | " + r.infeasible() + " too short for their labels" : ""));
        int shown = 0;
        for (Evaluator.Hypothesis h : r.hypotheses()) {
            if (shown++ >= cfg.train().examples()) break;
            progress.println("  ref: " + h.reference());
            progress.println("  hyp: " + h.hypothesis());
        }
        Map<String, Object> rec = new LinkedHashMap<>();
        rec.put("epoch", epoch);
        rec.put("step", step);
        rec.put("valid_loss", r.loss());
        rec.put("wer", r.wer());
        rec.put("cer", r.cer());
        rec.put("word_errors", r.words().errors());
        rec.put("words", r.words().referenceLength());
        rec.put("char_errors", r.chars().errors());
        rec.put("chars", r.chars().referenceLength());
        rec.put("time_s", (System.nanoTime() - t0) / 1e9);
        if (log != null) log.log("valid", rec);
    }

    /** Saves a checkpoint whose position (where training continues) is batch {@code nextBatch} of epoch {@code nextEpoch}. */
    private Path save(String name, boolean alsoBest, int nextEpoch, int nextBatch) throws IOException {
        if (dp != null && !dp.isRoot()) return outDir.resolve(name); // only rank 0 writes
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("format", 1);
        state.put("epoch", nextEpoch);
        state.put("batch_in_epoch", nextBatch);
        state.put("step", step);
        state.put("optimizer_steps", optimizer.steps());
        state.put("best_wer", bestWer);
        state.put("epochs_without_improvement", epochsWithoutImprovement);
        state.put("skipped_steps", skippedSteps);
        state.put("consecutive_bad_steps", consecutiveBad);
        state.put("infeasible_utterances", infeasibleUtterances);
        if (scaler.isDynamic()) {
            state.put("loss_scale", scaler.scale());
            state.put("loss_scale_clean_steps", scaler.cleanSteps());
            state.put("loss_scale_skipped", scaler.skipped());
        }
        state.put("config", cfg.toYaml());
        state.put("vocabulary", model.vocabulary().characters());
        Map<String, int[]> shapes = new LinkedHashMap<>();
        Map<String, float[]> opt = optimizer.state();
        opt.keySet().forEach(k -> shapes.put(k, new int[] {opt.get(k).length}));
        Map<String, String> meta = Map.of("vocabulary", model.vocabulary().characters(), "format", "lmu-engine/1");
        Path p = Checkpoints.save(outDir, name, model.namedParameters(), opt, shapes, state, meta);
        if (alsoBest) {
            Checkpoints.save(outDir, name + "_best", model.namedParameters(), opt, shapes, state, meta);
        }
        Checkpoints.prune(outDir, cfg.train().keepLast());
        return p;
    }
}
