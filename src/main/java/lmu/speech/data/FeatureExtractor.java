package lmu.speech.data;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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
 * utterance id). Raw log-mel features come from a {@link FeatureStore} (built by {@code prepare})
 * when it holds the segment, else from a {@link FeatureCache} (filled on first use), else from
 * the audio. Thread-safe.
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
    private final FeatureCache cache;
    private final FeatureStore store;
    private final java.util.concurrent.atomic.AtomicBoolean storeWarned = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * @param global statistics for {@link CmvnMode#GLOBAL} (null otherwise)
     * @param specAugment masking when augmenting, or null for none
     * @param speed speed perturbation when augmenting, or null for none
     * @param seed run seed for augmentation
     * @throws IllegalArgumentException when GLOBAL has no statistics or their dimension is not nMels
     */
    public FeatureExtractor(FeatureConfig cfg, CmvnMode cmvnMode, Cmvn global, SpecAugment specAugment, SpeedPerturbation speed, long seed) {
        this(cfg, cmvnMode, global, specAugment, speed, seed, null);
    }

    /**
     * As above, reading and writing raw log-mel features through {@code cache} (null for none).
     */
    public FeatureExtractor(FeatureConfig cfg, CmvnMode cmvnMode, Cmvn global, SpecAugment specAugment, SpeedPerturbation speed, long seed,
                            FeatureCache cache) {
        this(cfg, cmvnMode, global, specAugment, speed, seed, cache, null);
    }

    /**
     * As above, reading raw log-mel features first from {@code store} (null for none), then from
     * {@code cache}, and decoding the audio only for what neither holds.
     *
     * @throws IllegalArgumentException also when the store holds features of another configuration
     */
    public FeatureExtractor(FeatureConfig cfg, CmvnMode cmvnMode, Cmvn global, SpecAugment specAugment, SpeedPerturbation speed, long seed,
                            FeatureCache cache, FeatureStore store) {
        if (cmvnMode == CmvnMode.GLOBAL && (global == null || global.dim() != cfg.nMels())) {
            throw new IllegalArgumentException("FeatureExtractor: global CMVN needs statistics of dimension " + cfg.nMels() + ", got "
                    + (global == null ? "none" : global.dim()));
        }
        if (store != null && !store.identity().equals(cfg.identity())) {
            throw new IllegalArgumentException("FeatureExtractor: the feature store " + store.dir() + " holds [" + store.identity()
                    + "], this extractor computes [" + cfg.identity() + "]");
        }
        this.cfg = cfg;
        this.logMel = new LogMel(cfg);
        this.cmvnMode = cmvnMode;
        this.global = global;
        this.specAugment = specAugment;
        this.speed = speed;
        this.seed = seed;
        this.cache = cache;
        this.store = store;
    }

    public FeatureConfig config() {
        return cfg;
    }

    public CmvnMode cmvnMode() {
        return cmvnMode;
    }

    /** The statistics of {@link CmvnMode#GLOBAL}, else null. */
    public Cmvn globalCmvn() {
        return global;
    }

    /** The masking applied when augmenting, or null for none. */
    public SpecAugment specAugment() {
        return specAugment;
    }

    /** The run seed of augmentation. */
    public long seed() {
        return seed;
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
        double factor = factor(u, epoch, augment);
        FeatureMatrix f = store == null ? null : fromStore(u, factor);
        if (f == null && cache != null) f = cache.get(u, factor);
        if (f == null) {
            f = rawFeatures(u, factor);
            if (cache != null) cache.put(u, factor, f);
        }
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

    private double factor(Utterance u, int epoch, boolean augment) {
        return augment && speed != null ? speed.choose(AugmentSeed.of(seed, epoch, u.id(), SpeedPerturbation.SEED_PURPOSE)) : 1.0;
    }

    /**
     * Frames that {@link #extract} would return for this (utterance, epoch) when the store holds
     * them, else -1: what lets a batch be laid out before its features are read.
     */
    int storedFrames(Utterance u, int epoch, boolean augment) {
        return store == null ? -1 : store.frames(u, factor(u, epoch, augment));
    }

    /**
     * {@link #extract} for an utterance the store holds ({@link #storedFrames} >= 0), written
     * straight into {@code dst} at {@code offset}: no intermediate array.
     *
     * @return false when the stored entry is damaged (warned once; nothing usable written), so
     *     the caller extracts it the ordinary way
     */
    boolean extractInto(Utterance u, int epoch, boolean augment, float[] dst, int offset) {
        double factor = factor(u, epoch, augment);
        int t;
        try {
            t = store.readInto(u, factor, dst, offset);
        } catch (IllegalStateException e) {
            warnStore(e);
            return false;
        }
        if (t < 0) return false;
        int c = cfg.nMels();
        switch (cmvnMode) {
            case UTTERANCE -> Cmvn.normalizeUtteranceInPlace(dst, offset, t, c);
            case GLOBAL -> global.applyInPlace(dst, offset, t, c);
            case NONE -> { }
        }
        if (augment && specAugment != null) {
            specAugment.applyInPlace(dst, offset, t, c, AugmentSeed.of(seed, epoch, u.id(), SpecAugment.SEED_PURPOSE));
        }
        return true;
    }

    private void warnStore(IllegalStateException e) {
        if (storeWarned.compareAndSet(false, true)) {
            System.err.println("warning: " + e.getMessage() + "; decoding the audio of damaged entries instead");
        }
    }

    /** The stored features, or null (not stored; damaged: warns once and decodes instead). */
    private FeatureMatrix fromStore(Utterance u, double factor) {
        try {
            return store.read(u, factor);
        } catch (IllegalStateException e) {
            warnStore(e);
            return null;
        }
    }

    /** True when every speed factor this extractor may choose for {@code u} is in the store. */
    boolean stored(Utterance u, boolean augment) {
        if (store == null) return false;
        if (!augment || speed == null) return store.contains(u, 1.0);
        for (double f : speed.factors()) if (!store.contains(u, f)) return false;
        return true;
    }

    /** Frames stored for {@code u} at speed 1, or -1. */
    int storedFrames(Utterance u) {
        return store == null ? -1 : store.frames(u, 1.0);
    }

    /** Decoded, resampled, speed-perturbed raw log-mel features (no cache, store or normalisation). */
    FeatureMatrix rawFeatures(Utterance u, double factor) {
        return logMel.compute(samples(u, factor));
    }

    /**
     * The signal that {@link #extract} turns into features: the segment decoded, resampled to
     * {@link FeatureConfig#sampleRate()} and (augmenting, when configured) speed-perturbed with
     * the factor of (run seed, epoch, utterance). No feature store or cache is involved.
     *
     * @return samples, shape (N), N &gt; 0
     * @throws RuntimeException from decoding (named file and problem), or IllegalArgumentException
     *     when the segment holds no samples
     */
    public float[] signal(Utterance u, int epoch, boolean augment) {
        return samples(u, factor(u, epoch, augment));
    }

    private float[] samples(Utterance u, double factor) {
        Audio a = AudioReader.read(u.audio(), u.offset(), u.duration());
        float[] x = a.samples();
        if (a.sampleRate() != cfg.sampleRate()) x = Resampler.of(a.sampleRate(), cfg.sampleRate()).process(x);
        if (factor != 1.0) x = speed.apply(x, factor);
        if (x.length == 0) {
            throw new IllegalArgumentException(u.audio() + ": no audio samples in the segment at " + u.offset() + " s");
        }
        return x;
    }

    /**
     * Global CMVN statistics of raw log-mel features over {@code utterances} (no augmentation),
     * computed on {@code threads} threads; utterances that fail to decode are recorded in
     * {@code report} and left out.
     *
     * @throws IllegalArgumentException when no utterance could be read
     */
    public static Cmvn globalStats(List<Utterance> utterances, FeatureConfig cfg, int threads, SkipReport report) {
        FeatureExtractor fx = new FeatureExtractor(cfg, CmvnMode.NONE, null, null, null, 0);
        ExecutorService pool = Executors.newFixedThreadPool(lmu.util.Checks.positive("threads", threads));
        try {
            List<Future<Cmvn.Accumulator>> parts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = t;
                parts.add(pool.submit(() -> {
                    Cmvn.Accumulator acc = new Cmvn.Accumulator(cfg.nMels());
                    for (int i = first; i < utterances.size(); i += threads) {
                        Utterance u = utterances.get(i);
                        try {
                            acc.add(fx.extract(u, 0, false));
                        } catch (RuntimeException e) {
                            report.skip(u, "unreadable audio", e.getMessage());
                        }
                    }
                    return acc;
                }));
            }
            Cmvn.Accumulator total = new Cmvn.Accumulator(cfg.nMels());
            for (Future<Cmvn.Accumulator> f : parts) total.merge(f.get());
            if (total.frames() == 0) {
                throw new IllegalArgumentException("FeatureExtractor: no audio could be read for CMVN statistics: " + report.summary(10));
            }
            return total.toCmvn();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("FeatureExtractor: interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("FeatureExtractor: CMVN statistics failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }
}
