package lmu.speech.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import lmu.speech.audio.WavWriter;
import lmu.speech.features.SpecAugment;
import lmu.speech.text.Vocabulary;

/**
 * Loader throughput: writes {@code count} WAV files of 2..6 s at {@code rate} Hz to a temporary
 * directory, then times whole TRAIN epochs (decode, resample to 16 kHz, log-mel, per-utterance
 * CMVN, SpecAugment, padding) with {@code threads} workers, consuming batches as fast as they come.
 * Prints seconds of audio delivered per second of wall time and per second of process CPU time
 * (medians of 5 epochs after 2 warm-up epochs). Not a test. Usage: {@code LoaderThroughput [threads] [count] [rate]}.
 */
public final class LoaderThroughput {
    private LoaderThroughput() {}

    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int count = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        int rate = args.length > 2 ? Integer.parseInt(args[2]) : 16000;
        boolean cached = args.length > 3 && args[3].equals("cache");
        Path dir = Files.createTempDirectory("lmu-loader-bench");
        Random r = new Random(1);
        List<Utterance> utts = new ArrayList<>();
        double audioSeconds = 0;
        for (int i = 0; i < count; i++) {
            int n = rate * 2 + r.nextInt(rate * 4);
            float[] x = new float[n];
            for (int k = 0; k < n; k++) x[k] = (float) (0.1 * r.nextGaussian());
            Path f = dir.resolve("u" + i + ".wav");
            WavWriter.writeMono16(f, x, rate);
            utts.add(new Utterance("u" + i, f, 0, n / (double) rate, "the quick brown fox"));
            audioSeconds += n / (double) rate;
        }
        DataLoader.Builder builder = DataLoader.builder(utts, Vocabulary.english()).threads(threads).maxFramesPerBatch(16 * 600)
                .maxBatchSize(32).specAugment(SpecAugment.defaults());
        if (cached) builder.featureCache(dir.resolve("cache")); // filled by the warm-up epochs
        try (DataLoader dl = builder.build()) {
            var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
            double[] t = new double[5], cpu = new double[5];
            for (int epoch = -2; epoch < t.length; epoch++) {
                long t0 = System.nanoTime(), c0 = os.getProcessCpuTime();
                double seen = 0;
                try (DataLoader.Epoch it = dl.iterator(epoch + 2)) {
                    while (it.hasNext()) seen += it.next().validFrames() / 100.0;
                }
                if (epoch >= 0) {
                    t[epoch] = (System.nanoTime() - t0) / 1e9;
                    cpu[epoch] = (os.getProcessCpuTime() - c0) / 1e9;
                }
                if (Math.abs(seen - audioSeconds) > count * 0.02) throw new IllegalStateException("delivered " + seen + " s of " + audioSeconds);
            }
            java.util.Arrays.sort(t);
            java.util.Arrays.sort(cpu);
            System.out.printf("DataLoader%s: %d utterances, %.0f s of %d Hz WAV, %d threads: epoch wall median %.2f s = %.0fx real time;"
                    + " process CPU median %.2f s = %.0fx real time per core%n",
                    cached ? " (feature cache)" : "", count, audioSeconds, rate, threads, t[2], audioSeconds / t[2], cpu[2], audioSeconds / cpu[2]);
        } finally {
            try (var s = Files.walk(dir)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
