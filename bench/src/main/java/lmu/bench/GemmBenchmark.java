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
 * {@link Gemm} float32 throughput, {@code C = A · B} with A (m, k), B (k, n), row-major. The shape
 * parameter reads {@code m x k x n}, i.e. (m×k)·(k×n): the encoder's 384→384 projection over
 * B·T = 3200 frames, a large square product, and the fused QKV projection 384→1152 over 400 frames. Reports invocations per second and GFLOP/s
 * ({@code gflops} counter). Thread count: {@code -jvmArgsAppend -Dlmu.threads=N}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class GemmBenchmark extends AbstractKernelBenchmark {

    /** m x k x n: A is m×k, B is k×n. */
    @Param({"3200x384x384", "2048x2048x2048", "400x384x1152"})
    public String shape;

    private int m;
    private int n;
    private int k;
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
        int[] d = dims(shape, 3);
        m = d[0];
        k = d[1];
        n = d[2];
        SplittableRandom rnd = new SplittableRandom(42);
        a = new float[m * k];
        b = new float[k * n];
        c = new float[m * n];
        for (int i = 0; i < a.length; i++) a[i] = (float) (rnd.nextDouble() * 2 - 1);
        for (int i = 0; i < b.length; i++) b[i] = (float) (rnd.nextDouble() * 2 - 1);
        Gemm.sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
        checkSlice();
        System.out.println("# Gemm: " + Gemm.implementation() + "; result matches the naive product. Starting benchmark.");
    }

    /** Compares a 16×16 corner and the last row of C against a double-precision triple loop. */
    private void checkSlice() {
        int[] rows = {0, 1, Math.min(15, m - 1), m - 1};
        for (int i : rows) {
            for (int j = 0; j < n; j += (j < 16 ? 1 : 97)) {
                double ref = 0, mag = 0;
                for (int p = 0; p < k; p++) {
                    double x = (double) a[i * k + p] * b[p * n + j];
                    ref += x;
                    mag += Math.abs(x);
                }
                double tol = 2.0 * (k + 2) * Math.ulp(1f) * mag;
                if (!(Math.abs(c[i * n + j] - ref) <= tol)) {
                    throw new IllegalStateException("GemmBenchmark " + shape + ": C[" + i + "," + j + "] = "
                            + c[i * n + j] + ", naive product gives " + ref + " (tol " + tol + ")");
                }
            }
        }
    }

    @Benchmark
    public float[] cpu(Flops flops) {
        Gemm.sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
        // napkin math: each of the m·n outputs takes k multiplies and k adds -> 2·m·n·k FLOP
        flops.gflops += 2.0 * m * n * k * 1e-9;
        return c;
    }
}
