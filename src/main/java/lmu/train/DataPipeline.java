package lmu.train;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import lmu.speech.data.Batch;
import lmu.speech.data.DataLoader;
import lmu.speech.data.DatasetListing;
import lmu.speech.data.Datasets;
import lmu.speech.data.FeatureStore;
import lmu.speech.data.SkipReport;
import lmu.speech.data.Utterance;
import lmu.speech.features.FeatureConfig;
import lmu.speech.features.SpecAugment;
import lmu.speech.features.SpeedPerturbation;
import lmu.speech.text.Vocabulary;
import lmu.tensor.Tensor;

/** Connects datasets and the loader to the training loop: listings → {@link DataLoader} → {@link TrainBatch}. */
public final class DataPipeline {
    private DataPipeline() {}

    /**
     * Lists a dataset: {@code builtin}, {@code builtin-test}, a manifest, a LibriSpeech or GigaSpeech
     * directory ({@code part} is the split or subset where the format has several).
     */
    public static DatasetListing open(String spec, String part) {
        if (spec.equals("builtin-test")) return Datasets.open("builtin", "test");
        return Datasets.open(spec, part);
    }

    /** Utterances longer than {@code maxSeconds} are dropped (and counted) to bound memory per batch. */
    public static List<Utterance> withinDuration(List<Utterance> all, double maxSeconds, int[] dropped) {
        List<Utterance> keep = all.stream().filter(u -> u.duration() <= maxSeconds).toList();
        dropped[0] = all.size() - keep.size();
        return keep;
    }

    /** Name of the report of skipped training data in the output directory. */
    public static final String SKIP_REPORT = "skipped.txt";

    /**
     * Everything left out of training, one line per item with the file and the reason: entries the
     * dataset reader skipped (bad manifest lines, missing files, empty transcripts), utterances
     * over {@code data.max_duration}, and utterances the loader skipped (audio that does not decode,
     * transcripts with nothing the vocabulary can encode).
     *
     * @param listing what the dataset reader found
     * @param tooLong utterances left out for their duration
     * @param loader the loader's report, or null when no loader was built
     */
    public static String skipReport(DatasetListing listing, List<Utterance> tooLong, double maxDuration, SkipReport loader) {
        StringBuilder sb = new StringBuilder();
        int total = listing.skipped().size() + tooLong.size() + (loader == null ? 0 : loader.skipped());
        sb.append(total).append(" training item(s) skipped\n");
        for (DatasetListing.Skipped s : listing.skipped()) sb.append("dataset: ").append(s).append('\n');
        for (Utterance u : tooLong) {
            sb.append("too long: ").append(u.id()).append(" (").append(u.audio()).append("): ")
                    .append(String.format(java.util.Locale.ROOT, "%.2f s > data.max_duration %.2f s", u.duration(), maxDuration)).append('\n');
        }
        if (loader != null) {
            for (SkipReport.Entry e : loader.entries()) sb.append("loader: ").append(e).append('\n');
            if (!loader.droppedCharacters().isEmpty()) {
                sb.append("characters dropped from transcripts:");
                loader.droppedCharacters().forEach((c, n) -> sb.append(String.format(" '%c' (U+%04X) x %d", c, (int) c, n)));
                sb.append('\n');
            }
        }
        return sb.toString();
    }

    /** The feature cache directory a config asks for, or null for none. */
    static Path featureCache(TrainConfig cfg) {
        String c = cfg.data().featureCache();
        if (c.equals("none")) return null;
        if (c.equals("auto")) return Path.of(System.getProperty("user.home"), ".cache", "lmu-engine", "features");
        return Path.of(c);
    }

    /**
     * The feature store a config asks for ({@code data.features}), opened, or null for none.
     *
     * @throws IllegalArgumentException when an explicit store directory has no valid store, or
     *     the store was built with other feature settings (the message names the file)
     */
    static FeatureStore featureStore(TrainConfig cfg) {
        String f = cfg.data().features();
        if (f.equals("none")) return null;
        Path dir;
        if (f.equals("auto")) {
            if (cfg.data().train().equals("builtin")) return null;
            Path train = Path.of(cfg.data().train()).toAbsolutePath();
            dir = (Files.isDirectory(train) ? train : train.getParent()).resolve("features");
            if (!FeatureStore.exists(dir)) return null;
        } else {
            dir = Path.of(f);
        }
        return FeatureStore.open(dir, FeatureConfig.defaults());
    }

