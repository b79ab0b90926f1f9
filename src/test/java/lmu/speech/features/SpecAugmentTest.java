package lmu.speech.features;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SpecAugmentTest {
    static FeatureMatrix ones(int frames, int bins) {
        float[] v = new float[frames * bins];
        Arrays.fill(v, 1f);
        return new FeatureMatrix(v, frames, bins);
    }

    @Test
    void sameSeedSameMasksDifferentEpochDifferentMasks() {
        SpecAugment sa = SpecAugment.defaults();
        FeatureMatrix a = ones(300, 80), b = ones(300, 80), c = ones(300, 80);
        sa.applyInPlace(a, AugmentSeed.of(7, 3, "utt-1", SpecAugment.SEED_PURPOSE));
        sa.applyInPlace(b, AugmentSeed.of(7, 3, "utt-1", SpecAugment.SEED_PURPOSE));
        sa.applyInPlace(c, AugmentSeed.of(7, 4, "utt-1", SpecAugment.SEED_PURPOSE));
        assertArrayEquals(a.values(), b.values());
        assertFalse(Arrays.equals(a.values(), c.values()));
        assertTrue(AugmentSeed.of(7, 3, "utt-1", 1) != AugmentSeed.of(7, 3, "utt-2", 1));
    }

    @Test
    void masksStayWithinTheirBounds() {
        // one mask of each kind: masked bins form one band of width <= F, masked frames one run of width <= W
        SpecAugment sa = new SpecAugment(1, 10, 1, 20, false, 0, 0, 0f);
        for (int seed = 0; seed < 200; seed++) {
            FeatureMatrix f = ones(50, 16);
            sa.applyInPlace(f, seed);
            int maskedBins = 0, maskedFrames = 0;
            for (int m = 0; m < 16; m++) {
                boolean all = true;
                for (int t = 0; t < 50; t++) all &= f.get(t, m) == 0;
                if (all) maskedBins++;
            }
            for (int t = 0; t < 50; t++) {
                boolean all = true;
                for (int m = 0; m < 16; m++) all &= f.get(t, m) == 0;
                if (all) maskedFrames++;
            }
            int zeros = 0;
            for (float v : f.values()) if (v == 0) zeros++;
            assertTrue(maskedFrames == 16 ? maskedBins <= 16 : maskedBins <= 10, "freq mask width " + maskedBins);
            assertTrue(maskedBins == 50 ? true : maskedFrames <= 20, "time mask width " + maskedFrames);
            // every zero lies in a fully masked row or column
            assertEquals(maskedBins * 50 + maskedFrames * 16 - maskedBins * maskedFrames, zeros, "seed " + seed);
        }
    }

    @Test
    void adaptiveMasksScaleWithLength() {
        SpecAugment sa = SpecAugment.adaptiveDefaults();
        assertEquals(4, sa.timeMaskCount(100));
        assertEquals(5, sa.maxTimeWidth(100));
        assertEquals(20, sa.timeMaskCount(1000)); // capped
        assertEquals(50, sa.maxTimeWidth(1000));
        assertEquals(0, sa.timeMaskCount(10));
        FeatureMatrix f = ones(200, 80);
        new SpecAugment(0, 0, 0, Integer.MAX_VALUE, true, 0.04, 0.05, 0f).applyInPlace(f, 11);
        int maskedFrames = 0;
        for (int t = 0; t < 200; t++) if (f.get(t, 0) == 0) maskedFrames++;
        assertTrue(maskedFrames <= 8 * 10, "8 masks of at most 10 frames, got " + maskedFrames);
        FeatureMatrix empty = new FeatureMatrix(new float[0], 0, 80);
        sa.applyInPlace(empty, 1); // no frames: nothing to do, no error
    }
}
