package lmu.nn.lmu;

import java.util.Arrays;
import java.util.Locale;
import lmu.nn.lmu.LegendreConvolution.Method;
import lmu.nn.lmu.LmuLayer.Mode;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;

/**
 * Plain timing main for the LMU (no JMH module exists yet), forward + backward: the fastest wall
 * time of a few runs, or (with {@code -Dlmu.bench.cpu=true}) the mean
 * process CPU time over runs that add up to at least 0.5 s of CPU.
 *
 * <pre>
 * mvn -q -o -B -Dkernels.skip test-compile
 * mvn -q -o -B dependency:build-classpath -Dmdep.outputFile=cp.txt
 * java -Xms6g -Xmx6g -XX:+AlwaysPreTouch -Dlmu.bench.cpu=true \
 *     -cp target/classes:target/test-classes:$(cat cp.txt) lmu.nn.lmu.LmuBenchmark conv
 * java -cp ... lmu.nn.lmu.LmuBenchmark layer [T ...]
 * java -cp ... lmu.nn.lmu.LmuBenchmark fft
 * </pre>
 *
 * conv: the causal convolution alone (order 192, memory_d 1, batch 8), direct against FFT, for
 * the crossover behind {@link LegendreConvolution#DIRECT_MAX_LENGTH}. layer: one {@link LmuLayer}
 * (float32 tensors; input 384, hidden 384, order 192, θ 400, memory_d 1 and 4, batch 8, full-length
 * sequences), parallel with FFT, parallel with direct convolution, and recurrent. fft: hand-written
 * radix-2 FFT against JTransforms.
 */
public final class LmuBenchmark {
    private LmuBenchmark() {}

    public static void main(String[] args) {
        String what = args.length == 0 ? "conv" : args[0];
        int[] lengths = Arrays.stream(args).skip(1).mapToInt(Integer::parseInt).toArray();
        System.out.printf(Locale.ROOT, "# %s, %d threads, %s, gemm %s, times are %s%n", what,
                lmu.util.Parallel.threads(), System.getProperty("java.vm.version"),
                lmu.backend.cpu.Gemm.implementation(), CPU_TIME ? "process CPU time" : "wall time");
        switch (what) {
            case "conv" -> conv(lengths.length > 0 ? lengths : new int[] {16, 32, 48, 64, 96, 128, 200, 400});
            case "layer" -> layer(lengths.length > 0 ? lengths : new int[] {200, 400, 800, 1600});
            case "fft" -> fft();
            default -> throw new IllegalArgumentException("LmuBenchmark: expected conv, layer or fft, got " + what);
        }
    }

    private static void conv(int[] frames) {
        int batch = 8, k = 1, d = 192;
        LegendreImpulseResponse ir = new LegendreImpulseResponse(new LegendreStateSpace(d, 400, Discretizer.ZOH), 4096);
        for (int t : frames) {
            int[] lengths = new int[batch];
            Arrays.fill(lengths, t);
            double[] u = FftTest.random(batch * t * k, 1);
            double[] dm = FftTest.random(batch * t * k * d, 2);
            double[] ms = new double[2];
            Method[] methods = {Method.DIRECT, Method.FFT};
            for (int j = 0; j < 2; j++) {
                Method m = methods[j];
                ms[j] = fastest(reps(t), () -> {
                    LegendreConvolution.forward(ir, u, batch, t, k, lengths, m);
                    LegendreConvolution.backward(ir, dm, batch, t, k, lengths, m);
                });
            }
            System.out.printf(Locale.ROOT, "conv T=%5d  direct %9.2f ms  fft %9.2f ms  direct/fft %.2f%n", t, ms[0], ms[1],
                    ms[0] / ms[1]);
        }
    }

    private static void layer(int[] frames) {
        int batch = 8, in = 384, hidden = 384, d = 192;
        // warm the JIT on every path first: compiler threads would otherwise bill the first sizes
        layerRow(LmuConfig.of(in, hidden, 1, d, 400), batch, 200, false);
        for (int memoryD : new int[] {1, 4}) {
            for (int t : frames) layerRow(LmuConfig.of(in, hidden, memoryD, d, 400), batch, t, true);
        }
    }

