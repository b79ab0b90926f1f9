package lmu.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import lmu.train.MetricsPlot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code plot}: loss and WER/CER curves of a run as a PNG. */
@Command(name = "plot", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Draws the loss and validation WER/CER curves of a run (its metrics.jsonl) into a PNG.")
final class PlotCommand implements Callable<Integer> {
    @Parameters(paramLabel = "RUN_DIR", defaultValue = "runs/latest", description = "a training output directory")
    Path run;

    @Option(names = "--output", paramLabel = "FILE", description = "PNG to write (default: RUN_DIR/curves.png)")
    Path output;

    @Override
    public Integer call() throws Exception {
        Path metrics = run.resolve("metrics.jsonl");
        if (!Files.isRegularFile(metrics)) throw new IllegalArgumentException("plot: no metrics.jsonl in " + run);
        Path png = output != null ? output : run.resolve("curves.png");
        MetricsPlot.write(metrics, png);
        System.out.println("wrote " + png);
        return 0;
    }
}
