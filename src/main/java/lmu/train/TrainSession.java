package lmu.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import lmu.backend.cpu.Gemm;
import lmu.nn.CtcModel;
import lmu.nn.ModelConfig;
import lmu.speech.data.DataLoader;
import lmu.speech.data.DatasetListing;
import lmu.speech.data.SkipReport;
import lmu.speech.data.Utterance;
import lmu.util.Parallel;

/** A whole {@code train} command after its config is resolved: data, model, resume, loop, summary. */
public final class TrainSession {
    /** Options that are not part of the config. */
    public record Options(Path outputDir, String resume, boolean dryRun, boolean debug, String dataPart) {}

    private TrainSession() {}

    /** Runs and returns the outcome (null for a dry run). */
    public static Trainer.Summary run(TrainConfig cfg, Options opt, PrintStream out) throws IOException {
        out.println("device: cpu (" + Parallel.threads() + " threads; matrix products: " + Gemm.implementation() + ")");
        if (cfg.train().mixedPrecision().equals("auto")) out.println("mixed precision: off (auto chooses fp16 on a GPU only)");
        CtcModel model = Models.create(cfg);
        int world = 1;
        int perDevice = Math.max(1, cfg.train().batchSize() / world);
        out.printf(Locale.ROOT, "batch: %d global = %d per device x %d device(s)%s%n", perDevice * world, perDevice, world,
                cfg.train().gradAccum() > 1 ? " x " + cfg.train().gradAccum() + " accumulated" : "");

        DatasetListing trainList = DataPipeline.open(cfg.data().train(), opt.dataPart());
        DatasetListing validList = cfg.data().valid().isEmpty() ? null : DataPipeline.open(cfg.data().valid(), null);
        int[] dropped = new int[1];
        List<Utterance> trainUtts = DataPipeline.withinDuration(trainList.utterances(), cfg.data().maxDuration(), dropped);
        List<Utterance> validUtts = validList == null ? List.of() : validList.utterances();
        if (opt.debug()) {
            trainUtts = trainUtts.subList(0, Math.min(64, trainUtts.size()));
            validUtts = validUtts.subList(0, Math.min(16, validUtts.size()));
        }
        out.println("train data: " + cfg.data().train() + ": " + trainList.summary(5).strip()
                + (dropped[0] > 0 ? "; " + dropped[0] + " longer than " + cfg.data().maxDuration() + " s left out" : ""));
        if (validList != null) out.println("valid data: " + cfg.data().valid() + ": " + validList.summary(5).strip());
        if (trainUtts.isEmpty()) {
            throw new IllegalArgumentException("no usable training utterances in " + cfg.data().train() + ": "
                    + trainList.summary(10).strip() + (dropped[0] > 0 ? "; " + dropped[0] + " longer than data.max_duration" : ""));
        }
        double[] known = trainUtts.stream().mapToDouble(Utterance::duration).filter(d -> d > 0).toArray(); // 100 frames/s: 10 ms hop
        TrainConfig.checkAgainstData(ModelConfig.parse(cfg.model()), java.util.Arrays.stream(known).max().orElse(0),
                java.util.Arrays.stream(known).min().orElse(1), 100);

        if (opt.dryRun()) {
            out.println("--- resolved config");
            out.print(cfg.toYaml());
            out.println("--- model");
            out.print(model.parameterTable());
            long params = model.parameterCount();
            out.printf(Locale.ROOT, "memory estimate: %.1f MiB for weights, gradients and Adam moments%n", params * 16 / 1048576.0);
            out.println("dry run: nothing trained");
            return null;
        }
        // weights + Adam's two moments in float32, plus headers
        Checkpoints.ensureWritable(opt.outputDir(), model.parameterCount() * 12 + (1 << 20));
        List<Utterance> tooLong = trainList.utterances().stream().filter(u -> u.duration() > cfg.data().maxDuration()).toList();
        SkipReport skips = new SkipReport();
        DataLoader trainLoader;
        try {
            trainLoader = DataPipeline.trainLoader(cfg, trainUtts, model.vocabulary(), 0, world, perDevice, skips);
        } catch (IllegalArgumentException e) {
            writeSkipReport(opt.outputDir(), DataPipeline.skipReport(trainList, tooLong, cfg.data().maxDuration(), skips), out);
            throw e;
        }
        DataLoader validLoader = validUtts.isEmpty() ? null
                : DataPipeline.evalLoader(cfg, validUtts, model.vocabulary(), 0, world, perDevice);
        Trainer trainer = new Trainer(cfg, model, DataPipeline.source(trainLoader),
                validLoader == null ? null : DataPipeline.evalSource(validLoader), opt.outputDir(), out, Progress.isTerminal());
        resume(trainer, opt, out);
        StopSignal.install();
        Trainer.Summary s;
        try (MetricsLog log = new MetricsLog(opt.outputDir())) {
            s = trainer.run(log);
        } finally {
            trainLoader.close();
            if (validLoader != null) validLoader.close();
            writeSkipReport(opt.outputDir(), DataPipeline.skipReport(trainList, tooLong, cfg.data().maxDuration(), skips), out);
        }
        out.printf(Locale.ROOT, "finished (%s) at epoch %d, step %d; best validation WER %s; last checkpoint %s%n",
                s.stop().name().toLowerCase(Locale.ROOT), s.epoch(), s.step(),
                Double.isFinite(s.bestWer()) ? String.format(Locale.ROOT, "%.2f%%", 100 * s.bestWer()) : "n/a", s.lastCheckpoint());
        return s;
    }

    /** Writes the report of skipped training data and prints its first lines; nothing when nothing was skipped. */
    private static void writeSkipReport(Path outDir, String report, PrintStream out) {
        if (report.startsWith("0 ")) return;
        Path file = outDir.resolve(DataPipeline.SKIP_REPORT);
        String[] lines = report.split("\n");
        StringBuilder head = new StringBuilder();
        for (int i = 1; i < Math.min(lines.length, 11); i++) head.append("\n  ").append(lines[i]);
        if (lines.length > 11) head.append("\n  ... ").append(lines.length - 11).append(" more");
        try {
            Files.writeString(file, report);
            out.println(lines[0] + " (full list in " + file + "):" + head);
        } catch (IOException e) {
            out.println(lines[0] + " (could not write " + file + ": " + e.getMessage() + "):" + head);
        }
    }

    private static void resume(Trainer trainer, Options opt, PrintStream out) throws IOException {
        switch (opt.resume()) {
            case "none" -> {
                if (!Checkpoints.list(opt.outputDir()).isEmpty()) {
                    out.println("note: " + opt.outputDir() + " already has checkpoints; training from scratch (use --resume auto to continue)");
                }
            }
            case "auto" -> {
                List<String> skipped = new ArrayList<>();
                Checkpoints.Loaded ck = Checkpoints.latestGood(opt.outputDir(), skipped);
                for (String s : skipped) out.println("warning: skipping damaged checkpoint " + s);
                if (ck == null) out.println("--resume auto: no checkpoint in " + opt.outputDir() + "; starting from scratch");
                else trainer.resume(ck);
            }
            default -> trainer.resume(Checkpoints.load(Path.of(opt.resume())));
        }
    }
}
