package lmu.speech.data;

import java.nio.file.Files;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import lmu.speech.audio.AudioReader;
import lmu.speech.features.Cmvn;
import lmu.speech.features.FeatureConfig;
import lmu.speech.features.FeatureMatrix;
import lmu.speech.features.SpecAugment;
import lmu.speech.features.SpeedPerturbation;
import lmu.speech.text.Vocabulary;

/**
 * Turns a list of utterances into padded {@link Batch}es: duration-bucketed dynamic batching
 * ({@link BucketBatchSampler}), per-epoch shuffling, data-parallel sharding, and feature
 * extraction ({@link FeatureExtractor}) on a pool of worker threads that keeps a bounded number of
 * batches ready ahead of the consumer.
 *
 * <pre>
 * try (DataLoader train = DataLoader.builder(utterances, Vocabulary.english())
 *         .maxFramesPerBatch(16_000).maxBatchSize(32).seed(1).rank(r).worldSize(w)
 *         .specAugment(SpecAugment.defaults()).build()) {
 *     for (int epoch = start; epoch < epochs; epoch++) {
 *         try (DataLoader.Epoch it = train.iterator(epoch, epoch == start ? resumeBatch : 0)) {
 *             while (it.hasNext()) step(it.next());
 *         }
 *     }
 * }
 * </pre>
 *
 * <p>Bad input never stops a run. At construction: an empty transcript, a transcript with no
 * character of the vocabulary, a missing file, or (when the duration is unknown) an unreadable
 * header drops the utterance; characters outside the vocabulary are removed from transcripts and
 * counted. While loading: an utterance whose audio fails to decode is left out of its batch. All of
 * this goes to {@link #report()}. Only when nothing usable is left does it fail, with the reasons.
 * The plan of an epoch depends only on the construction-time checks, (seed, epoch) and the rank,
 * so resuming at a batch index gives the same batches.
 */
public final class DataLoader implements AutoCloseable {
    /** TRAIN: shuffled, augmented, each rank a slice of every global batch. EVAL: in length order, every utterance once. */
    public enum Mode { TRAIN, EVAL }

    private final List<Utterance> utterances; // usable ones
    private final int[][] labels;
    private final FeatureExtractor extractor;
    private final BucketBatchSampler sampler;
    private final boolean keepEmpty;
    private final Mode mode;
    private final int prefetch;
    private final ExecutorService pool;
    private final SkipReport report;
    private final boolean signals;

