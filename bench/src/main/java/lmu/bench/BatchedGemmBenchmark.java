package lmu.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import lmu.backend.cpu.Gemm;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * {@link Gemm#sgemmStridedBatched} throughput for attention-sized products: per (batch, head)
 * item {@code C_i = A_i · B_i}, A_i (m, k), B_i (k, n), items packed back to back. Parameter {@code batchShape}:
 * {@code batch x m x k x n}: B·H = 8·6 = 48 items of scores Q·K^T (T = 200, D = 64 → 200×200) and
 * of context P·V (200×200 times 200×64).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class BatchedGemmBenchmark extends AbstractKernelBenchmark {

    @Param({"48x200x64x200", "48x200x200x64"})
    public String batchShape;

    private int batch;
    private int m;
    private int k;
    private int n;
    private float[] a;
    private float[] b;
    private float[] c;

    /** GFLOP done, normalised by JMH to GFLOP per second. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Flops {
        public double gflops;
    }

    @Setup(Level.Trial)
    public void setup() {
        int[] d = dims(batchShape, 4);
        batch = d[0];
        m = d[1];
        k = d[2];
        n = d[3];
        SplittableRandom rnd = new SplittableRandom(7);
        a = new float[batch * m * k];
        b = new float[batch * k * n];
        c = new float[batch * m * n];
        for (int i = 0; i < a.length; i++) a[i] = (float) (rnd.nextDouble() * 2 - 1);
        for (int i = 0; i < b.length; i++) b[i] = (float) (rnd.nextDouble() * 2 - 1);
        run();
        // check the first and last item at a few places against a naive product
        for (int item : new int[] {0, batch - 1}) {
            for (int i : new int[] {0, m / 2, m - 1}) {
                for (int j : new int[] {0, n / 3, n - 1}) {
                    double ref = 0, mag = 0;
                    for (int p = 0; p < k; p++) {
                        double x = (double) a[item * m * k + i * k + p] * b[item * k * n + p * n + j];
                        ref += x;
                        mag += Math.abs(x);
                    }
                    float got = c[item * m * n + i * n + j];
                    if (!(Math.abs(got - ref) <= 2.0 * (k + 2) * Math.ulp(1f) * mag)) {
                        throw new IllegalStateException("BatchedGemmBenchmark " + batchShape + ": item " + item + " C["
                                + i + "," + j + "] = " + got + ", naive product gives " + ref);
                    }
                }
            }
        }
        System.out.println("# Gemm: " + Gemm.implementation() + "; result matches the naive product. Starting benchmark.");
    }

    private void run() {
        Gemm.sgemmStridedBatched(false, false, m, n, k, 1f, a, 0, k, m * k, b, 0, n, k * n, 0f, c, 0, n, m * n, batch);
    }

    @Benchmark
    public float[] cpu(Flops flops) {
        run();
        // napkin math: batch products of 2·m·n·k FLOP each (k multiplies and k adds per output)
        flops.gflops += 2.0 * batch * m * n * k * 1e-9;
        return c;
    }
}
