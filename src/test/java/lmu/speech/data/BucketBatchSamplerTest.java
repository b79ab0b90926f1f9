package lmu.speech.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BucketBatchSamplerTest {
    static int[] lengths(int n, long seed) {
        Random r = new Random(seed);
        int[] f = new int[n];
        for (int i = 0; i < n; i++) f[i] = 50 + r.nextInt(1500);
        return f;
    }

    @Test
    void eachEpochCoversEveryUtteranceOnceWithinBudget() {
        int[] f = lengths(1000, 1);
        BucketBatchSampler s = new BucketBatchSampler(f, 6000, 32, 8, true, 3, 0, 1, DataLoader.Mode.TRAIN);
        for (int epoch = 0; epoch < 4; epoch++) {
            int[] seen = new int[f.length];
            for (int[] b : s.batches(epoch)) {
                int max = 0;
                for (int i : b) {
                    seen[i]++;
                    max = Math.max(max, f[i]);
                }
                assertTrue(b.length <= 32);
                assertTrue(b.length * max <= 6000, "padded " + b.length * max);
            }
            for (int i = 0; i < f.length; i++) assertEquals(1, seen[i], "utterance " + i + " epoch " + epoch);
        }
    }

    @Test
    void bucketsReducePadding() {
        int[] f = lengths(2000, 2);
        double bucketed = padding(new BucketBatchSampler(f, 8000, 64, 10, true, 1, 0, 1, DataLoader.Mode.TRAIN).batches(0), f);
        double single = padding(new BucketBatchSampler(f, 8000, 64, 1, true, 1, 0, 1, DataLoader.Mode.TRAIN).batches(0), f);
        assertTrue(bucketed < 0.1 && single > 3 * bucketed, "padding fraction: 10 buckets " + bucketed + ", 1 bucket " + single);
    }

    static double padding(List<int[]> batches, int[] f) {
        long pad = 0, total = 0;
        for (int[] b : batches) {
            int max = 0;
            for (int i : b) max = Math.max(max, f[i]);
            for (int i : b) pad += max - f[i];
            total += (long) max * b.length;
        }
        return pad / (double) total;
    }

    @Test
    void longUtteranceGetsItsOwnBatch() {
        int[] f = {100, 100, 5000, 100};
        List<int[]> b = new BucketBatchSampler(f, 1000, 8, 1, false, 0, 0, 1, DataLoader.Mode.TRAIN).batches(0);
        assertEquals(2, b.size());
        assertArrayEquals(new int[] {0, 1, 3}, b.get(0));
        assertArrayEquals(new int[] {2}, b.get(1));
    }

    @Test
    void shardsAreDisjointAndDeterministic() {
        int[] f = lengths(503, 4);
        int w = 4;
        for (DataLoader.Mode mode : DataLoader.Mode.values()) {
            int[] seen = new int[f.length];
            List<Integer> counts = new ArrayList<>();
            for (int r = 0; r < w; r++) {
                BucketBatchSampler s = new BucketBatchSampler(f, 4000, 16, 5, mode == DataLoader.Mode.TRAIN, 8, r, w, mode);
                List<int[]> a = s.batches(5), b = s.batches(5);
                assertEquals(a.size(), b.size());
                for (int k = 0; k < a.size(); k++) assertArrayEquals(a.get(k), b.get(k));
                counts.add(a.size());
                for (int[] batch : a) for (int i : batch) seen[i]++;
            }
            for (int i = 0; i < f.length; i++) assertEquals(1, seen[i], mode + ": utterance " + i + " on exactly one rank");
            if (mode == DataLoader.Mode.TRAIN) {
                assertTrue(counts.stream().distinct().count() == 1, "TRAIN: equal batch counts " + counts);
            }
        }
    }

    @Test
    void trainSlicesOfAStepMakeTheSingleRankBatch() {
        int[] f = lengths(301, 9);
        int w = 3;
        List<int[]> single = new BucketBatchSampler(f, 20000, 10, 4, true, 5, 0, 1, DataLoader.Mode.TRAIN).batches(2);
        List<List<int[]>> ranks = new ArrayList<>();
        for (int r = 0; r < w; r++) ranks.add(new BucketBatchSampler(f, 20000, 10, 4, true, 5, r, w, DataLoader.Mode.TRAIN).batches(2));
        for (int k = 0; k < single.size(); k++) {
            int[] b = single.get(k);
            int at = 0;
            for (int r = 0; r < w; r++) {
                int[] slice = ranks.get(r).get(k);
                int expected = b.length * (r + 1) / w - b.length * r / w;
                assertEquals(expected, slice.length, "batch " + k + " rank " + r + ": slice size");
                for (int i : slice) assertEquals(b[at++], i, "batch " + k + " rank " + r);
            }
            assertEquals(b.length, at);
        }
    }

    @Test
    void evalCountsEveryUtteranceOnceForAnyRankCount() {
        int[] f = lengths(97, 2);
        for (int w = 1; w <= 5; w++) {
            int[] seen = new int[f.length];
            for (int r = 0; r < w; r++) {
                for (int[] b : new BucketBatchSampler(f, 3000, 7, 3, false, 0, r, w, DataLoader.Mode.EVAL).batches(1)) {
                    for (int i : b) seen[i]++;
                }
            }
            for (int i = 0; i < f.length; i++) assertEquals(1, seen[i], w + " ranks: utterance " + i);
        }
    }

    @Test
    void badArguments() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new BucketBatchSampler(new int[] {1}, 100, 4, 2, true, 0, 2, 2, DataLoader.Mode.TRAIN));
        assertTrue(e.getMessage().contains("rank 2"), e.getMessage());
    }
}
