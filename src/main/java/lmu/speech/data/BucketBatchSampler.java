package lmu.speech.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import lmu.speech.features.AugmentSeed;

/**
 * Plans the batches of an epoch from utterance lengths alone, deterministically from (seed,
 * epoch), so a run can resume at any batch index of any epoch.
 *
 * <p>Batching: utterances are sorted by length (ties by index) and cut into {@code buckets}
 * groups of equal count; within a group a batch grows while its padded size {@code B * T_max}
 * stays within {@code maxFramesPerBatch} and B within {@code maxBatchSize} (one utterance longer
 * than the budget makes a batch of its own). With shuffling, the order inside each bucket and the
 * order of all batches are permuted by a generator seeded from (seed, epoch).
 *
 * <p>Sharding over {@code worldSize} data-parallel ranks:
 * <ul>
 *   <li>{@link DataLoader.Mode#TRAIN}: every rank plans the same global batches (so
 *       {@code maxBatchSize} and {@code maxFramesPerBatch} are global, over all ranks) and takes
 *       its slice of each: batch members {@code [n * rank / worldSize, n * (rank + 1) / worldSize)}
 *       of a batch of n, so slice sizes differ by at most one and may be empty when n < worldSize.
 *       Every rank has the same number of batches, batch i of every rank is slice of the same
 *       global batch i (a checkpoint's position means the same with any number of ranks), every
 *       utterance is used exactly once per epoch, and the union of the slices of a step is what a
 *       single rank would train on.</li>
 *   <li>{@link DataLoader.Mode#EVAL}: the utterances, sorted by length, are dealt round-robin
 *       (utterance i to rank i mod worldSize) and each rank batches its own share: every utterance
 *       is seen exactly once across ranks; ranks may get different batch counts.</li>
 * </ul>
 */
public final class BucketBatchSampler {
    private static final long SHUFFLE_PURPOSE = 0x5A5A_0003L;

    private final int[] frames;
    private final int maxFramesPerBatch, maxBatchSize, buckets, rank, worldSize;
    private final boolean shuffle;
    private final long seed;
    private final DataLoader.Mode mode;
    private final int[] sorted; // utterance indices by (frames, index)

    /**
     * @param frames length estimate of each utterance in frames, shape (N,)
     * @param maxFramesPerBatch padded frames (B * T) per batch, > 0
     * @param maxBatchSize utterances per batch, > 0
     * @param buckets length buckets, > 0
     * @param shuffle permute per epoch
     * @param seed run seed
     * @param rank this rank, in [0, worldSize)
     * @param worldSize number of data-parallel ranks, > 0
     * @param mode TRAIN (a slice of every global batch) or EVAL (every utterance exactly once, dealt round-robin)
     */
    public BucketBatchSampler(int[] frames, int maxFramesPerBatch, int maxBatchSize, int buckets, boolean shuffle, long seed,
                              int rank, int worldSize, DataLoader.Mode mode) {
        if (maxFramesPerBatch <= 0 || maxBatchSize <= 0 || buckets <= 0 || worldSize <= 0 || rank < 0 || rank >= worldSize) {
            throw new IllegalArgumentException("BucketBatchSampler: expected maxFramesPerBatch > 0, maxBatchSize > 0, buckets > 0,"
                    + " 0 <= rank < worldSize, got " + maxFramesPerBatch + ", " + maxBatchSize + ", " + buckets + ", rank " + rank
                    + ", worldSize " + worldSize);
        }
        this.frames = frames.clone();
        this.maxFramesPerBatch = maxFramesPerBatch;
        this.maxBatchSize = maxBatchSize;
        this.buckets = buckets;
        this.shuffle = shuffle;
        this.seed = seed;
        this.rank = rank;
        this.worldSize = worldSize;
        this.mode = mode;
        Integer[] idx = new Integer[frames.length];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        Arrays.sort(idx, (a, b) -> frames[a] != frames[b] ? Integer.compare(frames[a], frames[b]) : Integer.compare(a, b));
        sorted = new int[idx.length];
        for (int i = 0; i < idx.length; i++) sorted[i] = idx[i];
    }

    /** This rank's batches for {@code epoch}: utterance indices per batch, in order. */
    public List<int[]> batches(int epoch) {
        SplittableRandom rng = new SplittableRandom(AugmentSeed.of(seed, epoch, "", SHUFFLE_PURPOSE));
        if (mode == DataLoader.Mode.EVAL) {
            int[] mine = new int[(sorted.length - rank + worldSize - 1) / worldSize];
            for (int i = rank, k = 0; i < sorted.length; i += worldSize) mine[k++] = sorted[i];
            return plan(mine, rng);
        }
        List<int[]> all = plan(sorted, rng);
        if (worldSize == 1) return all;
        List<int[]> mine = new ArrayList<>(all.size());
        for (int[] b : all) {
            mine.add(Arrays.copyOfRange(b, (int) ((long) b.length * rank / worldSize), (int) ((long) b.length * (rank + 1) / worldSize)));
        }
        return mine;
    }

    private List<int[]> plan(int[] byLength, SplittableRandom rng) {
        int n = byLength.length;
        int nb = Math.max(1, Math.min(buckets, n));
        List<int[]> out = new ArrayList<>();
        for (int b = 0; b < nb; b++) {
            int[] bucket = Arrays.copyOfRange(byLength, (int) ((long) b * n / nb), (int) ((long) (b + 1) * n / nb));
            if (shuffle) shuffle(bucket, rng);
            cut(bucket, out);
        }
        if (shuffle) {
            for (int i = out.size() - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int[] t = out.get(i);
                out.set(i, out.get(j));
                out.set(j, t);
            }
        }
        return out;
    }

    private void cut(int[] bucket, List<int[]> out) {
        int start = 0, maxLen = 0;
        for (int i = 0; i < bucket.length; i++) {
            int len = frames[bucket[i]];
            int size = i - start;
            int newMax = Math.max(maxLen, len);
            if (size > 0 && ((long) (size + 1) * newMax > maxFramesPerBatch || size + 1 > maxBatchSize)) {
                out.add(Arrays.copyOfRange(bucket, start, i));
                start = i;
                newMax = len;
            }
            maxLen = newMax;
        }
        if (start < bucket.length) out.add(Arrays.copyOfRange(bucket, start, bucket.length));
    }

    private static void shuffle(int[] a, SplittableRandom rng) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
