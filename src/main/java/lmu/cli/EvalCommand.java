package lmu.cli;

import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import lmu.nn.CtcModel;
import lmu.speech.data.DataLoader;
import lmu.speech.data.DatasetListing;
import lmu.train.Checkpoints;
import lmu.train.DataPipeline;
import lmu.train.Evaluator;
import lmu.train.Models;
import lmu.train.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code eval}: WER and CER of a checkpoint on a dataset, with a per-utterance output file. */
@Command(name = "eval", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Word and character error rates of a checkpoint on a dataset.")
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, paramLabel = "DIR", description = "checkpoint directory")
    Path checkpoint;

    @Option(names = "--data", defaultValue = "builtin-test", paramLabel = "PATH", description = "builtin-test, builtin, a .jsonl manifest, a LibriSpeech or GigaSpeech directory")
    String data;

    @Option(names = "--part", paramLabel = "NAME", description = "split or subset where the format has several (e.g. GigaSpeech dev, test)")
    String part;

    @Option(names = "--beam", defaultValue = "1", paramLabel = "N", description = "beam width; 1 = greedy decoding")
    int beam;

    @Option(names = "--batch-size", defaultValue = "16", paramLabel = "N", description = "utterances per batch")
    int batch;

    @Option(names = "--output", paramLabel = "FILE", description = "per-utterance results (id, reference, hypothesis) as TSV; default: none")
    Path output;

    @Override
    public Integer call() throws Exception {
        if (beam < 1) throw new IllegalArgumentException("--beam: expected 1 or more, got " + beam);
        Checkpoints.Loaded ck = Checkpoints.load(checkpoint);
        CtcModel model = Models.load(ck);
        TrainConfig cfg = Models.config(ck);
        DatasetListing list = DataPipeline.open(data, part);
        System.out.println("data: " + data + ": " + list.summary(5).strip());
        Evaluator.Result r;
        try (DataLoader loader = DataPipeline.evalLoader(cfg, list.utterances(), model.vocabulary(), 0, 1, batch)) {
            r = Evaluator.evaluate(model, DataPipeline.evalSource(loader).get(), beam == 1 ? Evaluator.GREEDY : Evaluator.beam(beam));
            if (loader.report().skipped() > 0) System.out.println("skipped: " + loader.report().summary(10).strip());
        }
        System.out.printf(Locale.ROOT, "WER %.2f%% (%d errors / %d words: %d sub, %d del, %d ins)%n", 100 * r.wer(), r.words().errors(),
                r.words().referenceLength(), r.words().substitutions(), r.words().deletions(), r.words().insertions());
        System.out.printf(Locale.ROOT, "CER %.2f%% (%d errors / %d characters)%n", 100 * r.cer(), r.chars().errors(), r.chars().referenceLength());
        System.out.printf(Locale.ROOT, "loss %.4f over %d utterances (%s decoding)%n", r.loss(), r.utterances(), beam == 1 ? "greedy" : "beam " + beam);
        if (output != null) {
            try (BufferedWriter w = Files.newBufferedWriter(output, StandardCharsets.UTF_8)) {
                w.write("id\treference\thypothesis\n");
                for (Evaluator.Hypothesis h : r.hypotheses()) w.write(h.id() + "\t" + h.reference() + "\t" + h.hypothesis() + "\n");
            }
            System.out.println("per-utterance results: " + output);
        }
        return 0;
    }
}
