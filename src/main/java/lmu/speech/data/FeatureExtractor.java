package lmu.speech.data;

import lmu.speech.audio.Audio;
import lmu.speech.audio.AudioReader;
import lmu.speech.audio.Resampler;
import lmu.speech.features.AugmentSeed;
import lmu.speech.features.Cmvn;
import lmu.speech.features.FeatureConfig;
import lmu.speech.features.FeatureMatrix;
import lmu.speech.features.LogMel;
import lmu.speech.features.SpecAugment;
import lmu.speech.features.SpeedPerturbation;

/**
 * The feature pipeline of one utterance: decode its segment ({@link AudioReader}), resample to
 * the feature rate, speed-perturb (augmenting only), log-mel, normalise (per utterance or with
 * global statistics), SpecAugment (augmenting only). Augmentation is seeded by (run seed, epoch,
 * utterance id). Thread-safe.
 */
public final class FeatureExtractor {
    /** How features are normalised. */
    public enum CmvnMode { NONE, UTTERANCE, GLOBAL }

    private final FeatureConfig cfg;
    private final LogMel logMel;
    private final CmvnMode cmvnMode;
    private final Cmvn global;
    private final SpecAugment specAugment;
    private final SpeedPerturbation speed;
    private final long seed;

    /**
     * @param global statistics for {@link CmvnMode#GLOBAL} (null otherwise)
     * @param specAugment masking when augmenting, or null for none
     * @param speed speed perturbation when augmenting, or null for none
     * @param seed run seed for augmentation
     * @throws IllegalArgumentException when GLOBAL has no statistics or their dimension is not nMels
     */
    public FeatureExtractor(FeatureConfig cfg, CmvnMode cmvnMode, Cmvn global, SpecAugment specAugment, SpeedPerturbation speed, long seed) {
        if (cmvnMode == CmvnMode.GLOBAL && (global == null || global.dim() != cfg.nMels())) {
            throw new IllegalArgumentException("FeatureExtractor: global CMVN needs statistics of dimension " + cfg.nMels() + ", got "
                    + (global == null ? "none" : global.dim()));
        }
        this.cfg = cfg;
        this.logMel = new LogMel(cfg);
        this.cmvnMode = cmvnMode;
        this.global = global;
        this.specAugment = specAugment;
        this.speed = speed;
        this.seed = seed;
    }

    public FeatureConfig config() {
        return cfg;
    }

    /** Smallest speed factor that can be applied (1 without speed perturbation). */
    double minSpeedFactor() {
        if (speed == null) return 1;
        double m = 1;
        for (double f : speed.factors()) m = Math.min(m, f);
        return m;
    }

    /**
     * @param u the utterance
     * @param epoch epoch (for augmentation seeds)
     * @param augment apply speed perturbation and SpecAugment (when configured)
     * @return features, shape (T, nMels)
     * @throws RuntimeException from decoding (named file and problem), or IllegalArgumentException
     *     when the segment holds no samples
     */
    public FeatureMatrix extract(Utterance u, int epoch, boolean augment) {
        Audio a = AudioReader.read(u.audio(), u.offset(), u.duration());
        float[] x = a.samples();
        if (a.sampleRate() != cfg.sampleRate()) x = Resampler.of(a.sampleRate(), cfg.sampleRate()).process(x);
        if (augment && speed != null) {
            x = speed.apply(x, speed.choose(AugmentSeed.of(seed, epoch, u.id(), SpeedPerturbation.SEED_PURPOSE)));
        }
        if (x.length == 0) {
            throw new IllegalArgumentException(u.audio() + ": no audio samples in the segment at " + u.offset() + " s");
        }
        FeatureMatrix f = logMel.compute(x);
        switch (cmvnMode) {
            case UTTERANCE -> Cmvn.normalizeUtteranceInPlace(f);
            case GLOBAL -> global.applyInPlace(f);
            case NONE -> { }
        }
        if (augment && specAugment != null) {
            specAugment.applyInPlace(f, AugmentSeed.of(seed, epoch, u.id(), SpecAugment.SEED_PURPOSE));
        }
        return f;
    }
}
