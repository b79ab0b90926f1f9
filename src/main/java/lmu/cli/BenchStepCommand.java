package lmu.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import lmu.train.StepBenchmark;
import lmu.train.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bench-step}: times whole training steps of a config on random data of a fixed shape. */
@Command(name = "bench-step", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Times training steps (forward, CTC, backward, clipping, AdamW) on random features; --profile adds a per-op table.")
final class BenchStepCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = "YAML config (default: the built-in configs/seed.yaml)")
    Path config;

    @Option(names = "--batch-size", defaultValue = "8", description = "utterances per step")
    int batch;

    @Option(names = "--frames", defaultValue = "400", description = "frames per utterance (10 ms each)")
    int frames;

    @Option(names = "--warmup", defaultValue = "2", description = "untimed steps first")
    int warmup;

    @Option(names = "--steps", defaultValue = "5", description = "timed steps")
    int steps;

    @Option(names = "--threads", defaultValue = "0", description = "CPU threads, 0 = all cores")
    int threads;

    @Option(names = "--profile", description = "print time per op (forward and backward)")
    boolean profile;

    @Option(names = "--device", paramLabel = "DEV", defaultValue = "cpu", description = "cpu, cuda, cuda:N or auto")
    String device;

    @Option(names = "--mixed-precision", paramLabel = "MODE", description = "auto, off, fp16 or bf16 (default: the config's"
            + " train.mixed_precision; auto is fp16 on a GPU and off on the CPU, where fp16/bf16 are emulated)")
    String mixedPrecision;

    @Option(names = "--cuda-graphs", paramLabel = "MODE", description = "on a GPU, time the trainer's device step: on or auto"
            + " captures it as a CUDA graph after one warm-up step and replays it, off launches it eagerly (default: the plain"
            + " eager step)")
    String cudaGraphs;

    @Override
    public Integer call() {
        if (cudaGraphs != null && !java.util.List.of("auto", "on", "off").contains(cudaGraphs)) {
            throw new IllegalArgumentException("bench-step: --cuda-graphs must be auto, on or off, got " + cudaGraphs);
        }
        if (threads > 0) System.setProperty("lmu.threads", Integer.toString(threads));
        java.util.Map<String, Object> root = config == null ? TrainConfig.loadBuiltin("configs/seed.yaml") : TrainConfig.loadYaml(config);
        if (mixedPrecision != null) TrainConfig.override(root, "train.mixed_precision", mixedPrecision);
        TrainConfig cfg = TrainConfig.resolve(root);
        lmu.tensor.Device target = TrainCommand.chooseDevice(device, 1, System.out);
        if (target.kind() == lmu.tensor.Device.Kind.CPU) {
            StepBenchmark.run(cfg, batch, frames, warmup, steps, profile, System.out);
            return 0;
        }
        try (lmu.backend.cuda.CudaBackend gpu = TrainCommand.openGpu(target, System.out)) {
            StepBenchmark.run(cfg, batch, frames, warmup, steps, profile, target, cudaGraphs, System.out);
        }
        return 0;
    }
}
