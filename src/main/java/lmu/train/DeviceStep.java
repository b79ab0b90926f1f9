package lmu.train;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import lmu.amp.Autocast;
import lmu.amp.DynamicLossScaler;
import lmu.amp.Precision;
import lmu.autograd.GradMode;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.backend.OptimizerKernels;
import lmu.backend.StepGraph;
import lmu.nn.CtcModel;
import lmu.nn.FrameLengths;
import lmu.nn.Masks;
import lmu.nn.MaskSeeds;
import lmu.optim.Adam;
import lmu.speech.ctc.CtcLoss;
import lmu.speech.ctc.CtcLossFunction;
import lmu.tensor.DType;
import lmu.tensor.DeviceStorage;
import lmu.tensor.Tensor;

/**
 * The training step of a single replica on an accelerator, with every decision taken on the device
 * and every per-step value read from device memory, so that the step can be captured as a CUDA
 * graph and replayed:
 * <ul>
 *   <li>a <em>step state</em> of {@link OptimizerKernels#STEP_STATE_SIZE} floats holds the learning
 *       rate, Adam's bias corrections and 1 / loss scale (written by the host before the step) and
 *       the found-inf flag and the gradients' sum of squares (written by the kernels): unscaling,
 *       clipping and the skip of a non-finite step happen on the device, and the host reads the
 *       state once, after the step, for its bookkeeping (loss scale, skipped steps);
 *   <li>the loss is multiplied by a device scalar (loss scale / grad_accum) before backward;
 *   <li>the loss is read after the step, not between backward and the update.
 * </ul>
 *
 * <p>With {@code train.cuda_graphs} auto or on, a backend that {@linkplain Backend#canCapture can
 * capture} and {@code grad_accum} 1, steps are cached per batch: the first step of a key runs
 * eagerly (a warm-up that also learns the order of the dropout calls), the second is captured into
 * a {@link StepGraph} and launched, later ones copy their features into the key's static input
 * tensor, rewrite the step state and the dropout {@link MaskSeeds} table and replay the graph.
 *
 * <p>The CTC loss takes its input lengths, labels and label lengths from static device tensors of
 * the key (written before every step, like the features) and reduces the loss on the device into a
 * static scalar read after the step, so batches that differ in their labels replay one graph and
 * every step, replayed or not, logs its real loss. The frame lengths of every encoder level live in
 * static device tensors too ({@link FrameLengths}, rewritten before every replay), read by the LMU,
 * attention and padding-mask ops, so the key is the batch shape (B, T) and the longest label
 * sequence L of the batch (the CTC scratch is sized by it). A step whose capture fails runs eagerly, the reason is printed once, and capture
 * is not tried again.
 */
final class DeviceStep {
    /** What the host learns after a step. */
    record Outcome(boolean overflow, double norm, double loss, long infeasible, boolean replayed) {}

    /** Most captured graphs kept (one per distinct key). */
    static final int MAX_GRAPHS = 16;
    /** Most dropout calls of one step (slots of a seed table). */
    static final int MAX_DROPOUT_CALLS = 512;

    private final CtcModel model;
    private final Adam optimizer;
    private final DynamicLossScaler scaler;
    private final CtcLoss ctc;
    private final Precision precision;
    private final int gradAccum;
    private final double clipNorm;
    private final Backend backend;
    private final PrintStream log;
    private final Tensor state;
    private final Tensor lossFactor;
    private final float[] hostState = new float[OptimizerKernels.STEP_STATE_SIZE];
    private final List<Tensor> losses = new ArrayList<>();
    private long infeasible;
    private boolean prepared;
    private boolean graphs;
    private final Map<Key, Entry> entries = new LinkedHashMap<>();
    private long captures, replays;

    /**
     * A batch's identity for the graph cache: B, T, the longest label sequence L of the batch and
     * the frame lengths (not the labels: those are device inputs of the step).
     */
    record Key(int batch, int frames, int maxLabels) {
        static Key of(TrainBatch b) {
            int batch = b.features().dim(0);
            return new Key(batch, b.features().dim(1), b.labels().length / Math.max(1, batch));
        }
    }

