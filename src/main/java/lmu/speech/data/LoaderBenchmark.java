package lmu.speech.data;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;
import lmu.speech.features.FeatureConfig;
import lmu.speech.features.SpecAugment;
import lmu.speech.text.Vocabulary;

/**
 * Loader throughput, what the {@code bench-loader} command runs: whole TRAIN epochs of a
 * {@link DataLoader} (features, per-utterance CMVN, SpecAugment, bucketing, padded batches) consumed
 * as fast as they come, in seconds of audio delivered per second of wall time ("x real time").
 * Features come from the audio ({@link Source#WAV}), from a {@link FeatureCache} filled by the
 * warm-up epochs ({@link Source#CACHE}), or from a {@link FeatureStore} built before timing
 * ({@link Source#STORE}). The data are either a dataset or synthetic 16-bit WAV files of 2 to 6 s
 * written to a temporary folder (deleted afterwards). With a batch consumer ({@link #run(Options,
 * PrintStream, java.util.function.Function)}) the loader delivers audio ({@link
 * DataLoader.Builder#signals()}) and the timing includes what the consumer does with every batch,
 * e.g. computing the features on a GPU ({@code bench-loader --features-on device}).
 */
public final class LoaderBenchmark {
    private LoaderBenchmark() {}

    /** Where the loader gets its features. */
    public enum Source { WAV, CACHE, STORE }

    /**
     * @param source where features come from
     * @param dataset a dataset spec ({@link Datasets#open(String, String)}), or null for synthetic audio
     * @param utterances synthetic utterances (or the first n of the dataset; 0 = all)
     * @param rate sample rate of the synthetic audio
     * @param threads loader threads
     * @param warmup untimed epochs first
     * @param epochs timed epochs
     * @param maxFrames padded frames per batch
     * @param batchSize utterances per batch at most
     * @param specAugment masking, or null for none
     * @param dtype storage of the feature store
     */
    public record Options(Source source, String dataset, int utterances, int rate, int threads, int warmup, int epochs, int maxFrames,
                          int batchSize, SpecAugment specAugment, FeatureStore.Dtype dtype) {}

    /** Measured epochs: wall and process CPU seconds per epoch, seconds of audio per epoch. */
    public record Result(double[] wallSeconds, double[] cpuSeconds, double audioSeconds) {
        /** Median of the wall-clock real-time factors. */
        public double medianRealTime() {
            double[] x = new double[wallSeconds.length];
            for (int i = 0; i < x.length; i++) x[i] = audioSeconds / wallSeconds[i];
            Arrays.sort(x);
            return x.length % 2 == 1 ? x[x.length / 2] : 0.5 * (x[x.length / 2 - 1] + x[x.length / 2]);
        }
    }

    /**
     * Runs the benchmark and prints one line per epoch and a summary to {@code out}.
     *
     * @throws IllegalArgumentException for bad options or an unusable dataset
     */
    public static Result run(Options o, PrintStream out) {
        return run(o, out, null);
    }

