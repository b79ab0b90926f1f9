package lmu.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.io.OutputStream;
import java.time.Duration;
import lmu.amp.Precision;
import lmu.backend.cpu.Gemm;
import lmu.distributed.Communicator;
import lmu.distributed.Ranks;
import lmu.distributed.TcpCommunicator;
import lmu.distributed.World;
import lmu.nn.CtcModel;
import lmu.nn.ModelConfig;
import lmu.speech.data.DataLoader;
import lmu.speech.data.DatasetListing;
import lmu.speech.data.SkipReport;
import lmu.speech.data.Utterance;
import lmu.tensor.Device;
import lmu.util.Parallel;

/** A whole {@code train} command after its config is resolved: data, model, resume, loop, summary. */
public final class TrainSession {
    /**
     * Options that are not part of the config.
     *
     * @param ranks data-parallel ranks in this process: CPU threads, or with a CUDA device one per
     *     GPU ({@code cuda:0} .. {@code cuda:ranks-1}); 1 = a single replica
     * @param device where the model trains; with one rank a CUDA device's backend must be open
     *     (registered) already, with several {@code devices} opens one per rank
     * @param devices how ranks on CUDA devices open their device and connect (required when
     *     {@code device} is CUDA and {@code ranks} &gt; 1 or SLURM/NNODES describe several processes)
     */
    public record Options(Path outputDir, String resume, boolean dryRun, boolean debug, String dataPart, int ranks,
            Device device, DeviceRanks devices) {
        public Options(Path outputDir, String resume, boolean dryRun, boolean debug, String dataPart, int ranks, Device device) {
            this(outputDir, resume, dryRun, debug, dataPart, ranks, device, null);
        }

        public Options(Path outputDir, String resume, boolean dryRun, boolean debug, String dataPart, int ranks) {
            this(outputDir, resume, dryRun, debug, dataPart, ranks, Device.CPU);
        }

        public Options(Path outputDir, String resume, boolean dryRun, boolean debug, String dataPart) {
            this(outputDir, resume, dryRun, debug, dataPart, 1);
        }
    }

    /** Default timeout of one collective (override with LMU_DIST_TIMEOUT seconds). */
    static final Duration DIST_TIMEOUT = Duration.ofMinutes(5);

    private TrainSession() {}