    /**
     * The CTC inputs of a step on the device, as exact float32 values: the model's output lengths
     * (B), the padded labels (B, L) and the label lengths (B).
     */
    private record CtcInputs(Tensor inputLengths, Tensor targets, Tensor targetLengths) {}

    /** One key's warm-up knowledge and, once captured, its graph and static tensors. */
    private static final class Entry {
        MaskSeeds seeds;
        FrameLengths lengths;
        Tensor features;
        CtcInputs ctcInputs;
        int[] logitsShape;
        Tensor loss;
        StepGraph graph;
    }

    /**
     * @param mode {@code train.cuda_graphs}: auto, on or off
     * @param log where the one-line notes about capture go
     */
    DeviceStep(CtcModel model, Adam optimizer, DynamicLossScaler scaler, CtcLoss ctc, Precision precision, int gradAccum,
            double clipNorm, String mode, PrintStream log) {
        this.model = model;
        this.optimizer = optimizer;
        this.scaler = scaler;
        this.ctc = ctc;
        this.precision = precision;
        this.gradAccum = gradAccum;
        this.clipNorm = clipNorm;
        this.backend = Backends.of(model.device());
        this.log = log;
        this.state = backend.empty(DType.F32, OptimizerKernels.STEP_STATE_SIZE);
        this.lossFactor = backend.empty(DType.F32);
        this.graphs = !mode.equals("off") && backend.canCapture() && gradAccum == 1;
        if (mode.equals("on") && !graphs) {
            log.println("cuda graphs: off for this run (" + (gradAccum != 1 ? "grad_accum " + gradAccum + " > 1"
                    : model.device() + " cannot capture") + "); steps launch eagerly");
        }
    }

    /** Steps captured and steps replayed so far. */
    long[] graphCounts() {
        return new long[] {captures, replays};
    }

    /**
     * Forward and backward of one micro-batch; on the step's last one ({@code stepNow}) also the
     * unscale, clipping and AdamW update, then one read of the step state.
     *
     * @param lr the learning rate of this step
     * @return the outcome once the step has run; null after a micro-batch that is not the step's last
     */
    Outcome microBatch(TrainBatch b, double lr, boolean stepNow, Runnable reseed) {
        if (graphs && stepNow && !prepared) {
            Key key = Key.of(b);
            Entry e = entries.get(key);
            if (e != null && e.graph != null) return replay(e, b, lr);
            if (e == null) return warmUp(key, b, lr);
            Outcome o = capture(key, e, b, lr);
            if (o != null) return o;
            reseed.run(); // the failed capture consumed dropout calls
        }
        forwardBackward(b, lr, null);
        if (!stepNow) return null;
        update();
        return finish(false);
    }

    /** An eager forward and backward (learning the dropout call order into {@code learn} unless null). */
    private void forwardBackward(TrainBatch b, double lr, MaskSeeds learn) {
        if (!prepared) prepare(lr);
        Tensor features = Backends.to(b.features(), model.device());
        if (learn == null) {
            losses.add(forwardBackward(features, b, null));
            return;
        }
        try (MaskSeeds.Scope s = learn.activate(false)) {
            losses.add(forwardBackward(features, b, null));
        }
    }

    private Outcome warmUp(Key key, TrainBatch b, double lr) {
        Entry e = new Entry();
        e.seeds = new MaskSeeds(model.device(), MAX_DROPOUT_CALLS);
        if (entries.size() >= 4 * MAX_GRAPHS) evictOneWarmUp();
        if (entries.values().stream().filter(x -> x.graph != null).count() < MAX_GRAPHS) entries.put(key, e);
        forwardBackward(b, lr, e.seeds);
        update();
        return finish(false);
    }

