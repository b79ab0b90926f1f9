package lmu.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import lmu.train.TrainConfig;
import lmu.train.TrainSession;
import lmu.train.Trainer;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code train}: trains a model; with no arguments, on the built-in corpus with a config suited to the device. */
@Command(name = "train", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Trains an LMU + attention CTC speech recognizer.",
            "With no arguments: the best available device, the built-in corpus and a config suited to that device."})
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = "YAML config (model, optim, train, data sections); default: configs/small.yaml on CPU, configs/seed.yaml on GPU (both built in)")
    Path config;

    @Option(names = "--preset", paramLabel = "NAME", description = "default (batch 16, lr 1e-3, mixed precision on), conservative (24, 1e-4, off) or performance (64, 4e-3, on); applied before the other flags")
    String preset;

    @Option(names = "--batch-size", paramLabel = "N", description = "global batch in utterances, over all devices (default: from the config)")
    Integer batchSize;

    @Option(names = "--lr", paramLabel = "X", description = "peak learning rate (default: from the config)")
    Double lr;

    @Option(names = "--epochs", paramLabel = "N", description = "number of epochs (default: from the config)")
    Integer epochs;

    @Option(names = "--mixed-precision", paramLabel = "MODE", description = "fp16, bf16 or off (default: from the config)")
    String mixedPrecision;

    @Option(names = "--cuda-graphs", paramLabel = "MODE", description = "auto, on or off: capture the training step of a single GPU"
            + " as a CUDA graph per batch shape and replay it, eager launches where it cannot be (default: from the config"
            + " train.cuda_graphs, auto)")
    String cudaGraphs;

    @Option(names = "--data", paramLabel = "PATH", description = "training data: builtin, a .jsonl manifest, a LibriSpeech or GigaSpeech directory (default: from the config, else builtin)")
    String data;

    @Option(names = "--valid-data", paramLabel = "PATH", description = "validation data, same forms as --data (default: the test split of the built-in corpus when --data is builtin)")
    String validData;

    @Option(names = "--subset", paramLabel = "NAME", description = "GigaSpeech subset xs, s, m, l or xl (default: from the config)")
    String subset;

    @Option(names = "--output-dir", paramLabel = "DIR", defaultValue = "runs/latest", description = "checkpoints, metrics and logs")
    Path outputDir;

    @Option(names = "--resume", paramLabel = "WHAT", defaultValue = "none", description = "none, auto (latest good checkpoint in --output-dir) or a checkpoint path")
    String resume;

    @Option(names = "--seed", paramLabel = "N", description = "random seed for weights, data order and augmentation (default: from the config)")
    Long seed;

    @Option(names = "--device", paramLabel = "DEV", defaultValue = "auto", description = "auto, cpu, cuda (every visible GPU, one data-parallel rank each; see --ranks) or cuda:N (that GPU alone); auto is cuda when CUDA is available, else cpu")
    String device;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0", description = "CPU threads, 0 = all cores")
    int threads;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "override any config key, e.g. --set optim.warmup=500, or --set data.features_on=device to compute the features on the model's device (repeatable)")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--ranks", paramLabel = "N", description = "data-parallel ranks in this process (per node), each training on its slice of every global batch (--batch-size is global, at least all ranks): with --device cuda one rank (thread, NCCL communicator) per GPU on GPUs 0..N-1, default every visible GPU (CUDA_VISIBLE_DEVICES); on the CPU N threads, default 1 (with --device auto, N > 1 means the CPU). Several processes (nodes) come from SLURM (srun, one task per node) or NNODES/NODE_RANK/MASTER_ADDR/MASTER_PORT: on GPUs each process drives its GPUs as above, on the CPU each process is one rank (slurm/README.md)")
    Integer ranks;

    @Option(names = "--dry-run", description = "print the resolved config, model, parameter count, data summary and memory estimate and the resolved world (nodes, GPUs, ranks, batch per rank), then exit")
    boolean dryRun;

    @Option(names = "--debug", description = "one short epoch on a small subset")
    boolean debug;

    @Option(names = "--profile", description = "print the time per op (forward and backward) after each epoch")
    boolean profile;

    @Override
    public Integer call() throws Exception {
        if (threads < 0) throw new IllegalArgumentException("--threads: expected 0 (all cores) or more, got " + threads);
        if (threads > 0) System.setProperty("lmu.threads", Integer.toString(threads));
        if (ranks != null && ranks < 1) throw new IllegalArgumentException("--ranks: expected 1 or more, got " + ranks);
        if (dryRun && device.trim().toLowerCase(java.util.Locale.ROOT).startsWith("cuda")) return dryRunGpuWorld();
        int given = ranks == null ? 0 : ranks;
        lmu.tensor.Device target = chooseDevice(device, given, System.out);
        Device dev = target.kind() == lmu.tensor.Device.Kind.CUDA ? Device.CUDA : Device.CPU;
        int n = dev == Device.CUDA ? gpuRanks(device, given, lmu.backend.cuda.Cuda.deviceCount()) : Math.max(1, given);
        TrainConfig cfg = TrainConfig.resolve(resolveRoot(dev));
        lmu.autograd.Profiler.enable(profile);
        boolean perRank = dev == Device.CUDA && (n > 1 || lmu.distributed.World.fromEnvironment(System.getenv(), 1, 1).nodes() > 1);
        TrainSession.Options opt = new TrainSession.Options(outputDir, resume, dryRun, debug, subset, n, target,
                perRank ? new CudaRanks(System.out) : null);
        Trainer.Summary s;
        try (AutoCloseable gpu = dev == Device.CUDA && !perRank ? openGpu(target, System.out) : null) {
            s = TrainSession.run(cfg, opt, System.out);
        } catch (OutOfMemoryError e) {
            throw new IllegalStateException("out of memory (max heap " + (Runtime.getRuntime().maxMemory() >> 20) + " MiB): lower"
                    + " train.max_frames (padded frames per batch, now " + cfg.train().maxFrames() + ") or --batch-size, or give"
                    + " Java more memory (java -Xmx16g -jar ...); the last checkpoint in " + outputDir + " is intact");
        }
        return s == null || s.stop() != Trainer.Stop.DIVERGED ? 0 : Main.EXIT_FAILURE;
    }

    /** --dry-run with --device cuda: the GPU world this job would have (nothing is opened on the GPU). */
    private int dryRunGpuWorld() {
        TrainConfig cfg = TrainConfig.resolve(resolveRoot(Device.CUDA));
        Map<String, String> env = System.getenv();
        int visible = lmu.distributed.World.visibleGpus(env, 1);
        if (visible < 1) throw new IllegalArgumentException("--device " + device + ": no GPU visible (CUDA_VISIBLE_DEVICES is empty)");
        int gpus = gpuRanks(device, ranks == null ? 0 : ranks, visible);
        lmu.distributed.World w = lmu.distributed.World.fromEnvironment(env, gpus, gpus);
        System.out.print(w.describe(cfg.train().batchSize(), cfg.train().gradAccum()));
        w.checkBatch(cfg.train().batchSize());
        System.out.println("dry run: nothing trained (`check` shows whether CUDA works on this machine)");
        return 0;
    }

    /** Config file (or the built-in one for the device), then preset, then flags, then --set. */
    Map<String, Object> resolveRoot(Device dev) {
        Map<String, Object> root = config != null ? TrainConfig.loadYaml(config)
                : TrainConfig.loadBuiltin(dev == Device.CUDA ? "configs/seed.yaml" : "configs/small.yaml");
        if (preset != null) TrainConfig.preset(preset).forEach((k, v) -> TrainConfig.override(root, k, v));
        if (batchSize != null) TrainConfig.override(root, "train.batch_size", batchSize);
        if (lr != null) TrainConfig.override(root, "optim.lr", lr);
        if (epochs != null) TrainConfig.override(root, "train.epochs", epochs);
        if (mixedPrecision != null) TrainConfig.override(root, "train.mixed_precision", mixedPrecision);
        if (cudaGraphs != null) TrainConfig.override(root, "train.cuda_graphs", cudaGraphs);
        if (data != null) {
            TrainConfig.override(root, "data.train", data);
            if (validData == null && !data.equals("builtin")) TrainConfig.override(root, "data.valid", "");
        }
        if (validData != null) TrainConfig.override(root, "data.valid", validData);
        if (subset != null) TrainConfig.override(root, "data.subset", subset);
        if (seed != null) TrainConfig.override(root, "train.seed", seed);
        if (debug) TrainConfig.override(root, "train.epochs", 1);
        TrainConfig.overrideAll(root, overrides);
        return root;
    }

    /**
     * GPU ranks of this process: {@code --ranks} when given, else every visible GPU for
     * {@code cuda}/{@code auto} and one for {@code cuda:N} (which names a single GPU).
     *
     * @param given {@code --ranks}, 0 when not given
     * @param visible GPUs this process sees
     * @throws IllegalArgumentException when more GPUs are asked for than visible
     */
    static int gpuRanks(String flag, int given, int visible) {
        boolean one = flag.trim().toLowerCase(java.util.Locale.ROOT).startsWith("cuda:");
        int n = given > 0 ? given : one ? 1 : visible;
        if (n > visible) {
            throw new IllegalArgumentException("--ranks " + n + " with --device " + flag.trim() + ": one rank per GPU, but " + visible
                    + " GPU(s) are visible (CUDA_VISIBLE_DEVICES, the SLURM allocation)");
        }
        return Math.max(1, n);
    }

    /** Which built-in config suits the device. */
    enum Device { CPU, CUDA }

    /**
     * The device of {@code --device}: cpu; cuda (rank i of this process on cuda:i, {@link
     * #gpuRanks}) or cuda:N; auto: cuda when CUDA is available (the reason printed when it is not)
     * unless {@code ranks} &gt; 1 (CPU data parallel). The CPU choice never loads CUDA classes.
     *
     * @param ranks {@code --ranks}, 0 when not given
     * @throws UnavailableException for cuda without a usable GPU, with the reason CUDA gives
     * @throws IllegalArgumentException for any other value, or cuda:N with ranks &gt; 1
     */
    static lmu.tensor.Device chooseDevice(String flag, int ranks, java.io.PrintStream out) {
        String f = flag.trim().toLowerCase(java.util.Locale.ROOT);
        if (f.equals("cpu")) return lmu.tensor.Device.CPU;
        if (f.equals("auto") && ranks > 1) {
            out.println("device: auto -> cpu (--ranks " + ranks + ": in-process data parallel runs on the CPU)");
            return lmu.tensor.Device.CPU;
        }
        if (f.equals("auto")) {
            if (lmu.backend.cuda.Cuda.isAvailable()) {
                int n = lmu.backend.cuda.Cuda.deviceCount();
                out.println("device: auto -> " + (n == 1 ? "cuda:0 (1 GPU visible)" : "cuda (" + n + " GPUs visible, one rank each)"));
                return lmu.tensor.Device.cuda(0);
            }
            out.println("device: auto -> cpu (" + lmu.backend.cuda.Cuda.unavailabilityCause().getMessage() + ")");
            return lmu.tensor.Device.CPU;
        }
        lmu.tensor.Device d;
        try {
            d = lmu.tensor.Device.parse(f);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--device: expected auto, cpu, cuda or cuda:N, got '" + flag + "'");
        }
        if (d.kind() == lmu.tensor.Device.Kind.CUDA && ranks > 1 && f.startsWith("cuda:")) {
            throw new IllegalArgumentException("--ranks " + ranks + " with --device " + flag + ": cuda:N names one GPU; for " + ranks
                    + " GPUs use --device cuda (ranks on cuda:0.." + (ranks - 1) + ", choose them with CUDA_VISIBLE_DEVICES)");
        }
        if (d.kind() == lmu.tensor.Device.Kind.CUDA && !lmu.backend.cuda.Cuda.isAvailable()) {
            throw new UnavailableException("--device " + flag + ": CUDA is not available: "
                    + lmu.backend.cuda.Cuda.unavailabilityCause().getMessage());
        }
        return d;
    }

    /** Opens (and registers) the GPU's backend and prints the device line: name, memory, matrix products. */
    static lmu.backend.cuda.CudaBackend openGpu(lmu.tensor.Device target, java.io.PrintStream out) {
        lmu.backend.cuda.CudaBackend gpu = lmu.backend.cuda.CudaBackend.open(target);
        out.println(deviceLine(gpu));
        return gpu;
    }

    /** {@code device: cuda:0 (NVIDIA H100 80GB HBM3, compute capability 9.0, 79.2 GiB, 78.6 GiB free; matrix products: ...)}. */
    static String deviceLine(lmu.backend.cuda.CudaBackend gpu) {
        lmu.backend.cuda.CudaContext c = gpu.context();
        long[] mem = c.memoryInfo();
        return String.format(java.util.Locale.ROOT, "device: %s (%s, compute capability %d.%d, %.1f GiB, %.1f GiB free; matrix"
                + " products: %s)", gpu.device(), c.name(), c.computeCapability() / 10, c.computeCapability() % 10,
                mem[1] / 1073741824.0, mem[0] / 1073741824.0, gpu.matmulImplementation());
    }
}