    /** Runs and returns the outcome (null for a dry run). */
    public static Trainer.Summary run(TrainConfig cfg, Options opt, PrintStream out) throws IOException {
        boolean onDevice = opt.device().kind() != Device.Kind.CPU;
        if (!onDevice) out.println("device: cpu (" + Parallel.threads() + " threads; matrix products: " + Gemm.implementation() + ")");
        out.println("mixed precision: " + (onDevice ? describeDevicePrecision(cfg.train(), opt.device()) : describePrecision(cfg.train())));
        CtcModel model = Models.create(cfg);
        World world = world(opt);
        boolean deviceRanks = onDevice && world.size() > 1; // one rank (thread) per GPU, each opening its own
        if (deviceRanks && opt.devices() == null) {
            throw new IllegalArgumentException("TrainSession: " + world.size() + " ranks on " + opt.device().kind().name().toLowerCase(Locale.ROOT)
                    + " devices (" + world.describeShape() + ") need Options.devices to open them");
        }
        if (onDevice && !deviceRanks) model.to(opt.device()); // weights initialised on the host, then copied once
        world.checkBatch(cfg.train().batchSize());
        int perDevice = Math.max(1, cfg.train().batchSize() / world.size());
        if (world.size() == 1) {
            out.println(World.batchLine(cfg.train().batchSize(), 1, cfg.train().gradAccum()));
        } else {
            out.print(world.describe(cfg.train().batchSize(), cfg.train().gradAccum()));
        }

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
        if (DataPipeline.featuresOnDevice(cfg)) out.println(DataPipeline.describeFeatures(cfg, opt.device()));
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
            out.println(activationEstimate(cfg, trainUtts));
            if (world.size() == 1) out.print(world.describe(cfg.train().batchSize(), cfg.train().gradAccum()));
            out.println("dry run: nothing trained");
            return null;
        }
        // weights + Adam's two moments in float32, plus headers
        Checkpoints.ensureWritable(opt.outputDir(), model.parameterCount() * 12 + (1 << 20));
        List<Utterance> tooLong = trainList.utterances().stream().filter(u -> u.duration() > cfg.data().maxDuration()).toList();
        StopSignal.install();
        List<Utterance> train = trainUtts, valid = validUtts;
        Duration timeout = World.timeout(System.getenv(), DIST_TIMEOUT);
        Trainer.Summary s;
        if (world.size() == 1) {
            s = replica(cfg, opt, out, model, trainList, tooLong, train, valid, null, perDevice);
        } else if (deviceRanks) {
            List<? extends Communicator> comms = opt.devices().connect(world, timeout, out);
            int first = world.rank(0);
            s = Ranks.run(comms, "train", comm -> {
                int local = comm.rank() - first;
                Device d = Device.cuda(local);
                try (AutoCloseable backend = opt.devices().open(d)) {
                    CtcModel m = local == 0 ? model : Models.create(cfg);
                    m.to(d);
                    return replica(cfg, opt, out, m, trainList, tooLong, train, valid, comm, perDevice);
                }
            }).get(0);
        } else if (world.nodes() == 1) {
            s = Ranks.run(world.size(), timeout, "train", comm -> replica(cfg, opt, out, comm.rank() == 0 ? model : Models.create(cfg),
                    trainList, tooLong, train, valid, comm, perDevice)).get(0);
        } else {
            out.println("rendezvous: rank " + world.node() + " of " + world.nodes() + " with rank 0 at " + world.masterAddr() + ":"
                    + world.masterPort() + " (timeout " + timeout.toSeconds() + " s)");
            try (Communicator comm = TcpCommunicator.connect(world.masterAddr(), world.masterPort(), world.node(), world.nodes(), timeout)) {
                try {
                    s = replica(cfg, opt, out, model, trainList, tooLong, train, valid, comm, perDevice);
                } catch (RuntimeException | IOException | Error e) {
                    comm.abort(e);
                    throw e;
                }
            }
        }
        if (world.isLeader()) {
            out.printf(Locale.ROOT, "finished (%s) at epoch %d, step %d; best validation WER %s; last checkpoint %s%n",
                    s.stop().name().toLowerCase(Locale.ROOT), s.epoch(), s.step(),
                    Double.isFinite(s.bestWer()) ? String.format(Locale.ROOT, "%.2f%%", 100 * s.bestWer()) : "n/a", s.lastCheckpoint());
        }
        return s;
    }

    /**
     * The world of this run: {@code --ranks} in-process ranks (CPU threads, or one per GPU), times
     * the processes that SLURM or NNODES/NODE_RANK describe (on the CPU: one rank per process).
     *
     * @throws IllegalArgumentException for impossible combinations, naming the flag or variable
     */
    static World world(Options opt) {
        if (opt.ranks() < 1) throw new IllegalArgumentException("--ranks: expected 1 or more, got " + opt.ranks());
        boolean gpu = opt.device().kind() != Device.Kind.CPU;
        World w = World.fromEnvironment(System.getenv(), opt.ranks(), gpu ? opt.ranks() : 0);
        if (!gpu && w.nodes() > 1 && opt.ranks() > 1) {
            throw new IllegalArgumentException("--ranks " + opt.ranks() + " with " + w.nodes() + " processes (" + w.source() + "): CPU"
                    + " training across processes runs one rank per process; drop --ranks, or start one process with --ranks");
        }
        return w;
    }

    /**
     * One replica: its loaders, trainer, resume (rank 0), data-parallel hook-up, the run. Only
     * rank 0 prints progress and writes metrics and checkpoints.
     */
    private static Trainer.Summary replica(TrainConfig cfg, Options opt, PrintStream out, CtcModel model, DatasetListing trainList,
            List<Utterance> tooLong, List<Utterance> trainUtts, List<Utterance> validUtts, Communicator comm, int perDevice)
            throws IOException {
        int rank = comm == null ? 0 : comm.rank(), size = comm == null ? 1 : comm.size();
        boolean root = rank == 0;
        PrintStream log = root ? out : new PrintStream(OutputStream.nullOutputStream());
        // each rank loads only its slices, so each reports its own skips (rank r > 0 in <report>.rank<r>)
        String reportName = root ? DataPipeline.SKIP_REPORT : DataPipeline.SKIP_REPORT + ".rank" + rank;
        SkipReport skips = new SkipReport();
        DataLoader trainLoader;
        try {
            trainLoader = DataPipeline.trainLoader(cfg, trainUtts, model.vocabulary(), rank, size, cfg.train().batchSize(), skips);
        } catch (IllegalArgumentException e) {
            writeSkipReport(opt.outputDir().resolve(reportName), DataPipeline.skipReport(trainList, tooLong, cfg.data().maxDuration(), skips), log);
            throw e;
        }
        DataLoader validLoader = validUtts.isEmpty() ? null
                : DataPipeline.evalLoader(cfg, validUtts, model.vocabulary(), rank, size, perDevice);
        Trainer.Summary s;
        try {
            Trainer trainer = new Trainer(cfg, model, DataPipeline.source(trainLoader, model.device()),
                    validLoader == null ? null : DataPipeline.evalSource(validLoader, model.device()), opt.outputDir(), log, root && Progress.isTerminal());
            if (root) resume(trainer, opt, out);
            if (comm != null) {
                DataParallel dp = new DataParallel(comm, model.parameters(), DataParallel.DEFAULT_BUCKET_BYTES);
                trainer.dataParallel(dp);
                if (root) out.println("data parallel: " + size + " ranks, weights broadcast from rank 0, gradients all-reduced in "
                        + dp.buckets() + " bucket(s) of <= " + (DataParallel.DEFAULT_BUCKET_BYTES >> 20) + " MiB while backward runs");
            }
            if (root) {
                try (MetricsLog metrics = new MetricsLog(opt.outputDir())) {
                    s = trainer.run(metrics);
                }
            } else {
                s = trainer.run(null);
            }
        } finally {
            trainLoader.close();
            if (validLoader != null) validLoader.close();
            writeSkipReport(opt.outputDir().resolve(reportName), DataPipeline.skipReport(trainList, tooLong, cfg.data().maxDuration(), skips),
                    log);
        }
        return s;
    }

    /**
     * The dry run's activation estimate for the largest batch: the longest training utterance
     * (100 frames per second), with as many utterances as {@code batch_size} and {@code max_frames} allow.
     */
    static String activationEstimate(TrainConfig cfg, List<Utterance> utts) {
        double longest = 0;
        for (Utterance u : utts) longest = Math.max(longest, u.duration());
        int frames = Math.max(1, (int) Math.ceil(longest * 100));
        int batch = cfg.train().batchSize();
        if (cfg.train().maxFrames() > 0) batch = Math.max(1, Math.min(batch, cfg.train().maxFrames() / frames));
        Precision p = Precision.resolve(cfg.train().mixedPrecision(), false);
        return ActivationMemory.estimate(ModelConfig.parse(cfg.model()), batch, frames).describe(p, batch, frames);
    }

    /**
     * The precision line of the session header on a GPU (auto means fp16 there): what {@link
     * lmu.amp.Autocast} stores in 16 bits on a device and what stays fp32.
     */
    static String describeDevicePrecision(TrainConfig.Train t, Device device) {
        Precision p = Precision.resolve(t.mixedPrecision(), true);
        if (p == Precision.OFF) return "off (fp32 on " + device + ")";
        String s = p.configName() + (t.mixedPrecision().equals("auto") ? " (auto on a GPU)" : "") + " on " + device
                + ": matrix-product operands stored in " + p.configName() + ", products with fp32 accumulation and fp32 results;"
                + " convolutions, the LMU layer, softmax, layer norm, CTC and master weights fp32";
        return s + lossScaling(t, p);
    }

    /** The precision line of the session header (the CPU: auto means off, fp16/bf16 are emulated). */
    static String describePrecision(TrainConfig.Train t) {
        Precision p = Precision.resolve(t.mixedPrecision(), false);
        if (p == Precision.OFF) return t.mixedPrecision().equals("auto") ? "off (auto chooses fp16 on a GPU only)" : "off";
        String s = p.configName() + " emulated on the CPU (matrix products, attention, convolution and LMU activations rounded"
                + " to " + p.configName() + ", fp32 accumulation; softmax, layer norm, CTC and master weights fp32)";
        return s + lossScaling(t, p);
    }

    private static String lossScaling(TrainConfig.Train t, Precision p) {
        return p.needsLossScaling()
                ? "; dynamic loss scale from " + number(t.lossScale().initial()) + ", x2 after " + t.lossScale().growthInterval()
                        + " clean steps, in [" + number(t.lossScale().min()) + ", " + number(t.lossScale().max()) + "]"
                : "; no loss scaling";
    }

    private static String number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }

    /** Writes the report of skipped training data and prints its first lines; nothing when nothing was skipped. */
    private static void writeSkipReport(Path file, String report, PrintStream out) {
        if (report.startsWith("0 ")) return;
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