    private DataLoader(Builder b) {
        this.report = b.report;
        this.mode = b.mode;
        this.prefetch = b.prefetch;
        this.signals = b.signals;
        // signals: the features are computed downstream, so the feature cache and store are not used
        this.extractor = new FeatureExtractor(b.features, b.cmvnMode, b.globalCmvn, b.specAugment, b.speed, b.seed,
                b.cacheDir == null || signals ? null : new FeatureCache(b.cacheDir, b.features), signals ? null : b.store);
        FeatureConfig cfg = b.features;
        List<Utterance> ok = new ArrayList<>();
        List<int[]> labs = new ArrayList<>();
        List<Integer> frames = new ArrayList<>();
        double minSpeed = mode == Mode.TRAIN ? extractor.minSpeedFactor() : 1;
        for (Utterance u : b.utterances) {
            int[] lab = encode(u, b.vocabulary);
            if (lab == null) continue;
            if (!extractor.stored(u, mode == Mode.TRAIN) && !Files.isRegularFile(u.audio())) {
                report.skip(u, "missing file", "");
                continue;
            }
            double dur = u.duration();
            if (dur < 0 && extractor.stored(u, false)) dur = storedSeconds(u, cfg);
            if (dur < 0) {
                try {
                    dur = AudioReader.durationSeconds(u.audio()) - u.offset();
                } catch (RuntimeException e) {
                    report.skip(u, "unreadable audio", e.getMessage());
                    continue;
                }
                if (dur <= 0) {
                    report.skip(u, "empty audio", "offset " + u.offset() + " s is at or past the end of the file");
                    continue;
                }
            }
            ok.add(u);
            labs.add(lab);
            frames.add(cfg.numFrames((int) Math.min(Integer.MAX_VALUE - 1, Math.ceil(dur * cfg.sampleRate() / minSpeed))));
        }
        if (ok.isEmpty()) {
            throw new IllegalArgumentException("DataLoader: none of the " + b.utterances.size() + " utterances is usable: " + report.summary(10));
        }
        utterances = List.copyOf(ok);
        labels = labs.toArray(new int[0][]);
        sampler = new BucketBatchSampler(frames.stream().mapToInt(Integer::intValue).toArray(), b.maxFramesPerBatch, b.maxBatchSize,
                b.buckets, b.shuffle == null ? mode == Mode.TRAIN : b.shuffle, b.seed, b.rank, b.worldSize, mode);
        keepEmpty = mode == Mode.TRAIN && b.worldSize > 1;
        if (mode == Mode.TRAIN && sampler.batches(0).isEmpty()) {
            throw new IllegalArgumentException("DataLoader: " + utterances.size() + " usable utterances make no batch");
        }
        AtomicInteger n = new AtomicInteger();
        pool = Executors.newFixedThreadPool(b.threads, r -> {
            Thread t = new Thread(r, "lmu-loader-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Duration of the stored features of {@code u} at speed 1 (frame t starts at sample t * hop). */
    private double storedSeconds(Utterance u, FeatureConfig cfg) {
        return Math.max(1, extractor.storedFrames(u)) * (double) cfg.hopLength() / cfg.sampleRate();
    }

    private int[] encode(Utterance u, Vocabulary vocab) {
        String text = u.text();
        if (text.isBlank()) {
            report.skip(u, "empty transcript", "");
            return null;
        }
        int[] ids = new int[text.length()];
        int n = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            int id = vocab.indexOf(c);
            if (id > 0) {
                ids[n++] = id;
            } else {
                report.droppedCharacter(c);
            }
        }
        int space = vocab.indexOf(' ');
        boolean anyNonSpace = false;
        for (int i = 0; i < n; i++) anyNonSpace |= ids[i] != space;
        if (!anyNonSpace) {
            report.skip(u, "no encodable character in transcript", "\"" + text + "\"");
            return null;
        }
        return java.util.Arrays.copyOf(ids, n);
    }

    public static Builder builder(List<Utterance> utterances, Vocabulary vocabulary) {
        return new Builder(utterances, vocabulary);
    }

    /** Utterances that passed the construction-time checks (all ranks together). */
    public List<Utterance> utterances() {
        return utterances;
    }

    /** What was skipped and why (filled further while loading). */
    public SkipReport report() {
        return report;
    }

    public Mode mode() {
        return mode;
    }

    /**
     * What turns an utterance into features here: its settings (CMVN, SpecAugment, seed) are the
     * ones a consumer of {@link Batch#signals()} applies on its side.
     */
    public FeatureExtractor extractor() {
        return extractor;
    }

    /** Whether batches carry signals ({@link Builder#signals()}) instead of features. */
    public boolean deliversSignals() {
        return signals;
    }

    /** This rank's planned batches of {@code epoch}, as utterance ids. */
    public List<List<String>> plan(int epoch) {
        List<List<String>> out = new ArrayList<>();
        for (int[] b : sampler.batches(epoch)) {
            List<String> ids = new ArrayList<>(b.length);
            for (int i : b) ids.add(utterances.get(i).id());
            out.add(ids);
        }
        return out;
    }

    /** Number of batches this rank has in {@code epoch} (before any decode failures). */
    public int batchesPerEpoch(int epoch) {
        return sampler.batches(epoch).size();
    }

    /** Iterates over the whole epoch. */
    public Epoch iterator(int epoch) {
        return iterator(epoch, 0);
    }

    /**
     * Iterates over {@code epoch} from batch {@code startBatch} (to resume mid-epoch, pass the
     * {@link Batch#index()} of the next batch to train on). Close it when stopping early.
     */
    public Epoch iterator(int epoch, int startBatch) {
        List<int[]> plan = sampler.batches(epoch);
        if (startBatch < 0 || startBatch > plan.size()) {
            throw new IllegalArgumentException("DataLoader: startBatch must be in [0, " + plan.size() + "] for epoch " + epoch + ", got " + startBatch);
        }
        return new Epoch(epoch, plan, startBatch);
    }

    /** Stops the worker threads. */
    @Override
    public void close() {
        pool.shutdownNow();
    }

    /**
     * The batches of one epoch, produced ahead by the worker threads (at most {@code prefetch}
     * in flight). Batches whose every utterance failed to decode are skipped, except in TRAIN mode
     * with several ranks: there every rank delivers every batch index (possibly empty) so that
     * all ranks take the same steps.
     */
    public final class Epoch implements Iterator<Batch>, AutoCloseable {
        private final int epoch;
        private final List<int[]> plan;
        private final ArrayDeque<Future<Batch>> inFlight = new ArrayDeque<>();
        private int nextToSubmit;
        private Batch ready;
        private boolean anyDelivered;
        private final int start;

        private Epoch(int epoch, List<int[]> plan, int start) {
            this.epoch = epoch;
            this.plan = plan;
            this.start = start;
            this.nextToSubmit = start;
            fill();
        }

        private void fill() {
            while (inFlight.size() < prefetch && nextToSubmit < plan.size()) {
                int index = nextToSubmit++;
                int[] members = plan.get(index);
                inFlight.add(pool.submit(() -> build(epoch, index, members)));
            }
        }

        @Override
        public boolean hasNext() {
            while (ready == null && !inFlight.isEmpty()) {
                Future<Batch> f = inFlight.poll();
                fill();
                Batch b;
                try {
                    b = f.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("DataLoader: interrupted while waiting for a batch", e);
                } catch (ExecutionException | CancellationException e) {
                    throw new IllegalStateException("DataLoader: building a batch of epoch " + epoch + " failed: " + e.getCause(), e);
                }
                if (b.size() > 0 || keepEmpty) { // data parallel: an empty slice still takes part in the step
                    ready = b;
                    anyDelivered = true;
                }
            }
            if (ready == null && !anyDelivered && start < plan.size()) {
                anyDelivered = true; // report once
                throw new IllegalStateException("DataLoader: no utterance of epoch " + epoch + " could be loaded: " + report.summary(10));
            }
            return ready != null;
        }

        @Override
        public Batch next() {
            if (!hasNext()) throw new NoSuchElementException("DataLoader: epoch " + epoch + " has no more batches");
            Batch b = ready;
            ready = null;
            return b;
        }

        /** Cancels the batches still being prepared. */
        @Override
        public void close() {
            for (Future<Batch> f : inFlight) f.cancel(false); // no interrupt: it would close a file channel mid-read
            inFlight.clear();
            nextToSubmit = plan.size();
        }
    }

    private Batch build(int epoch, int index, int[] members) {
        boolean augment = mode == Mode.TRAIN;
        if (signals) return buildSignals(epoch, index, members, augment);
        Batch stored = buildStored(epoch, index, members, augment);
        if (stored != null) return stored;
        List<String> ids = new ArrayList<>(members.length);
        List<FeatureMatrix> feats = new ArrayList<>(members.length);
        List<int[]> labs = new ArrayList<>(members.length);
        int maxT = 0, maxL = 0;
        for (int i : members) {
            Utterance u = utterances.get(i);
            FeatureMatrix f;
            try {
                f = extractor.extract(u, epoch, augment);
            } catch (RuntimeException e) {
                if (Thread.currentThread().isInterrupted()) {
                    throw new CancellationException("DataLoader: shut down while loading " + u.id()); // not the file's fault
                }
                report.skip(u, "unreadable audio", e.getMessage());
                continue;
            }
            ids.add(u.id());
            feats.add(f);
            labs.add(labels[i]);
            maxT = Math.max(maxT, f.frames());
            maxL = Math.max(maxL, labels[i].length);
        }
        int b = ids.size(), c = extractor.config().nMels();
        float[] x = new float[b * maxT * c];
        int[] frameLengths = new int[b], labelLengths = new int[b];
        int[] y = new int[b * maxL];
        for (int k = 0; k < b; k++) {
            FeatureMatrix f = feats.get(k);
            System.arraycopy(f.values(), 0, x, k * maxT * c, f.values().length);
            frameLengths[k] = f.frames();
            int[] l = labs.get(k);
            System.arraycopy(l, 0, y, k * maxL, l.length);
            labelLengths[k] = l.length;
        }
        return new Batch(epoch, index, ids, x, maxT, c, frameLengths, y, maxL, labelLengths);
    }

    /**
     * A batch of decoded, resampled and (augmenting) speed-perturbed signals, with the frame counts
     * their features will have; utterances that fail to decode are left out, as in {@link #build}.
     */
    private Batch buildSignals(int epoch, int index, int[] members, boolean augment) {
        FeatureConfig cfg = extractor.config();
        List<String> ids = new ArrayList<>(members.length);
        List<float[]> audio = new ArrayList<>(members.length);
        List<int[]> labs = new ArrayList<>(members.length);
        int maxT = 0, maxL = 0;
        for (int i : members) {
            Utterance u = utterances.get(i);
            float[] x;
            try {
                x = extractor.signal(u, epoch, augment);
            } catch (RuntimeException e) {
                if (Thread.currentThread().isInterrupted()) {
                    throw new CancellationException("DataLoader: shut down while loading " + u.id());
                }
                report.skip(u, "unreadable audio", e.getMessage());
                continue;
            }
            ids.add(u.id());
            audio.add(x);
            labs.add(labels[i]);
            maxT = Math.max(maxT, cfg.numFrames(x.length));
            maxL = Math.max(maxL, labels[i].length);
        }
        int b = ids.size();
        int[] frameLengths = new int[b], labelLengths = new int[b];
        int[] y = new int[b * maxL];
        for (int k = 0; k < b; k++) {
            frameLengths[k] = cfg.numFrames(audio.get(k).length);
            int[] l = labs.get(k);
            System.arraycopy(l, 0, y, k * maxL, l.length);
            labelLengths[k] = l.length;
        }
        return new Batch(epoch, index, ids, new float[0], maxT, cfg.nMels(), frameLengths, y, maxL, labelLengths, Signals.of(audio));
    }

    /**
     * The batch when the feature store holds every member: laid out from the stored frame counts
     * and filled in place (no per-utterance arrays, no second copy). Null when some member is not
     * stored or its entry is damaged; {@link #build} then extracts the ordinary way.
     */
    private Batch buildStored(int epoch, int index, int[] members, boolean augment) {
        int b = members.length, c = extractor.config().nMels(), maxT = 0, maxL = 0;
        int[] frameLengths = new int[b], labelLengths = new int[b];
        for (int k = 0; k < b; k++) {
            int t = extractor.storedFrames(utterances.get(members[k]), epoch, augment);
            if (t < 0) return null;
            frameLengths[k] = t;
            maxT = Math.max(maxT, t);
            labelLengths[k] = labels[members[k]].length;
            maxL = Math.max(maxL, labelLengths[k]);
        }
        float[] x = new float[b * maxT * c];
        int[] y = new int[b * maxL];
        List<String> ids = new ArrayList<>(b);
        for (int k = 0; k < b; k++) {
            Utterance u = utterances.get(members[k]);
            if (!extractor.extractInto(u, epoch, augment, x, k * maxT * c)) return null;
            ids.add(u.id());
            System.arraycopy(labels[members[k]], 0, y, k * maxL, labelLengths[k]);
        }
        return new Batch(epoch, index, ids, x, maxT, c, frameLengths, y, maxL, labelLengths);
    }

    /** Options of a {@link DataLoader}; every setter checks its argument. */
    public static final class Builder {
        private final List<Utterance> utterances;
        private final Vocabulary vocabulary;
        private Mode mode = Mode.TRAIN;
        private int maxFramesPerBatch = Integer.MAX_VALUE, maxBatchSize = 16, buckets = 10, rank = 0, worldSize = 1;
        private int threads = 2, prefetch = -1;
        private Boolean shuffle;
        private long seed;
        private FeatureConfig features = FeatureConfig.defaults();
        private FeatureExtractor.CmvnMode cmvnMode = FeatureExtractor.CmvnMode.UTTERANCE;
        private Cmvn globalCmvn;
        private SpecAugment specAugment;
        private SpeedPerturbation speed;
        private SkipReport report = new SkipReport();
        private java.nio.file.Path cacheDir;
        private FeatureStore store;
        private boolean signals;

        private Builder(List<Utterance> utterances, Vocabulary vocabulary) {
            this.utterances = List.copyOf(Objects.requireNonNull(utterances, "utterances"));
            this.vocabulary = Objects.requireNonNull(vocabulary, "vocabulary");
        }

        /** TRAIN (default) or EVAL. */
        public Builder mode(Mode m) { mode = Objects.requireNonNull(m); return this; }
        /** Padded frames B * T per batch (default: no limit). */
        public Builder maxFramesPerBatch(int n) { maxFramesPerBatch = positive("maxFramesPerBatch", n); return this; }
        /** Utterances per batch (default 16). */
        public Builder maxBatchSize(int n) { maxBatchSize = positive("maxBatchSize", n); return this; }
        /** Length buckets (default 10). */
        public Builder buckets(int n) { buckets = positive("buckets", n); return this; }
        /** Shuffle per epoch (default: in TRAIN mode only). */
        public Builder shuffle(boolean s) { shuffle = s; return this; }
        /** Run seed for shuffling and augmentation (default 0). */
        public Builder seed(long s) { seed = s; return this; }
        /** This data-parallel rank (default 0). */
        public Builder rank(int r) { rank = lmu.util.Checks.nonNegative("rank", r); return this; }
        /** Number of data-parallel ranks (default 1). */
        public Builder worldSize(int w) { worldSize = positive("worldSize", w); return this; }
        /** Worker threads for decoding and features (default 2). */
        public Builder threads(int n) { threads = positive("threads", n); return this; }
        /** Batches prepared ahead (default 2 * threads). */
        public Builder prefetch(int n) { prefetch = positive("prefetch", n); return this; }
        public Builder features(FeatureConfig f) { features = Objects.requireNonNull(f); return this; }
        /** Per-utterance normalisation (the default). */
        public Builder utteranceCmvn() { cmvnMode = FeatureExtractor.CmvnMode.UTTERANCE; globalCmvn = null; return this; }
        /** Normalisation by dataset statistics. */
        public Builder globalCmvn(Cmvn c) { cmvnMode = FeatureExtractor.CmvnMode.GLOBAL; globalCmvn = Objects.requireNonNull(c); return this; }
        /** Raw log-mel values. */
        public Builder noCmvn() { cmvnMode = FeatureExtractor.CmvnMode.NONE; globalCmvn = null; return this; }
        /** SpecAugment in TRAIN mode (default: none). */
        public Builder specAugment(SpecAugment s) { specAugment = s; return this; }
        /** Speed perturbation in TRAIN mode (default: none). */
        public Builder speedPerturbation(SpeedPerturbation s) { speed = s; return this; }
        /** Cache raw log-mel features in this directory ({@link FeatureCache}; default: no cache). */
        public Builder featureCache(java.nio.file.Path dir) { cacheDir = Objects.requireNonNull(dir); return this; }
        /**
         * Read raw log-mel features from this store (built by {@code prepare --features}) where it
         * holds the segment; decode (or use the feature cache) for the rest. An utterance the
         * store holds needs no audio file (default: no store).
         */
        public Builder featureStore(FeatureStore s) { store = s; return this; }
        /**
         * Batches carry decoded (and, training, speed-perturbed) audio ({@link Batch#signals()})
         * instead of features, for a consumer that computes the features itself, e.g. on the
         * model's device; it applies {@link DataLoader#extractor()}'s CMVN and SpecAugment settings. The
         * feature cache and store are not used (default: features).
         */
        public Builder signals() { signals = true; return this; }
        /** Where skips are recorded (default: a new report). */
        public Builder report(SkipReport r) { report = Objects.requireNonNull(r); return this; }

        /**
         * @throws IllegalArgumentException when rank >= worldSize, or no utterance is usable (the
         *     message lists the reasons)
         */
        public DataLoader build() {
            if (rank >= worldSize) {
                throw new IllegalArgumentException("DataLoader: rank must be < worldSize " + worldSize + ", got " + rank);
            }
            if (prefetch < 0) prefetch = 2 * threads;
            return new DataLoader(this);
        }

        private static int positive(String name, int v) {
            return lmu.util.Checks.positive(name, v);
        }
    }
}
