package lmu.cli;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import lmu.speech.data.DatasetListing;
import lmu.speech.data.FeatureExtractor;
import lmu.speech.data.FeatureStore;
import lmu.speech.data.Prepare;
import lmu.speech.data.SkipReport;
import lmu.speech.data.Utterance;
import lmu.speech.features.Cmvn;
import lmu.speech.features.FeatureConfig;
import lmu.speech.features.SpeedPerturbation;
import lmu.train.DataPipeline;
import lmu.util.Parallel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code prepare}: turns a dataset into JSON-lines manifests (and global CMVN statistics, and with
 * {@code --features} a memory-mapped {@link FeatureStore} of their log-mel features), or with
 * {@code --check} decodes every file of a dataset and reports what is unusable.
 */
@Command(name = "prepare", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Prepares datasets: JSON-lines manifests and global CMVN statistics.",
            "  prepare --format gigaspeech --input RELEASE_DIR --subset xs --output DIR",
            "  prepare --format librispeech --input train-clean-100 --output DIR",
            "  prepare --format asterisk --output DIR      (Debian asterisk-core-sounds-en-g722, needs ffmpeg)",
            "  prepare --check --input PATH                (decode everything, report bad files)",
            "  prepare ... --features      (also DIR/features: log-mel store for train)"})
final class PrepareCommand implements Callable<Integer> {
    @Option(names = "--format", paramLabel = "NAME", description = "gigaspeech, librispeech, asterisk or manifest (any dataset spec the engine reads)")
    String format;

    @Option(names = "--input", paramLabel = "PATH", description = "the dataset: a release or corpus directory, a .jsonl manifest, or builtin")
    String input;

    @Option(names = "--subset", paramLabel = "NAME", description = "GigaSpeech subset xs, s, m, l or xl; or the split for --format manifest / --check")
    String subset;

    @Option(names = "--output", paramLabel = "DIR", defaultValue = "data/prepared", description = "where manifests and cmvn.json are written")
    Path output;

    @Option(names = "--cmvn", description = "also compute global mean/variance statistics over the training manifest (cmvn.json)")
    boolean cmvn;

    @Option(names = "--features", description = "also compute the raw log-mel features of every manifest written into one memory-mapped"
            + " store (--features-dir); training reads it instead of decoding audio (data.features: auto finds it next to the manifest)")
    boolean features;

    @Option(names = "--features-dir", paramLabel = "DIR", description = "where --features writes the store (default: OUTPUT/features)")
    Path featuresDir;

    @Option(names = "--features-dtype", paramLabel = "TYPE", defaultValue = "float32",
            description = "stored values: float32 (exact) or float16 (half the size, about 3 significant digits)")
    String featuresDtype;

    @Option(names = "--features-speeds", paramLabel = "F,F,...", split = ",", defaultValue = "1.0",
            description = "speed factors to store (e.g. 0.9,1.0,1.1 for a loader with speed perturbation); other factors are decoded when used")
    double[] featuresSpeeds;

    @Option(names = "--check", description = "decode every utterance of --input and report unusable ones; writes nothing")
    boolean check;

    @Override
    public Integer call() throws Exception {
        if (check) return check();
        if (format == null) throw new IllegalArgumentException("prepare: --format is required (gigaspeech, librispeech, asterisk, manifest), or use --check");
        Map<String, DatasetListing> done = new LinkedHashMap<>();
        switch (format) {
            case "gigaspeech" -> done.putAll(Prepare.gigaspeech(Path.of(need("--input")), subset == null ? "xs" : subset, output));
            case "librispeech" -> done.put("train", Prepare.librispeech(Path.of(need("--input")), output.resolve("train.jsonl")));
            case "asterisk" -> done.putAll(Prepare.asterisk(output));
            case "manifest" -> done.put("train", Prepare.manifest(need("--input"), subset, output.resolve("train.jsonl")));
            default -> throw new IllegalArgumentException("--format: expected gigaspeech, librispeech, asterisk or manifest, got '" + format + "'");
        }
        done.forEach((name, l) -> System.out.print(name + ": " + l.summary(20)));
        if (cmvn) {
            DatasetListing train = done.getOrDefault("train", done.values().iterator().next());
            SkipReport report = new SkipReport();
            Cmvn stats = FeatureExtractor.globalStats(train.utterances(), FeatureConfig.defaults(), Parallel.threads(), report);
            Files.writeString(output.resolve("cmvn.json"), stats.toJson(), StandardCharsets.UTF_8);
            System.out.println("cmvn.json: " + stats.frames() + " frames" + (report.skipped() > 0 ? "; " + report.summary(10).strip() : ""));
        }
        if (features) buildFeatures(done);
        System.out.println("written to " + output);
        return 0;
    }

    /** One store with the features of every listing written (an utterance in several listings once). */
    private void buildFeatures(Map<String, DatasetListing> done) {
        FeatureStore.Dtype dtype = FeatureStore.Dtype.parse(featuresDtype);
        java.util.List<Utterance> all = new java.util.ArrayList<>();
        done.values().forEach(l -> all.addAll(l.utterances()));
        FeatureConfig cfg = FeatureConfig.defaults();
        SpeedPerturbation speeds = featuresSpeeds.length == 1 && featuresSpeeds[0] == 1.0 ? null
                : new SpeedPerturbation(cfg.sampleRate(), featuresSpeeds);
        Path dir = featuresDir != null ? featuresDir : output.resolve("features");
        SkipReport report = new SkipReport();
        long t0 = System.nanoTime();
        FeatureStore.Summary s = FeatureStore.build(dir, all, cfg, dtype, speeds, Parallel.threads(), report);
        System.out.printf(java.util.Locale.ROOT, "features: %s, %s, in %.1f s -> %s%n", s, dtype.name().toLowerCase(java.util.Locale.ROOT),
                (System.nanoTime() - t0) / 1e9, dir);
        if (report.skipped() > 0) System.out.print("features: left out (decoded at training time, if at all): " + report.summary(10));
    }

    private String need(String flag) {
        if (input == null) throw new IllegalArgumentException("prepare --format " + format + ": " + flag + " is required");
        return input;
    }

    /** Decodes every utterance (features included) and prints a summary of what is unusable. */
    private int check() {
        DatasetListing l = DataPipeline.open(need("--input"), subset);
        System.out.print("listing: " + l.summary(20));
        SkipReport report = new SkipReport();
        Cmvn stats = FeatureExtractor.globalStats(l.utterances(), FeatureConfig.defaults(), Parallel.threads(), report);
        System.out.printf(java.util.Locale.ROOT, "decoded: %d of %d utterances, %.2f h of features%n", l.utterances().size() - report.skipped(),
                l.utterances().size(), stats.frames() / 360000.0);
        if (report.skipped() > 0) System.out.print("unusable: " + report.summary(50));
        return report.skipped() == 0 && l.skipped().isEmpty() ? 0 : Main.EXIT_USAGE;
    }
}
