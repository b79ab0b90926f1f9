package lmu.train;

import java.util.Iterator;
import java.util.NoSuchElementException;
import lmu.tensor.Tensor;
import lmu.util.Rng;

/**
 * A deterministic toy task for loop tests: each utterance's label sequence is written into its
 * features (one-hot of the label on a few frames each), so a model can learn it; the order of
 * utterances depends on (seed, epoch) like the real loader's.
 */
final class SyntheticBatches implements BatchSource {
    static final int FEATURES = 8;
    private final int batches, batchSize, vocab;
    private final long seed;

    SyntheticBatches(int batches, int batchSize, int vocab, long seed) {
        this.batches = batches;
        this.batchSize = batchSize;
        this.vocab = vocab;
        this.seed = seed;
    }

    @Override
    public int batchesPerEpoch() {
        return batches;
    }

    @Override
    public Iterator<TrainBatch> epoch(int epoch, int skip) {
        int[] order = new int[batches];
        for (int i = 0; i < batches; i++) order[i] = i;
        Rng.derive(seed, epoch).shuffle(order);
        return new Iterator<>() {
            int next = skip;

            @Override
            public boolean hasNext() {
                return next < batches;
            }

            @Override
            public TrainBatch next() {
                if (!hasNext()) throw new NoSuchElementException();
                TrainBatch b = batch(order[next++]);
                return new TrainBatch(b.features(), b.frames(), b.labels(), b.labelLengths(), b.ids(), b.texts(), next);
            }
        };
    }

    /** Batch number {@code index}: a pure function of (seed, index). */
    TrainBatch batch(int index) {
        Rng rng = Rng.derive(seed + 1000, index);
        int maxLabels = 3, framesPerLabel = 6, t = maxLabels * framesPerLabel + 2;
        float[] x = new float[batchSize * t * FEATURES];
        int[] frames = new int[batchSize], labels = new int[batchSize * maxLabels], lens = new int[batchSize];
        String[] ids = new String[batchSize], texts = new String[batchSize];
        for (int b = 0; b < batchSize; b++) {
            int n = 1 + rng.nextInt(maxLabels);
            lens[b] = n;
            frames[b] = n * framesPerLabel + 2;
            StringBuilder text = new StringBuilder();
            for (int j = 0; j < n; j++) {
                int label = 1 + rng.nextInt(vocab - 1);
                labels[b * maxLabels + j] = label;
                text.append((char) ('a' + label - 1));
                for (int f = 0; f < framesPerLabel - 2; f++) {
                    int frame = 1 + j * framesPerLabel + f;
                    x[(b * t + frame) * FEATURES + (label % FEATURES)] = 1;
                    x[(b * t + frame) * FEATURES + ((label * 3 + 1) % FEATURES)] += 0.5f;
                }
            }
            for (int f = 0; f < frames[b]; f++) x[(b * t + f) * FEATURES + ((f * 5) % FEATURES)] += 0.1f * (float) rng.nextGaussian();
            ids[b] = "u" + index + "_" + b;
            texts[b] = text.toString();
        }
        return new TrainBatch(Tensor.of(x, batchSize, t, FEATURES), frames, labels, lens, ids, texts, index + 1);
    }
}
