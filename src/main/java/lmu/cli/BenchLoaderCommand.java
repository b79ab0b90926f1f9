package lmu.cli;

import java.util.concurrent.Callable;
import lmu.speech.data.FeatureStore;
import lmu.speech.data.LoaderBenchmark;
import lmu.speech.features.SpecAugment;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bench-loader}: times training epochs of the data loader (features, CMVN, SpecAugment, padded batches). */
@Command(name = "bench-loader", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Times training epochs of the data loader in x real time (audio s per s).",
            "  bench-loader --source store     (memory-mapped feature store, built first)",
            "  bench-loader --source cache     (per-segment cache, filled by the warm-up)",
            "  bench-loader --source wav       (decode and log-mel every epoch)",
            "  bench-loader --data builtin     (a dataset instead of synthetic WAV files)",
            "  bench-loader --source wav --features-on device --device cuda",
            "                                  (loader threads decode; log-mel, CMVN, SpecAugment on the GPU)"})
final class BenchLoaderCommand implements Callable<Integer> {
    @Option(names = "--source", defaultValue = "store", description = "where features come from: wav, cache or store")
    String source;

    @Option(names = "--data", paramLabel = "SPEC", description = "a dataset (manifest, folder, builtin) instead of synthetic 2-6 s WAV files")
    String data;

    @Option(names = "--utterances", defaultValue = "400", description = "synthetic utterances, or the first N of --data (0 = all)")
    int utterances;

    @Option(names = "--rate", defaultValue = "16000", description = "sample rate of the synthetic audio (Hz)")
    int rate;

    @Option(names = "--threads", defaultValue = "2", description = "loader threads")
    int threads;

    @Option(names = "--warmup", defaultValue = "3", description = "untimed epochs first")
    int warmup;

    @Option(names = "--epochs", defaultValue = "7", description = "timed epochs")
    int epochs;

    @Option(names = "--max-frames", defaultValue = "12000", description = "padded frames per batch (train.max_frames)")
    int maxFrames;

    @Option(names = "--batch-size", defaultValue = "32", description = "utterances per batch at most")
    int batchSize;

    @Option(names = "--spec-augment", defaultValue = "on", description = "on (2 frequency masks of <= 27 bins, 2 time masks of <= 100 frames) or off")
    String specAugment;

    @Option(names = "--dtype", defaultValue = "float32", description = "feature store values: float32 or float16")
    String dtype;

    @Option(names = "--features-on", defaultValue = "cpu", description = "cpu (loader threads compute the features) or device"
            + " (loader threads decode audio; features computed on --device per batch, as data.features_on: device; needs --source wav)")
    String featuresOn;

    @Option(names = "--device", defaultValue = "auto", description = "with --features-on device: auto, cpu, cuda or cuda:N")
    String device;

    @Override
    public Integer call() {
        LoaderBenchmark.Source src = switch (source) {
            case "wav" -> LoaderBenchmark.Source.WAV;
            case "cache" -> LoaderBenchmark.Source.CACHE;
            case "store" -> LoaderBenchmark.Source.STORE;
            default -> throw new IllegalArgumentException("--source: expected wav, cache or store, got '" + source + "'");
        };
        SpecAugment sa = switch (specAugment) {
            case "on" -> SpecAugment.defaults();
            case "off" -> null;
            default -> throw new IllegalArgumentException("--spec-augment: expected on or off, got '" + specAugment + "'");
        };
        lmu.util.Checks.positive("--epochs", epochs);
        lmu.util.Checks.nonNegative("--warmup", warmup);
        LoaderBenchmark.Options o = new LoaderBenchmark.Options(src, data, utterances, rate, threads, warmup, epochs, maxFrames, batchSize,
                sa, FeatureStore.Dtype.parse(dtype));
        switch (featuresOn) {
            case "cpu" -> LoaderBenchmark.run(o, System.out);
            case "device" -> onDevice(o);
            default -> throw new IllegalArgumentException("--features-on: expected cpu or device, got '" + featuresOn + "'");
        }
        return 0;
    }

    /** Batches of audio; each one's features computed on the device and waited for. */
    private void onDevice(LoaderBenchmark.Options o) {
        if (o.source() != LoaderBenchmark.Source.WAV) {
            throw new IllegalArgumentException("--features-on device: features come from the audio, so --source must be wav, got '"
                    + source + "'");
        }
        lmu.tensor.Device target = TrainCommand.chooseDevice(device, 1, System.out);
        try (AutoCloseable gpu = target.kind() == lmu.tensor.Device.Kind.CUDA ? TrainCommand.openGpu(target, System.out) : null) {
            System.out.println("features: log-mel, CMVN and SpecAugment on " + target + " per batch");
            LoaderBenchmark.run(o, System.out, dl -> {
                lmu.train.DeviceFeatures df = lmu.train.DeviceFeatures.of(dl);
                return b -> {
                    lmu.tensor.Tensor x = df.compute(b.signals(), b.ids(), b.epoch(), true, target);
                    lmu.backend.Backends.of(x).synchronize();
                };
            });
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("bench-loader: closing " + target + " failed: " + e.getMessage(), e);
        }
    }
}
