package lmu.speech.features;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Timing half of {@code bench/reference/logmel_side_by_side.sh}: log-mel of 100 utterances of 4 s
 * at 16 kHz on a fixed pool of threads (one task per utterance), median of repeated runs after a
 * warm-up. Not a test: run with {@code java -cp ... lmu.speech.features.LogMelSideBySide [threads]
 * [utterances] [seconds]}.
 */
public final class LogMelSideBySide {
    private LogMelSideBySide() {}

    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int count = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 4.0;
        int n = (int) Math.round(seconds * 16000);
        Random r = new Random(42);
        float[][] signals = new float[count][n];
        for (float[] s : signals) for (int i = 0; i < n; i++) s[i] = (float) (0.1 * r.nextGaussian());
        LogMel logMel = new LogMel(FeatureConfig.defaults());
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            double[] times = new double[25];
            for (int rep = -15; rep < times.length; rep++) { // 15 warm-up rounds for the JIT
                long t0 = System.nanoTime();
                List<Future<FeatureMatrix>> fs = new ArrayList<>(count);
                for (float[] s : signals) fs.add(pool.submit(() -> logMel.compute(s)));
                long frames = 0;
                for (Future<FeatureMatrix> f : fs) frames += f.get().frames();
                double ms = (System.nanoTime() - t0) / 1e6;
                if (rep >= 0) times[rep] = ms;
                if (frames != (long) count * FeatureConfig.defaults().numFrames(n)) throw new IllegalStateException("frame count");
            }
            Arrays.sort(times);
            double median = times[times.length / 2];
            System.out.printf("lmu LogMel (JTransforms float64 FFT): %d x %.1f s, %d threads: median %.1f ms, min %.1f ms (%.0fx real time)%n",
                    count, seconds, threads, median, times[0], count * seconds * 1000 / median);
        } finally {
            pool.shutdown();
        }
    }
}