    /**
     * The training loader: bucketed, shuffled per epoch, augmented; with several ranks each takes
     * its slice of every global batch of {@code globalBatch} utterances, and the frame cap
     * {@code train.max_frames} (per device) is applied to the global batch times the ranks.
     */
    public static DataLoader trainLoader(TrainConfig cfg, List<Utterance> utts, Vocabulary vocab, int rank, int world, int globalBatch) {
        return trainLoader(cfg, utts, vocab, rank, world, globalBatch, new SkipReport());
    }

    /** The training loader, recording what it skips in {@code report} (kept even when construction fails). */
    public static DataLoader trainLoader(TrainConfig cfg, List<Utterance> utts, Vocabulary vocab, int rank, int world, int globalBatch,
            SkipReport report) {
        TrainConfig.SpecAugmentConfig sa = cfg.data().specAugment();
        DataLoader.Builder b = DataLoader.builder(utts, vocab)
                .report(report)
                .mode(DataLoader.Mode.TRAIN)
                .maxBatchSize(globalBatch)
                .seed(cfg.train().seed())
                .rank(rank)
                .worldSize(world)
                .threads(cfg.data().loaderThreads());
        common(cfg, b);
        if (cfg.train().maxFrames() > 0 && world > 1) b.maxFramesPerBatch((int) Math.min(Integer.MAX_VALUE, (long) cfg.train().maxFrames() * world));
        if (sa.freqMasks() + sa.timeMasks() > 0) {
            b.specAugment(sa.adaptive()
                    ? new SpecAugment(sa.freqMasks(), sa.freqWidth(), 20, Integer.MAX_VALUE, true, 0.04, sa.timeWidth(), 0f)
                    : new SpecAugment(sa.freqMasks(), sa.freqWidth(), sa.timeMasks(), (int) sa.timeWidth(), false, 0, 0, 0f));
        }
        List<Double> speeds = cfg.data().speedPerturbation();
        if (!speeds.isEmpty()) {
            b.speedPerturbation(new SpeedPerturbation(16000, speeds.stream().mapToDouble(Double::doubleValue).toArray()));
        }
        return b.build();
    }

    /** An evaluation loader: every utterance once (of this rank's shard), in a fixed order, no augmentation. */
    public static DataLoader evalLoader(TrainConfig cfg, List<Utterance> utts, Vocabulary vocab, int rank, int world, int batch) {
        DataLoader.Builder b = DataLoader.builder(utts, vocab)
                .mode(DataLoader.Mode.EVAL)
                .maxBatchSize(batch)
                .rank(rank)
                .worldSize(world)
                .threads(cfg.data().loaderThreads());
        common(cfg, b);
        return b.build();
    }

    /**
     * Settings shared by training and evaluation loaders: frame cap, normalisation, feature cache
     * and store; with {@code data.features_on: device} the loader delivers audio instead of
     * features, and the cache and store are not used.
     */
    private static void common(TrainConfig cfg, DataLoader.Builder b) {
        if (cfg.train().maxFrames() > 0) b.maxFramesPerBatch(cfg.train().maxFrames());
        if (cfg.data().cmvn().equals("none")) b.noCmvn();
        else b.utteranceCmvn();
        if (featuresOnDevice(cfg)) {
            b.signals();
            return;
        }
        if (featureCache(cfg) != null) b.featureCache(featureCache(cfg));
        b.featureStore(featureStore(cfg));
    }

    /** Whether the trainer computes the features on the model's device ({@code data.features_on: device}). */
    static boolean featuresOnDevice(TrainConfig cfg) {
        return cfg.data().featuresOn().equals("device");
    }

