package lmu.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import lmu.autograd.GradMode;
import lmu.nn.CtcModel;
import lmu.speech.data.FeatureExtractor;
import lmu.speech.data.Utterance;
import lmu.speech.features.FeatureConfig;
import lmu.speech.features.FeatureMatrix;
import lmu.tensor.Tensor;
import lmu.train.Checkpoints;
import lmu.train.Evaluator;
import lmu.train.Models;
import lmu.train.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code transcribe}: prints the text of audio files, one line per file. */
@Command(name = "transcribe", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Prints the text of audio files (WAV, FLAC, Ogg/Opus), one \"file<TAB>text\" line each.")
final class TranscribeCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, paramLabel = "DIR", description = "checkpoint directory")
    Path checkpoint;

    @Option(names = "--beam", defaultValue = "1", paramLabel = "N", description = "beam width; 1 = greedy decoding")
    int beam;

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "audio files")
    List<Path> files;

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (beam < 1) throw new IllegalArgumentException("--beam: expected 1 or more, got " + beam);
        Checkpoints.Loaded ck = Checkpoints.load(checkpoint);
        CtcModel model = Models.load(ck);
        TrainConfig cfg = Models.config(ck);
        model.train(false);
        FeatureExtractor fx = new FeatureExtractor(FeatureConfig.defaults(),
                cfg.data().cmvn().equals("none") ? FeatureExtractor.CmvnMode.NONE : FeatureExtractor.CmvnMode.UTTERANCE, null, null, null, 0);
        Evaluator.Decoder decoder = beam == 1 ? Evaluator.GREEDY : Evaluator.beam(beam);
        int failed = 0;
        for (Path f : files) {
            try (GradMode g = GradMode.off()) {
                FeatureMatrix m = fx.extract(new Utterance(f.toString(), f, 0, -1, ""), 0, false);
                Tensor x = Tensor.of(m.values(), 1, m.frames(), m.bins());
                CtcModel.Output o = model.forward(x, new int[] {m.frames()});
                System.out.println(f + "\t" + decoder.decode(o.values(), o.lengths(), model.vocabulary()).get(0));
            } catch (RuntimeException e) {
                failed++;
                spec.commandLine().getErr().println(f + ": " + e.getMessage());
            }
        }
        return failed == 0 ? 0 : Main.EXIT_FAILURE;
    }
}
