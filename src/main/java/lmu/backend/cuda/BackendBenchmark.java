package lmu.backend.cuda;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUevent;
import jcuda.driver.JCudaDriver;
import lmu.backend.BinaryOp;
import lmu.backend.UnaryOp;
import lmu.tensor.DType;
import lmu.tensor.Tensor;

/**
 * Kernel-only timings of {@link CudaBackend} ops on the shapes of {@code configs/seed.yaml} at
 * batch 96 (B 96, T 200, C 512): CUDA events around {@code reps} launches after warm-up, reported
 * as time per call, achieved memory bandwidth (bytes each op must move at least, divided by time)
 * and its fraction of the device's peak (memory clock × bus width × 2), or TFLOP/s for matrix
 * products. L2 is not flushed; every tensor is 39 MB, close to an H100's 50 MB L2, so consecutive
 * reps mostly miss it anyway.
 *
 * <p>{@code java -cp lmu-engine.jar lmu.backend.cuda.BackendBenchmark [results.json]}
 */
public final class BackendBenchmark {
    private BackendBenchmark() {}

    private static final int B = 96, T = 200, C = 512;

    /** One measured op. */
    record Row(String op, String shape, double ms, double bytes, double flops) {}

    @FunctionalInterface
    private interface Op {
        void run();
    }