    /** The line that says where features are computed, for the start of a run. */
    static String describeFeatures(TrainConfig cfg, lmu.tensor.Device device) {
        if (!featuresOnDevice(cfg)) return "features: log-mel, CMVN and SpecAugment on " + cfg.data().loaderThreads() + " loader thread(s)";
        return "features: log-mel, CMVN and SpecAugment on " + device + " (data.features_on: device; loader threads decode"
                + " audio only; data.feature_cache and data.features are not used)";
    }

    /** The loader as the training loop's batch source (features of a loader of audio computed on the CPU). */
    public static BatchSource source(DataLoader loader) {
        return source(loader, lmu.tensor.Device.CPU);
    }

    /**
     * The loader as the training loop's batch source. A loader of audio ({@code data.features_on:
     * device}) gets each batch's features computed on {@code device} (the model's) as the trainer
     * takes the batch, on its thread ({@link DeviceFeatures}); a loader of features delivers host
     * tensors.
     */
    public static BatchSource source(DataLoader loader, lmu.tensor.Device device) {
        Map<String, String> texts = texts(loader.utterances());
        DeviceFeatures onDevice = loader.deliversSignals() ? DeviceFeatures.of(loader) : null;
        boolean augment = loader.mode() == DataLoader.Mode.TRAIN;
        return new BatchSource() {
            @Override
            public Iterator<TrainBatch> epoch(int epoch, int skip) {
                return adapt(loader.iterator(epoch, skip), texts, onDevice, augment, device);
            }

            @Override
            public int batchesPerEpoch() {
                return loader.batchesPerEpoch(1);
            }
        };
    }

    /** One pass over an evaluation loader (features of a loader of audio computed on the CPU). */
    public static Supplier<Iterator<TrainBatch>> evalSource(DataLoader loader) {
        return evalSource(loader, lmu.tensor.Device.CPU);
    }

    /** One pass over an evaluation loader; a loader of audio gets its features computed on {@code device}. */
    public static Supplier<Iterator<TrainBatch>> evalSource(DataLoader loader, lmu.tensor.Device device) {
        Map<String, String> texts = texts(loader.utterances());
        DeviceFeatures onDevice = loader.deliversSignals() ? DeviceFeatures.of(loader) : null;
        return () -> adapt(loader.iterator(1, 0), texts, onDevice, false, device);
    }

    private static Map<String, String> texts(List<Utterance> utts) {
        Map<String, String> m = new HashMap<>();
        for (Utterance u : utts) m.put(u.id(), u.text());
        return m;
    }

    private static Iterator<TrainBatch> adapt(Iterator<Batch> it, Map<String, String> texts, DeviceFeatures onDevice, boolean augment,
            lmu.tensor.Device device) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public TrainBatch next() {
                return toTrainBatch(it.next(), texts, onDevice, augment, device);
            }
        };
    }

    /**
     * @param onDevice what computes the features of a batch of signals (null: the batch holds features)
     * @param augment whether SpecAugment applies to a batch of signals
     * @param device where the features of a batch of signals are computed
     */
    static TrainBatch toTrainBatch(Batch b, Map<String, String> texts, DeviceFeatures onDevice, boolean augment,
            lmu.tensor.Device device) {
        String[] ids = b.ids().toArray(new String[0]);
        String[] refs = new String[ids.length];
        for (int i = 0; i < ids.length; i++) refs[i] = texts.getOrDefault(ids[i], "");
        if (b.signals() != null) {
            if (onDevice == null) throw new IllegalStateException("DataPipeline: a batch of signals needs DeviceFeatures");
            Tensor x = onDevice.compute(b.signals(), b.ids(), b.epoch(), augment, device);
            return new TrainBatch(x, b.frameLengths(), b.labels(), b.labelLengths(), ids, refs, b.index() + 1);
        }
        Tensor x = Tensor.of(b.features(), b.size(), b.frames(), b.bins());
        return new TrainBatch(x, b.frameLengths(), b.labels(), b.labelLengths(), ids, refs, b.index() + 1);
    }
}
