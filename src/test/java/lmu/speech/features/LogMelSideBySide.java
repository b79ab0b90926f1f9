package lmu.speech.features;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jtransforms.fft.DoubleFFT_1D;

/**
 * Java half of {@code bench/reference/logmel_side_by_side.sh}: log-mel of 100 utterances of 4 s
 * at 16 kHz on a fixed pool of threads (one task per utterance); wall time (median and min of 25
 * runs after 15 warm-up runs) and CPU time summed over the worker threads. Also times the 400-point
 * power spectrum of {@link RealFft} against JTransforms' real FFT (thread CPU time per frame).
 * Not a test. Usage: {@code LogMelSideBySide [threads] [utterances] [seconds]}.
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
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            double[] wall = new double[25], cpu = new double[25];
            for (int rep = -15; rep < wall.length; rep++) {
                long t0 = System.nanoTime();
                List<Future<long[]>> fs = new ArrayList<>(count);
                for (float[] s : signals) {
                    fs.add(pool.submit(() -> {
                        long c0 = mx.getCurrentThreadCpuTime();
                        FeatureMatrix f = logMel.compute(s);
                        return new long[] {f.frames(), mx.getCurrentThreadCpuTime() - c0};
                    }));
                }
                long frames = 0, cpuNs = 0;
                for (Future<long[]> f : fs) {
                    frames += f.get()[0];
                    cpuNs += f.get()[1];
                }
                if (rep >= 0) {
                    wall[rep] = (System.nanoTime() - t0) / 1e6;
                    cpu[rep] = cpuNs / 1e6;
                }
                if (frames != (long) count * FeatureConfig.defaults().numFrames(n)) throw new IllegalStateException("frame count");
            }
            Arrays.sort(wall);
            Arrays.sort(cpu);
            System.out.printf("lmu LogMel: %d x %.1f s, %d threads: wall median %.1f ms, min %.1f ms (%.0fx real time); CPU median %.1f ms%n",
                    count, seconds, threads, wall[wall.length / 2], wall[0], count * seconds * 1000 / wall[wall.length / 2], cpu[cpu.length / 2]);
        } finally {
            pool.shutdown();
        }
        fftComparison(mx);
    }

    private static void fftComparison(ThreadMXBean mx) {
        int frames = 40_000;
        double[] src = new double[400], frame = new double[400], p = new double[201];
        Random r = new Random(1);
        for (int i = 0; i < 400; i++) src[i] = r.nextGaussian();
        RealFft own = new RealFft(400);
        DoubleFFT_1D jt = new DoubleFFT_1D(400);
        double[] ownNs = new double[15], jtNs = new double[15];
        double sink = 0;
        for (int rep = -5; rep < 15; rep++) {
            long c0 = mx.getCurrentThreadCpuTime();
            for (int f = 0; f < frames; f++) {
                own.power(src, p);
                sink += p[7];
            }
            long c1 = mx.getCurrentThreadCpuTime();
            for (int f = 0; f < frames; f++) {
                System.arraycopy(src, 0, frame, 0, 400);
                jt.realForward(frame);
                for (int k = 1; k < 200; k++) p[k] = frame[2 * k] * frame[2 * k] + frame[2 * k + 1] * frame[2 * k + 1];
                sink += p[7];
            }
            long c2 = mx.getCurrentThreadCpuTime();
            if (rep >= 0) {
                ownNs[rep] = (c1 - c0) / (double) frames;
                jtNs[rep] = (c2 - c1) / (double) frames;
            }
        }
        Arrays.sort(ownNs);
        Arrays.sort(jtNs);
        System.out.printf("400-point power spectrum, thread CPU per frame (median): RealFft %.2f us, JTransforms %.2f us (%s)%n",
                ownNs[7] / 1000, jtNs[7] / 1000, sink != 0 ? "ok" : "");
    }
}
