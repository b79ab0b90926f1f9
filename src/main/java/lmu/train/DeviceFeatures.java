package lmu.train;

import java.util.List;
import lmu.autograd.GradMode;
import lmu.backend.Backends;
import lmu.backend.FeatureKernels;
import lmu.ops.MaskedFill;
import lmu.speech.data.DataLoader;
import lmu.speech.data.FeatureExtractor;
import lmu.speech.data.Signals;
import lmu.speech.features.AugmentSeed;
import lmu.speech.features.Cmvn;
import lmu.speech.features.FeatureConfig;
import lmu.speech.features.SpecAugment;
import lmu.tensor.Device;
import lmu.tensor.Tensor;

/**
 * The loader's feature pipeline after decoding, run on the model's device for a whole batch
 * ({@code data.features_on: device}): log-mel ({@link FeatureKernels}), then CMVN and SpecAugment
 * with generic tensor ops. It gives the features a {@link FeatureExtractor} with the same settings
 * gives on the loader threads, within float32 rounding:
 *
 * <ul>
 *   <li>per-utterance CMVN: statistics over each utterance's valid frames, taken relative to its
 *       first frame as {@link Cmvn.Accumulator} does, variance floored at {@link
 *       Cmvn#VARIANCE_FLOOR}; global CMVN: the same float32 {@code (x − mean) · (1/std)};
 *   <li>SpecAugment: the masks are drawn on the host by {@link SpecAugment#masks} from {@link
 *       AugmentSeed#of}(seed, epoch, utterance id) — the same draws as on the loader — and applied
 *       as two broadcast fills (frequency bins (B, 1, C), frames (B, T, 1));
 *   <li>frames past an utterance's length are 0, as in a loader's padded batch.
 * </ul>
 *
 * No gradient is recorded. Speed perturbation stays on the loader (it changes the signal). The
 * training loop's batch source ({@link DataPipeline#source(DataLoader, Device)}) calls this on the
 * trainer's thread as it hands over each batch, so the step receives features already on its
 * device, and the CPU loader path and this one feed the trainer the same {@link TrainBatch}.
 *
 * <pre>{@code
 * DeviceFeatures df = DeviceFeatures.of(loader);
 * Tensor x = df.compute(batch.signals(), batch.ids(), batch.epoch(), true, Device.cuda(0)); // (B, T, 80)
 * }</pre>
 */
public final class DeviceFeatures {
    private final FeatureConfig cfg;
    private final FeatureExtractor.CmvnMode cmvnMode;
    private final Cmvn global;
    private final SpecAugment specAugment;
    private final long seed;

    /**
     * @param global statistics for {@link FeatureExtractor.CmvnMode#GLOBAL}, else ignored
     * @param specAugment masking applied when augmenting, or null for none
     * @param seed the run seed of augmentation
     * @throws IllegalArgumentException when GLOBAL has no statistics of dimension nMels
     */
    public DeviceFeatures(FeatureConfig cfg, FeatureExtractor.CmvnMode cmvnMode, Cmvn global, SpecAugment specAugment, long seed) {
        if (cmvnMode == FeatureExtractor.CmvnMode.GLOBAL && (global == null || global.dim() != cfg.nMels())) {
            throw new IllegalArgumentException("DeviceFeatures: global CMVN needs statistics of dimension " + cfg.nMels() + ", got "
                    + (global == null ? "none" : global.dim()));
        }
        this.cfg = cfg;
        this.cmvnMode = cmvnMode;
        this.global = global;
        this.specAugment = specAugment;
        this.seed = seed;
    }

    /** The settings of a loader's extractor (what its feature batches would have had). */
    public static DeviceFeatures of(DataLoader loader) {
        FeatureExtractor fx = loader.extractor();
        return new DeviceFeatures(fx.config(), fx.cmvnMode(), fx.globalCmvn(), fx.specAugment(), fx.seed());
    }

    public FeatureConfig config() {
        return cfg;
    }