    private static void layerRow(LmuConfig c, int batch, int t, boolean print) {
        int in = c.inputSize(), hidden = c.hiddenSize();
        int[] lengths = new int[batch];
        Arrays.fill(lengths, t);
        float[] xf = new float[batch * t * in];
        float[] dh = new float[batch * t * hidden];
        Rng r = new Rng(3);
        for (int i = 0; i < xf.length; i++) xf[i] = (float) r.nextGaussian();
        for (int i = 0; i < dh.length; i++) dh[i] = (float) r.nextGaussian();
        double fft = time(new LmuLayer(c, Mode.PARALLEL, new Rng(1), DType.F32), Method.FFT, xf, dh, batch, t, in,
                lengths);
        double direct = time(new LmuLayer(c, Mode.PARALLEL, new Rng(1), DType.F32), Method.DIRECT, xf, dh, batch, t, in,
                lengths);
        double rec = time(new LmuLayer(c, Mode.RECURRENT, new Rng(1), DType.F32), Method.AUTO, xf, dh, batch, t, in,
                lengths);
        if (!print) return;
        System.out.printf(Locale.ROOT,
                "layer memory_d=%d T=%5d  parallel-fft %9.1f ms  parallel-direct %9.1f ms  recurrent %9.1f ms  "
                        + "recurrent/parallel-fft %.1fx  direct/fft %.2f%n",
                c.memoryD(), t, fft, direct, rec, rec / fft, direct / fft);
    }

    private static double time(LmuLayer layer, Method method, float[] xf, float[] dh, int batch, int t, int in,
            int[] lengths) {
        layer.setConvolutionMethod(method);
        Tensor seed = Tensor.of(dh, batch, t, layer.config().hiddenSize());
        return fastest(t >= 800 ? 2 : 3, () -> {
            Tensor x = Tensor.of(xf, batch, t, in).requiresGrad(true);
            layer.forward(x, lengths).backward(seed);
            layer.zeroGrad();
        });
    }

    private static void fft() {
        for (int n : new int[] {512, 1024, 4096}) {
            double[] x = FftTest.random(2 * n, 1);
            Fft own = Fft.of(n);
            org.jtransforms.fft.DoubleFFT_1D jt = FftPlans.get(n);
            int reps = 2_000_000 / n;
            double[] y = x.clone();
            double a = fastest(5, () -> {
                for (int i = 0; i < reps; i++) own.forward(y);
                Arrays.fill(y, 1e-3);
            }) / reps * 1e3;
            double b = fastest(5, () -> {
                for (int i = 0; i < reps; i++) jt.complexForward(y);
                Arrays.fill(y, 1e-3);
            }) / reps * 1e3;
            double[] z = new double[n];
            double c = fastest(5, () -> {
                for (int i = 0; i < reps; i++) jt.realForward(z);
                Arrays.fill(z, 1e-3);
            }) / reps * 1e3;
            System.out.printf(Locale.ROOT, "fft n=%5d  own complex %7.2f us  jtransforms complex %7.2f us  "
                    + "jtransforms real %7.2f us%n", n, a, b, c);
        }
    }

    private static int reps(int t) {
        return t <= 128 ? 15 : t <= 400 ? 5 : 2;
    }

    /**
     * Runs body once to warm up, then reps times; returns the fastest run in ms (on a shared,
     * loaded machine the minimum is the least disturbed estimate).
     */
    private static double fastest(int reps, Runnable body) {
        if (reps > 1) body.run(); // warm-up; single-run sizes come after smaller ones that warmed the JIT
        if (CPU_TIME) {
            // the process CPU clock ticks in 10 ms steps here: average over enough runs for ≥ 0.5 s
            long c0 = cpuNanos();
            int runs = 0;
            do {
                body.run();
                runs++;
            } while (runs < reps || cpuNanos() - c0 < 500_000_000L);
            return (cpuNanos() - c0) / 1e6 / runs;
        }
        double best = Double.MAX_VALUE;
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            body.run();
            best = Math.min(best, (System.nanoTime() - t0) / 1e6);
        }
        return best;
    }

    /**
     * With {@code -Dlmu.bench.cpu=true} the benchmark reports CPU time of the whole process
     * (all threads) instead of wall time: on a machine shared with other jobs, CPU time is not
     * inflated by waiting for a core.
     */
    private static final boolean CPU_TIME = Boolean.getBoolean("lmu.bench.cpu");

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }
}