    public static void main(String[] args) {
        Cuda.ensureAvailable();
        List<Row> rows = new ArrayList<>();
        try (CudaContext ctx = CudaContext.open(0); CudaBackend gpu = CudaBackend.on(ctx)) {
            double peak = 2.0 * ctx.attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE) * 1e3
                    * ctx.attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH) / 8;
            System.out.printf(Locale.ROOT, "device %s, memory peak %.0f GB/s, matmul %s%n", ctx, peak / 1e9,
                    gpu.matmulImplementation());
            int n = B * T * C;
            String btc = "B" + B + "_T" + T + "_C" + C;
            Tensor x = gpu.empty(DType.F32, B, T, C), y = gpu.empty(DType.F32, B, T, C), z = gpu.empty(DType.F32, B, T, C);
            Tensor bias = gpu.empty(DType.F32, C), rowsOut = gpu.empty(DType.F32, B, T, 1), mean = gpu.empty(DType.F32, B * T);
            Tensor rstd = gpu.empty(DType.F32, B * T), w = gpu.empty(DType.F32, C, C), perm = gpu.empty(DType.F32, B, C, T);
            gpu.fill(x, 0.5);
            gpu.fill(y, 1.5);
            gpu.fill(w, 0.01);
            gpu.fill(bias, 0.1);
            // napkin math: fp32 = 4 bytes; each op reads its inputs and writes its output once
            rows.add(time(ctx, "binary add", btc, 12.0 * n, 0, () -> gpu.binary(BinaryOp.ADD, z, x, y)));
            rows.add(time(ctx, "binary add bias (C)", btc, 8.0 * n, 0, () -> gpu.binary(BinaryOp.ADD, z, x, bias)));
            rows.add(time(ctx, "binary backward mul wrt a", btc, 16.0 * n, 0, () -> gpu.binaryBackward(BinaryOp.MUL, 0, z, x, y, y)));
            rows.add(time(ctx, "unary gelu", btc, 8.0 * n, 0, () -> gpu.unary(UnaryOp.GELU, z, x, 0)));
            rows.add(time(ctx, "unary backward gelu", btc, 12.0 * n, 0, () -> gpu.unaryBackward(UnaryOp.GELU, z, x, y, y, 0)));
            rows.add(time(ctx, "dropout p 0.1", btc, 8.0 * n, 0, () -> gpu.dropout(z, x, 0.1, 7)));
            rows.add(time(ctx, "sumAxes over B, T (bias grad)", btc, 4.0 * n, 0,
                    () -> gpu.sumAxes(bias, x, new boolean[] {true, true, false})));
            rows.add(time(ctx, "sumAxes over C", btc, 4.0 * n, 0, () -> gpu.sumAxes(rowsOut, x, new boolean[] {false, false, true})));
            rows.add(time(ctx, "softmax last axis", btc, 8.0 * n, 0, () -> gpu.softmax(z, x, 2, false)));
            rows.add(time(ctx, "log-softmax backward", btc, 12.0 * n, 0, () -> gpu.softmaxBackward(z, x, y, 2, true)));
            rows.add(time(ctx, "layerNorm", btc, 8.0 * n, 0, () -> gpu.layerNorm(z, mean, rstd, x, bias, bias, 1e-5)));
            rows.add(time(ctx, "permute (B, C, T)", btc, 8.0 * n, 0, () -> gpu.permute(perm, x, new int[] {0, 2, 1})));
            rows.add(time(ctx, "matmul (BT, C) x (C, C)", btc, 0, 2.0 * B * T * C * C,
                    () -> gpu.matmul(z, x, w, 1, B * T, C, C, false, false, false, false, 0)));
            System.out.printf(Locale.ROOT, "%-32s %-16s %10s %10s %8s%n", "op", "shape", "ms", "GB/s", "of peak");
            for (Row r : rows) {
                if (r.flops() > 0) {
                    System.out.printf(Locale.ROOT, "%-32s %-16s %10.4f %10s %8s  %.1f TFLOP/s%n", r.op(), r.shape(), r.ms(), "-", "-",
                            r.flops() / r.ms() / 1e9);
                } else {
                    double gbs = r.bytes() / r.ms() / 1e6;
                    System.out.printf(Locale.ROOT, "%-32s %-16s %10.4f %10.0f %7.0f%%%n", r.op(), r.shape(), r.ms(), gbs,
                            100 * gbs * 1e9 / peak);
                }
            }
            if (args.length > 0) write(Path.of(args[0]), ctx, peak, rows);
        }
    }

    private static Row time(CudaContext ctx, String name, String shape, double bytes, double flops, Op op) {
        for (int i = 0; i < 3; i++) op.run();
        int reps = 20;
        CUevent start = new CUevent(), stop = new CUevent();
        Driver.check("cuEventCreate", () -> JCudaDriver.cuEventCreate(start, 0));
        Driver.check("cuEventCreate", () -> JCudaDriver.cuEventCreate(stop, 0));
        try {
            Driver.check("cuEventRecord", () -> JCudaDriver.cuEventRecord(start, ctx.stream()));
            for (int i = 0; i < reps; i++) op.run();
            Driver.check("cuEventRecord", () -> JCudaDriver.cuEventRecord(stop, ctx.stream()));
            Driver.check("cuEventSynchronize", () -> JCudaDriver.cuEventSynchronize(stop), name);
            float[] ms = new float[1];
            Driver.check("cuEventElapsedTime", () -> JCudaDriver.cuEventElapsedTime(ms, start, stop));
            return new Row(name, shape, ms[0] / reps, bytes, flops);
        } finally {
            JCudaDriver.cuEventDestroy(start);
            JCudaDriver.cuEventDestroy(stop);
        }
    }

    private static void write(Path file, CudaContext ctx, double peak, List<Row> rows) {
        StringBuilder sb = new StringBuilder("{\"device\": \"").append(ctx.name()).append("\", \"memoryPeakGBs\": ")
                .append(String.format(Locale.ROOT, "%.1f", peak / 1e9)).append(", \"driver\": ").append(Cuda.driverVersion())
                .append(", \"rows\": [\n");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            sb.append(String.format(Locale.ROOT, "  {\"op\": \"%s\", \"shape\": \"%s\", \"ms\": %.5f, \"bytes\": %.0f, \"flops\": %.0f}%s%n",
                    r.op(), r.shape(), r.ms(), r.bytes(), r.flops(), i + 1 < rows.size() ? "," : ""));
        }
        sb.append("]}\n");
        try {
            Files.writeString(file, sb);
        } catch (IOException e) {
            throw new UncheckedIOException("BackendBenchmark: cannot write " + file, e);
        }
    }
}