    /**
     * @param signals the batch's audio at {@link FeatureConfig#sampleRate()} (B signals)
     * @param ids utterance ids (the SpecAugment seeds), shape (B)
     * @param epoch epoch (the SpecAugment seeds)
     * @param augment apply SpecAugment (when configured)
     * @param device where to compute; the result stays there
     * @return features, shape (B, T, nMels) with T the longest utterance's frames, 0 past each
     *     utterance's frames
     * @throws IllegalArgumentException when ids and signals differ in length
     */
    public Tensor compute(Signals signals, List<String> ids, int epoch, boolean augment, Device device) {
        int batch = signals.size();
        if (ids.size() != batch) {
            throw new IllegalArgumentException("DeviceFeatures: ids must have shape (B) = (" + batch + "), got (" + ids.size() + ")");
        }
        try (GradMode g = GradMode.off()) {
            float[] samples = signals.samples();
            Tensor signal = Backends.to(Tensor.of(samples, samples.length), device);
            Tensor x = Backends.kernels(signal, FeatureKernels.class).logMel(cfg, signal, signals.offsets(), signals.lengths());
            int t = x.dim(1), c = x.dim(2);
            if (t == 0) return x;
            int[] frames = new int[batch];
            boolean[] pad = new boolean[batch * t];
            boolean padded = false;
            for (int b = 0; b < batch; b++) {
                frames[b] = cfg.numFrames(signals.lengths()[b]);
                for (int i = frames[b]; i < t; i++) pad[b * t + i] = true;
                padded |= frames[b] < t;
            }
            int[] frameMask = {batch, t, 1};
            boolean changed = false;
            switch (cmvnMode) {
                case UTTERANCE -> {
                    x = utteranceCmvn(x, frames, pad, device);
                    changed = true;
                }
                case GLOBAL -> {
                    float[] mean = new float[c], inv = new float[c];
                    double[] m = global.mean(), s = global.std();
                    for (int i = 0; i < c; i++) {
                        mean[i] = (float) m[i];
                        inv[i] = (float) (1 / s[i]);
                    }
                    x = x.sub(Backends.to(Tensor.of(mean, 1, 1, c), device)).mul(Backends.to(Tensor.of(inv, 1, 1, c), device));
                    changed = true;
                }
                case NONE -> { }
            }
            if (augment && specAugment != null) {
                boolean[] bins = new boolean[batch * c], masked = new boolean[batch * t];
                for (int b = 0; b < batch; b++) {
                    SpecAugment.Masks m = specAugment.masks(frames[b], c,
                            AugmentSeed.of(seed, epoch, ids.get(b), SpecAugment.SEED_PURPOSE));
                    System.arraycopy(m.bins(), 0, bins, b * c, c);
                    System.arraycopy(m.frames(), 0, masked, b * t, frames[b]);
                }
                x = MaskedFill.apply(x, bins, new int[] {batch, 1, c}, specAugment.maskValue());
                x = MaskedFill.apply(x, masked, frameMask, specAugment.maskValue());
                changed = true;
            }
            if (changed && padded) x = MaskedFill.apply(x, pad, frameMask, 0); // the loader's padding
            return x;
        }
    }

    /**
     * Each utterance normalised by its own per-bin mean and standard deviation over its valid
     * frames, on x's device: statistics of {@code d = x − x[:, 0]} (as {@link Cmvn.Accumulator}
     * shifts by the first frame), {@code var = mean(d²) − mean(d)²} floored, {@code y = (d −
     * mean(d)) / std}.
     *
     * @param x raw log-mel, shape (B, T, C), T &ge; 1
     * @param frames valid frames, shape (B)
     * @param pad frames past each utterance's length, shape (B, T)
     */
    private static Tensor utteranceCmvn(Tensor x, int[] frames, boolean[] pad, Device device) {
        int batch = x.dim(0), t = x.dim(1);
        float[] inv = new float[batch];
        for (int b = 0; b < batch; b++) inv[b] = frames[b] == 0 ? 0f : (float) (1.0 / frames[b]);
        Tensor invFrames = Backends.to(Tensor.of(inv, batch, 1, 1), device);
        Tensor d = MaskedFill.apply(x.sub(x.slice(1, 0, 1)), pad, new int[] {batch, t, 1}, 0);
        Tensor mu = d.sum(1, true).mul(invFrames);
        Tensor var = d.mul(d).sum(1, true).mul(invFrames).sub(mu.mul(mu));
        // 1 / sqrt(max(var, floor)) with the backend's elementwise ops
        Tensor rstd = var.add(-Cmvn.VARIANCE_FLOOR).relu().add(Cmvn.VARIANCE_FLOOR).log().mul(-0.5).exp();
        return d.sub(mu).mul(rstd);
    }
}
