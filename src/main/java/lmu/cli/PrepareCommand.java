package lmu.cli;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import lmu.speech.data.DatasetListing;
import lmu.speech.data.FeatureExtractor;
import lmu.speech.data.Prepare;
import lmu.speech.data.SkipReport;
import lmu.speech.features.Cmvn;
import lmu.speech.features.FeatureConfig;
import lmu.train.DataPipeline;
import lmu.util.Parallel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code prepare}: turns a dataset into JSON-lines manifests (and global CMVN statistics), or with
 * {@code --check} decodes every file of a dataset and reports what is unusable.
 */
@Command(name = "prepare", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Prepares datasets: JSON-lines manifests and global CMVN statistics.",
            "  prepare --format gigaspeech --input RELEASE_DIR --subset xs --output DIR",
            "  prepare --format librispeech --input train-clean-100 --output DIR",
            "  prepare --format asterisk --output DIR      (Debian asterisk-core-sounds-en-g722, needs ffmpeg)",
            "  prepare --check --input PATH                (decode everything, report bad files)"})
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
        System.out.println("written to " + output);
        return 0;
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
