package lmu.speech.features;

import java.util.SplittableRandom;
import lmu.speech.audio.Resampler;

/**
 * Speed perturbation (Ko et al. 2015): plays the signal {@code factor} times faster, which scales
 * its duration by 1 / factor and its pitch and formants by factor, by resampling from
 * {@code rate * factor} to {@code rate} with {@link Resampler}. The factor for an utterance is
 * drawn uniformly from {@link #factors()} with a seed from {@link AugmentSeed}.
 */
public final class SpeedPerturbation {
    /** Seed purpose constant for {@link AugmentSeed#of}. */
    public static final long SEED_PURPOSE = 0x5A5A_0002L;

    private final double[] factors;
    private final int rate;

    /**
     * @param rate sample rate of the signals, e.g. 16000
     * @param factors speed factors, each > 0 with {@code rate * factor} an integer (e.g. 0.9, 1.0, 1.1)
     */
    public SpeedPerturbation(int rate, double... factors) {
        if (factors.length == 0) throw new IllegalArgumentException("SpeedPerturbation: needs at least one factor");
        for (double f : factors) {
            double r = rate * f;
            if (!(f > 0) || Math.abs(r - Math.rint(r)) > 1e-6) {
                throw new IllegalArgumentException("SpeedPerturbation: factor must be > 0 with rate * factor an integer, got " + f + " at rate " + rate);
            }
        }
        this.rate = rate;
        this.factors = factors.clone();
    }

    /** Factors 0.9, 1.0 and 1.1 at 16 kHz. */
    public static SpeedPerturbation defaults() {
        return new SpeedPerturbation(16000, 0.9, 1.0, 1.1);
    }

    public double[] factors() {
        return factors.clone();
    }

    /** The factor chosen by {@code seed}. */
    public double choose(long seed) {
        return factors[new SplittableRandom(seed).nextInt(factors.length)];
    }

    /**
     * @param x signal at the configured rate, shape (N,)
     * @param factor speed factor (> 1 faster and shorter)
     * @return the perturbed signal, shape (ceil(N / factor),); {@code x} itself for factor 1
     */
    public float[] apply(float[] x, double factor) {
        if (factor == 1.0) return x;
        return Resampler.of((int) Math.rint(rate * factor), rate).process(x);
    }
}
