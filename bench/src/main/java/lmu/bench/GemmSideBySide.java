package lmu.bench;

import java.util.Arrays;
import java.util.SplittableRandom;
import lmu.backend.cpu.Gemm;

/**
 * One side of {@code bench/gemm_side_by_side.sh}: times {@link Gemm#sgemm} on row-major float32
 * {@code C = A · B} for each shape {@code m x k x n} (A m×k, B k×n) and prints {@code shape median_gflops implementation}, one line per
 * shape. The PyTorch side is {@code bench/reference/gemm_torch.py} with the same output.
 *
 * <p>Usage: {@code java -Dlmu.threads=2 -cp bench/target/benchmarks.jar lmu.bench.GemmSideBySide
 * [--reps 20] [--warmup-s 1.5] 3200x384x384 2048x2048x2048}
 */
public final class GemmSideBySide {
    private GemmSideBySide() {}

    public static void main(String[] args) {
        int reps = 20;
        double warmupSeconds = 1.5;
        int i = 0;
        for (; i < args.length && args[i].startsWith("--"); i += 2) {
            if (i + 1 >= args.length) throw new IllegalArgumentException("GemmSideBySide: " + args[i] + " needs a value");
            switch (args[i]) {
                case "--reps" -> reps = Integer.parseInt(args[i + 1]);
                case "--warmup-s" -> warmupSeconds = Double.parseDouble(args[i + 1]);
                default -> throw new IllegalArgumentException("GemmSideBySide: unknown flag " + args[i]
                        + " (expected --reps N, --warmup-s SECONDS)");
            }
        }
        String[] shapes = Arrays.copyOfRange(args, i, args.length);
        if (shapes.length == 0) shapes = new String[] {"3200x384x384", "2048x2048x2048"};
        for (String shape : shapes) {
            int[] d = AbstractKernelBenchmark.dims(shape, 3);
            // shape is m x k x n
            System.out.printf("%s %.2f %s%n", shape, medianGflops(d[0], d[2], d[1], reps, warmupSeconds),
                    Gemm.implementation().replace(' ', '_'));
        }
    }

    private static double medianGflops(int m, int n, int k, int reps, double warmupSeconds) {
        SplittableRandom rnd = new SplittableRandom(1);
        float[] a = new float[m * k], b = new float[k * n], c = new float[m * n];
        for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextDouble();
        for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextDouble();
        long warmEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
        do {
            Gemm.sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
        } while (System.nanoTime() < warmEnd);
        double[] seconds = new double[reps];
        for (int r = 0; r < reps; r++) {
            long t0 = System.nanoTime();
            Gemm.sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
            seconds[r] = (System.nanoTime() - t0) * 1e-9;
        }
        Arrays.sort(seconds);
        // 2·m·n·k FLOP: k multiplies and k adds for each of the m·n outputs
        return 2.0 * m * n * k / seconds[reps / 2] * 1e-9;
    }
}
