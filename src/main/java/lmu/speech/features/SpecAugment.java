package lmu.speech.features;

import java.util.SplittableRandom;

/**
 * SpecAugment masking (Park et al. 2019), applied in place to the features of one utterance.
 *
 * <p>Frequency masks: {@code freqMasks} times, a width f uniform in [0, freqWidth] and a start
 * uniform in [0, C - f]; bins [start, start + f) are set to {@code maskValue} in every frame.
 * Time masks: width t uniform in [0, W] and start uniform in [0, T - t]; frames [start, start + t)
 * are set to {@code maskValue}. With fixed masks the count is {@code timeMasks} and W =
 * {@code timeWidth}; with adaptive masks (Park et al. 2020, {@code adaptive = true}) the count is
 * {@code floor(timeMaskRatio * T)} (at most {@code timeMasks} when that is > 0) and W =
 * {@code min(timeWidth, floor(timeWidthRatio * T))}. W is never more than T. Masks may overlap.
 *
 * <p>Randomness comes only from the seed ({@link AugmentSeed#of}), so an utterance gets the same
 * masks in the same epoch of the same run, whatever thread computes it.
 *
 * @param freqMasks number of frequency masks (F in the paper's "LB" policy: 2)
 * @param freqWidth largest frequency mask width in bins (27)
 * @param timeMasks number of time masks, or with adaptive masks their maximum (0: no maximum)
 * @param timeWidth largest time mask width in frames (100)
 * @param adaptive count and width of time masks relative to the utterance length
 * @param timeMaskRatio adaptive masks per frame (0.04 in the 2020 paper)
 * @param timeWidthRatio adaptive largest width as a fraction of T (0.05)
 * @param maskValue value written into masked cells (0: the mean after CMVN)
 */
public record SpecAugment(int freqMasks, int freqWidth, int timeMasks, int timeWidth, boolean adaptive, double timeMaskRatio,
                          double timeWidthRatio, float maskValue) {
    /** Seed purpose constant for {@link AugmentSeed#of}. */
    public static final long SEED_PURPOSE = 0x5A5A_0001L;

    public SpecAugment {
        if (freqMasks < 0 || freqWidth < 0 || timeMasks < 0 || timeWidth < 0 || !(timeMaskRatio >= 0) || !(timeWidthRatio >= 0 && timeWidthRatio <= 1)) {
            throw new IllegalArgumentException("SpecAugment: counts and widths must be >= 0 and timeWidthRatio in [0, 1], got freqMasks "
                    + freqMasks + ", freqWidth " + freqWidth + ", timeMasks " + timeMasks + ", timeWidth " + timeWidth
                    + ", timeMaskRatio " + timeMaskRatio + ", timeWidthRatio " + timeWidthRatio);
        }
    }

    /** LibriSpeech "LD" policy without time warping: 2 frequency masks of up to 27 bins, 2 time masks of up to 100 frames. */
    public static SpecAugment defaults() {
        return new SpecAugment(2, 27, 2, 100, false, 0, 0, 0f);
    }

    /** Adaptive policy: 2 frequency masks of up to 27 bins, 0.04 T time masks of up to 0.05 T frames (at most 20 masks). */
    public static SpecAugment adaptiveDefaults() {
        return new SpecAugment(2, 27, 20, Integer.MAX_VALUE, true, 0.04, 0.05, 0f);
    }

    /** Number of time masks for an utterance of T frames. */
    public int timeMaskCount(int frames) {
        if (!adaptive) return timeMasks;
        int n = (int) Math.floor(timeMaskRatio * frames);
        return timeMasks > 0 ? Math.min(n, timeMasks) : n;
    }

    /** Largest time mask width for an utterance of T frames. */
    public int maxTimeWidth(int frames) {
        int w = adaptive ? (int) Math.min(timeWidth, Math.floor(timeWidthRatio * frames)) : timeWidth;
        return Math.min(w, frames);
    }

    /**
     * @param f features, shape (T, C), changed in place
     * @param seed from {@link AugmentSeed#of}(runSeed, epoch, utteranceId, {@link #SEED_PURPOSE})
     */
    public void applyInPlace(FeatureMatrix f, long seed) {
        applyInPlace(f.values(), 0, f.frames(), f.bins(), seed);
    }

    /**
     * The same masks on features stored inside a larger array (e.g. one utterance of a padded batch).
     *
     * @param v features of one utterance at {@code v[offset + t * bins + m]}, shape (T, C), changed in place
     * @param offset index of frame 0, bin 0
     * @param frames T
     * @param bins C
     * @param seed as for {@link #applyInPlace(FeatureMatrix, long)}
     */
    public void applyInPlace(float[] v, int offset, int frames, int bins, long seed) {
        if (offset < 0 || frames < 0 || bins <= 0 || offset + (long) frames * bins > v.length) {
            throw new IllegalArgumentException("SpecAugment: features (T " + frames + ", C " + bins + ") at offset " + offset
                    + " do not fit in an array of " + v.length);
        }
        Masks m = masks(frames, bins, seed);
        for (int t = 0; t < frames; t++) {
            int o = offset + t * bins;
            if (m.frames()[t]) {
                java.util.Arrays.fill(v, o, o + bins, maskValue);
            } else {
                for (int c = 0; c < bins; c++) if (m.bins()[c]) v[o + c] = maskValue;
            }
        }
    }

    /**
     * Which cells of one utterance's features the masks cover: cell (t, c) is masked when {@code
     * bins[c]} or {@code frames[t]}. Every mask writes the same value, so this is all that {@link
     * #applyInPlace} needs; a device applies the same masks with two broadcast fills.
     *
     * @param bins masked frequency bins, shape (C)
     * @param frames masked frames, shape (T)
     */
    public record Masks(boolean[] bins, boolean[] frames) {}

    /**
     * The masks of one utterance, drawn from {@code seed} exactly as {@link #applyInPlace} draws
     * them.
     *
     * @param frames T &ge; 0
     * @param bins C &gt; 0
     * @param seed from {@link AugmentSeed#of}(runSeed, epoch, utteranceId, {@link #SEED_PURPOSE})
     * @throws IllegalArgumentException when T &lt; 0 or C &le; 0
     */
    public Masks masks(int frames, int bins, long seed) {
        if (frames < 0 || bins <= 0) {
            throw new IllegalArgumentException("SpecAugment: features must have T >= 0 and C > 0, got T " + frames + ", C " + bins);
        }
        SplittableRandom r = new SplittableRandom(seed);
        boolean[] fm = new boolean[bins], tm = new boolean[frames];
        int c = bins;
        int fw = Math.min(freqWidth, c);
        for (int i = 0; i < freqMasks; i++) {
            int w = r.nextInt(fw + 1);
            int s = r.nextInt(c - w + 1);
            java.util.Arrays.fill(fm, s, s + w, true);
        }
        if (frames > 0) {
            int tw = maxTimeWidth(frames);
            int count = timeMaskCount(frames);
            for (int i = 0; i < count; i++) {
                int w = r.nextInt(tw + 1);
                int s = r.nextInt(frames - w + 1);
                java.util.Arrays.fill(tm, s, s + w, true);
            }
        }
        return new Masks(fm, tm);
    }
}