    /**
     * As {@link #run(Options, PrintStream)}, with batches of audio handed to a consumer that
     * {@code consumer} makes from the loader (null: batches of features, nothing done with them).
     *
     * @throws IllegalArgumentException also when a consumer is given with a source other than WAV
     */
    public static Result run(Options o, PrintStream out,
            java.util.function.Function<DataLoader, java.util.function.Consumer<Batch>> consumer) {
        if (consumer != null && o.source() != Source.WAV) {
            throw new IllegalArgumentException("bench-loader: batches of audio come from the audio itself (source wav), got source "
                    + o.source().name().toLowerCase(Locale.ROOT));
        }
        Path tmp;
        try {
            tmp = Files.createTempDirectory("lmu-bench-loader");
        } catch (IOException e) {
            throw new UncheckedIOException("bench-loader: cannot create a temporary folder", e);
        }
        try {
            List<Utterance> utts = o.dataset() == null ? synthetic(tmp, o.utterances(), o.rate())
                    : first(Datasets.open(o.dataset()).utterances(), o.utterances());
            FeatureConfig cfg = FeatureConfig.defaults();
            DataLoader.Builder b = DataLoader.builder(utts, Vocabulary.english()).threads(o.threads()).maxFramesPerBatch(o.maxFrames())
                    .maxBatchSize(o.batchSize()).specAugment(o.specAugment()).features(cfg);
            if (consumer != null) b.signals();
            if (o.source() == Source.CACHE) b.featureCache(tmp.resolve("cache"));
            if (o.source() == Source.STORE) {
                long t0 = System.nanoTime();
                SkipReport r = new SkipReport();
                FeatureStore.Summary s = FeatureStore.build(tmp.resolve("store"), utts, cfg, o.dtype(), null, o.threads(), r);
                out.printf(Locale.ROOT, "store built in %.1f s: %s%n", (System.nanoTime() - t0) / 1e9, s);
                b.featureStore(FeatureStore.open(tmp.resolve("store"), cfg));
            }
            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            double[] wall = new double[o.epochs()], cpu = new double[o.epochs()];
            double audio = 0;
            try (DataLoader dl = b.build()) {
                java.util.function.Consumer<Batch> use = consumer == null ? x -> { } : consumer.apply(dl);
                for (int e = -o.warmup(); e < o.epochs(); e++) {
                    long t0 = System.nanoTime(), c0 = os.getProcessCpuTime();
                    long frames = 0;
                    int batches = 0;
                    try (DataLoader.Epoch it = dl.iterator(e + o.warmup())) {
                        while (it.hasNext()) {
                            Batch batch = it.next();
                            use.accept(batch);
                            frames += batch.validFrames();
                            batches++;
                        }
                    }
                    double w = (System.nanoTime() - t0) / 1e9, c = (os.getProcessCpuTime() - c0) / 1e9;
                    double seconds = frames * (double) cfg.hopLength() / cfg.sampleRate();
                    out.printf(Locale.ROOT, "%s epoch %d: %d batches, %.0f s of audio in %.3f s = %.0fx real time (process CPU %.3f s)%n",
                            e < 0 ? "warm-up" : "timed", e + o.warmup(), batches, seconds, w, seconds / w, c);
                    if (e >= 0) {
                        wall[e] = w;
                        cpu[e] = c;
                        audio = seconds;
                    }
                }
                if (dl.report().skipped() > 0) out.print("skipped: " + dl.report().summary(5));
            }
            Result res = new Result(wall, cpu, audio);
            double[] sw = wall.clone(), sc = cpu.clone();
            Arrays.sort(sw);
            Arrays.sort(sc);
            out.printf(Locale.ROOT, "bench-loader %s, %d utterances (%.0f s of audio), %d threads, SpecAugment %s%s: median %.0fx real time"
                    + " (best %.0fx, worst %.0fx); process CPU median %.3f s per epoch = %.0fx real time per CPU-second; load average %s%n",
                    o.source().name().toLowerCase(Locale.ROOT), utts.size(), audio, o.threads(), o.specAugment() == null ? "off" : "on",
                    o.source() == Source.STORE ? ", " + o.dtype().name().toLowerCase(Locale.ROOT) : "", res.medianRealTime(),
                    audio / sw[0], audio / sw[sw.length - 1], sc[sc.length / 2], audio / sc[sc.length / 2], loadAverage());
            return res;
        } finally {
            deleteTree(tmp);
        }
    }

    /** The 1, 5 and 15 minute load averages (Linux), or "unknown". */
    public static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            double l = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
            return l < 0 ? "unknown" : String.format(Locale.ROOT, "%.2f", l);
        }
    }

    private static List<Utterance> first(List<Utterance> all, int n) {
        return n <= 0 || n >= all.size() ? all : all.subList(0, n);
    }

    /** {@code count} files of white noise, 2 to 6 s, fixed seed. */
    static List<Utterance> synthetic(Path dir, int count, int rate) {
        lmu.util.Checks.positive("utterances", count);
        Random r = new Random(1);
        List<Utterance> utts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int n = rate * 2 + r.nextInt(rate * 4);
            float[] x = new float[n];
            for (int k = 0; k < n; k++) x[k] = (float) (0.1 * r.nextGaussian());
            Path f = dir.resolve("u" + i + ".wav");
            try {
                writeWav(f, x, rate);
            } catch (IOException e) {
                throw new UncheckedIOException("bench-loader: cannot write " + f, e);
            }
            utts.add(new Utterance("u" + i, f, 0, n / (double) rate, "the quick brown fox"));
        }
        return utts;
    }

    /** 16-bit mono PCM WAV. */
    private static void writeWav(Path f, float[] x, int rate) throws IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(44 + 2 * x.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(36 + 2 * x.length)
                .put("WAVEfmt ".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(16).putShort((short) 1).putShort((short) 1)
                .putInt(rate).putInt(2 * rate).putShort((short) 2).putShort((short) 16)
                .put("data".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(2 * x.length);
        for (float v : x) b.putShort((short) Math.max(-32768, Math.min(32767, Math.round(v * 32767))));
        Files.write(f, b.array());
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // leaving a temporary folder behind is not worth failing the benchmark
        }
    }
}