    /** Drops the oldest key that has not been captured (keys seen once, as most batches of a real epoch are). */
    private void evictOneWarmUp() {
        for (Iterator<Entry> it = entries.values().iterator(); it.hasNext(); ) {
            if (it.next().graph == null) {
                it.remove();
                return;
            }
        }
    }

    /** Captures the step of a warmed-up key and launches it; null (and capture off) when it fails. */
    private Outcome capture(Key key, Entry e, TrainBatch b, double lr) {
        e.features = backend.empty(DType.F32, b.features().shape());
        copyFeatures(e, b);
        int[] outLengths = model.outputLengths(b.frames());
        e.ctcInputs = new CtcInputs(backend.empty(DType.F32, key.batch()), backend.empty(DType.F32, b.labels().length),
                backend.empty(DType.F32, key.batch()));
        writeCtcInputs(e.ctcInputs, outLengths, b);
        e.lengths = new FrameLengths(model.device());
        e.lengths.write(model.levelLengths(b.frames()));
        for (int[] frames : model.levelLengths(new int[] {key.frames()})) Masks.prepare(model.device(), frames[0]); // no copy in the capture
        prepare(lr);
        e.seeds.refresh();
        long infeasibleBefore = infeasible;
        boolean capturing = false;
        try {
            backend.beginCapture();
            capturing = true;
            try (MaskSeeds.Scope s = e.seeds.activate(true); FrameLengths.Scope l = e.lengths.activate()) {
                e.loss = forwardBackward(e.features, b, e);
                update();
            }
            capturing = false;
            e.graph = backend.endCapture();
        } catch (RuntimeException ex) {
            if (capturing) backend.abortCapture();
            optimizer.zeroGrad(); // what the failed capture allocated is dropped
            infeasible = infeasibleBefore;
            prepared = false;
            entries.remove(key);
            graphs = false;
            log.println("cuda graphs: capturing the step of batch " + key.batch() + " x " + key.frames()
                    + " failed, training on with eager launches: " + ex);
            return null;
        }
        captures++;
        log.println("cuda graphs: captured the step of batch " + key.batch() + " x " + key.frames() + " (" + e.graph
                + "); later batches with the same key replay it");
        e.graph.replay();
        losses.add(e.loss);
        return finish(false);
    }

    private Outcome replay(Entry e, TrainBatch b, double lr) {
        copyFeatures(e, b);
        int[] outLengths = model.outputLengths(b.frames());
        ctc.check(e.logitsShape, outLengths, b.labels(), b.labelLengths());
        writeCtcInputs(e.ctcInputs, outLengths, b);
        e.lengths.write(model.levelLengths(b.frames()));
        infeasible += infeasible(outLengths, b);
        prepare(lr);
        e.seeds.refresh();
        e.graph.replay();
        replays++;
        losses.add(e.loss);
        return finish(true);
    }

    /** Writes a batch's CTC lengths and labels into device tensors (host-to-device copies, before the step's work). */
    private static void writeCtcInputs(CtcInputs in, int[] outLengths, TrainBatch b) {
        ((DeviceStorage) in.inputLengths().storage()).fromHost(floats(outLengths));
        ((DeviceStorage) in.targets().storage()).fromHost(floats(b.labels()));
        ((DeviceStorage) in.targetLengths().storage()).fromHost(floats(b.labelLengths()));
    }

    /** A batch's CTC lengths and labels as new device tensors (an eager step). */
    private CtcInputs ctcInputs(int[] outLengths, TrainBatch b) {
        CtcInputs in = new CtcInputs(backend.empty(DType.F32, outLengths.length), backend.empty(DType.F32, b.labels().length),
                backend.empty(DType.F32, b.labelLengths().length));
        writeCtcInputs(in, outLengths, b);
        return in;
    }

