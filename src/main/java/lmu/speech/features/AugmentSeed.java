package lmu.speech.features;

/**
 * Seeds for per-utterance augmentation, derived from (run seed, epoch, utterance id, purpose) by
 * a 64-bit mixing function, so that augmentation is reproducible across runs, thread schedules,
 * ranks and resumes, and differs between epochs and utterances.
 */
public final class AugmentSeed {
    private AugmentSeed() {}

    /**
     * @param runSeed the run's seed
     * @param epoch epoch number
     * @param utteranceId the utterance's id
     * @param purpose a different constant per use (e.g. SpecAugment vs speed), so they are independent
     */
    public static long of(long runSeed, int epoch, String utteranceId, long purpose) {
        long h = mix(runSeed ^ 0x9E3779B97F4A7C15L);
        h = mix(h ^ epoch);
        for (int i = 0; i < utteranceId.length(); i++) h = mix(h ^ utteranceId.charAt(i));
        h = mix(h ^ utteranceId.length());
        return mix(h ^ purpose);
    }

    /** Stafford variant 13 of the MurmurHash3 finaliser (as in SplittableRandom). */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