    private static float[] floats(int[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = v[i];
        return f;
    }

    /** Utterances with fewer output frames than their labels need (counted on the host, from the batch). */
    private static long infeasible(int[] outLengths, TrainBatch b) {
        int l = b.labels().length / Math.max(1, outLengths.length);
        long n = 0;
        for (int i = 0; i < outLengths.length; i++) {
            if (outLengths[i] < CtcLoss.requiredFrames(b.labels(), i * l, b.labelLengths()[i])) n++;
        }
        return n;
    }

    /** The batch's features into the entry's static buffer: one upload, or a device copy when they are there already. */
    private static void copyFeatures(Entry e, TrainBatch b) {
        Tensor f = b.features();
        if (f.device().equals(e.features.device())) {
            Backends.of(f).copyAlongAxis(e.features, 0, f, 0, f.dim(0), 0, false);
        } else {
            ((DeviceStorage) e.features.storage()).fromHost(f.toFloatArray());
        }
    }

    /** Writes the per-step values into the step state and the loss factor (before the step's work is enqueued). */
    private void prepare(double lr) {
        double[] bc = optimizer.biasCorrections(optimizer.steps() + 1);
        Arrays.fill(hostState, 0);
        hostState[OptimizerKernels.LR] = (float) lr;
        hostState[OptimizerKernels.BIAS_CORRECTION1] = (float) bc[0];
        hostState[OptimizerKernels.BIAS_CORRECTION2] = (float) bc[1];
        hostState[OptimizerKernels.INV_LOSS_SCALE] = (float) (1 / scaler.scale());
        ((DeviceStorage) state.storage()).fromHost(hostState);
        ((DeviceStorage) lossFactor.storage()).fromHost(new float[] {(float) (scaler.scale() / gradAccum)});
        prepared = true;
    }

    /**
     * Forward under the precision policy, CTC loss (lengths and labels from device tensors: the
     * captured entry's static ones, or new ones for an eager step), backward of loss × loss factor;
     * returns the (unscaled) loss, a device scalar.
     */
    private Tensor forwardBackward(Tensor features, TrainBatch b, Entry captured) {
        CtcModel.Output o;
        try (Autocast ac = Autocast.enable(precision)) {
            o = model.forward(features, b.frames());
        }
        ctc.check(o.values().shape(), o.lengths(), b.labels(), b.labelLengths());
        CtcInputs in;
        if (captured != null) {
            captured.logitsShape = o.values().shape();
            in = captured.ctcInputs;
        } else {
            in = ctcInputs(o.lengths(), b);
        }
        Tensor loss = new CtcLossFunction(ctc, in.inputLengths(), in.targets(), in.targetLengths()).apply(o.values());
        infeasible += infeasible(o.lengths(), b);
        loss.mul(lossFactor).backward();
        return loss;
    }

    /** Unscale, clip and AdamW, all deciding on the device from the step state. */
    private void update() {
        List<Tensor> grads = new ArrayList<>();
        for (Tensor p : model.parameters()) if (p.grad() != null) grads.add(p.grad());
        if (grads.isEmpty()) return;
        Tensor[] g = grads.toArray(new Tensor[0]);
        OptimizerKernels k = Backends.kernels(g[0], OptimizerKernels.class);
        k.unscaleToState(g, state);
        k.clipToState(g, state, clipNorm);
        try (GradMode off = GradMode.off()) {
            optimizer.step(state);
        }
    }

    /** Reads the step state (once) and the losses of the step's micro-batches (device scalars). */
    private Outcome finish(boolean replayed) {
        float[] st = backend.toHost(state).f32();
        double loss = 0;
        for (Tensor l : losses) loss += l.item();
        loss = losses.isEmpty() ? Double.NaN : loss / losses.size();
        losses.clear();
        long inf = infeasible;
        infeasible = 0;
        prepared = false;
        return new Outcome(st[OptimizerKernels.FOUND_INF] != 0, Math.sqrt(st[OptimizerKernels.SUM_SQUARES]), loss, inf,
                replayed);
    }

    /** Releases the captured graphs. */
    void close() {
        for (Entry e : entries.values()) if (e.graph != null) e.graph.close();
        entries.clear();
    }
}
