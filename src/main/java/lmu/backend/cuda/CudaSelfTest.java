package lmu.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/**
 * A first-contact test of the CUDA plumbing on a real GPU, independent of the tensor core: opens
 * device 0, moves data through {@link PinnedStaging}, runs each kernel of {@link CudaKernels} on
 * small awkward sizes and compares with a float64 computation written out here, and exercises the
 * allocator's reuse. Prints one line per check and a summary; {@link #run()} returns the failures.
 * It is not the parity suite (that compares against {@code lmu.backend.cpu.CpuKernels}); it
 * checks that launches, arguments, geometry and copies are wired correctly.
 *
 * <p>{@code java -cp lmu-engine.jar lmu.backend.cuda.CudaSelfTest} (exit status 1 on a failure or
 * without CUDA).
 */
public final class CudaSelfTest {
    private CudaSelfTest() {}

    private static final double TOL = 1e-4;

    /** Runs every check on device 0; returns the failure messages (empty when all pass). */
    public static List<String> run() {
        Cuda.ensureAvailable();
        List<String> failures = new ArrayList<>();
        try (CudaContext ctx = CudaContext.open(0);
                PinnedStaging io = new PinnedStaging(ctx, 1 << 16)) { // small chunks: exercise chunking
            System.out.println("device: " + ctx + ", " + CachingAllocator.bytes(ctx.totalBytes()) + ", "
                    + ctx.multiprocessors() + " SMs");
            Random rnd = new Random(42);
            for (int[] rc : new int[][] {{1, 1}, {13, 29}, {207, 384}, {3, 4098}}) {
                check(failures, "softmax " + rc[0] + "x" + rc[1], () -> softmax(ctx, io, rnd, rc[0], rc[1], 1));
                check(failures, "layernorm " + rc[0] + "x" + rc[1], () -> layerNorm(ctx, io, rnd, rc[0], rc[1]));
            }
            check(failures, "softmax axis 1 of 3x5x7", () -> softmax(ctx, io, rnd, 21, 5, 7));
            check(failures, "layernorm no w/b/dinp", () -> layerNormBare(ctx, io, rnd, 13, 29));
            for (int n : new int[] {1, 13, 207, 70001}) {
                check(failures, "gelu " + n, () -> gelu(ctx, io, rnd, n));
                check(failures, "adamw " + n, () -> adamw(ctx, io, rnd, n));
                check(failures, "clip+unscale " + n, () -> clipUnscale(ctx, io, rnd, n));
            }
            check(failures, "allocator reuse", () -> allocatorReuse(ctx));
            failures.addAll(lmu.backend.cuda.kernels.ModelKernelChecks.run(ctx, io)); // CTC, LMU recurrence/convolution, attention
            ctx.synchronize();
            System.out.println("allocator: " + ctx.allocator().stats());
        }
        System.out.println(failures.isEmpty() ? "all checks passed" : failures.size() + " check(s) failed");
        return failures;
    }

    private interface Check {
        double maxError();
    }

    private static void check(List<String> failures, String name, Check c) {
        try {
            double err = c.maxError();
            boolean ok = err <= TOL;
            System.out.printf(Locale.ROOT, "%-24s %s  max error %.3g%n", name, ok ? "ok  " : "FAIL", err);
            if (!ok) failures.add(name + ": max error " + err);
        } catch (RuntimeException e) {
            System.out.printf(Locale.ROOT, "%-24s FAIL %s%n", name, e);
            failures.add(name + ": " + e);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static float[] random(Random r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * scale);
        return a;
    }

    private static DeviceBuffer upload(CudaContext ctx, PinnedStaging io, float[] a) {
        DeviceBuffer b = ctx.allocator().allocate(4L * a.length);
        io.upload(a, 0, a.length, b.ptr());
        return b;
    }

    private static float[] download(PinnedStaging io, DeviceBuffer b, int n) {
        float[] a = new float[n];
        io.download(b.ptr(), a, 0, n);
        return a;
    }

    /** max |got - want| / (1 + |want|). */
    private static double err(float[] got, double[] want) {
        double e = 0;
        for (int i = 0; i < want.length; i++) e = Math.max(e, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
        return e;
    }

    // ---------------------------------------------------------------- checks

    /** Softmax over the middle axis of (rows / inner, cols, inner). */
    private static double softmax(CudaContext ctx, PinnedStaging io, Random rnd, int rows, int cols, int inner) {
        float[] x = random(rnd, rows * cols, 3);
        float[] dy = random(rnd, rows * cols, 1);
        double[] p = new double[x.length];
        double[] logp = new double[x.length];
        double[] dxSoft = new double[x.length];
        double[] dxLog = new double[x.length];
        for (int r = 0; r < rows; r++) {
            int o = r / inner * cols * inner + r % inner;
            double m = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < cols; j++) m = Math.max(m, x[o + j * inner]);
            double s = 0;
            for (int j = 0; j < cols; j++) s += Math.exp(x[o + j * inner] - m);
            double dot = 0, sum = 0;
            for (int j = 0; j < cols; j++) {
                int q = o + j * inner;
                p[q] = Math.exp(x[q] - m) / s;
                logp[q] = x[q] - m - Math.log(s);
                dot += dy[q] * p[q];
                sum += dy[q];
            }
            for (int j = 0; j < cols; j++) {
                int q = o + j * inner;
                dxSoft[q] = p[q] * (dy[q] - dot);
                dxLog[q] = dy[q] - p[q] * sum;
            }
        }
        try (DeviceBuffer dX = upload(ctx, io, x); DeviceBuffer dDy = upload(ctx, io, dy);
                DeviceBuffer y = ctx.allocator().allocate(4L * x.length);
                DeviceBuffer dx = ctx.allocator().allocate(4L * x.length)) {
            double e = 0;
            CudaKernels.softmaxForward(ctx, y.ptr(), dX.ptr(), rows, cols, inner, false);
            e = Math.max(e, err(download(io, y, x.length), p));
            CudaKernels.softmaxBackward(ctx, dx.ptr(), y.ptr(), dDy.ptr(), rows, cols, inner, false);
            e = Math.max(e, err(download(io, dx, x.length), dxSoft));
            CudaKernels.softmaxForward(ctx, y.ptr(), dX.ptr(), rows, cols, inner, true);
            e = Math.max(e, err(download(io, y, x.length), logp));
            CudaKernels.softmaxBackward(ctx, dx.ptr(), y.ptr(), dDy.ptr(), rows, cols, inner, true);
            return Math.max(e, err(download(io, dx, x.length), dxLog));
        }
    }

    private static double layerNorm(CudaContext ctx, PinnedStaging io, Random rnd, int rows, int cols) {
        float eps = 1e-5f;
        float[] x = random(rnd, rows * cols, 2);
        float[] w = random(rnd, cols, 1);
        float[] b = random(rnd, cols, 1);
        float[] dy = random(rnd, rows * cols, 1);
        float[] dw0 = random(rnd, cols, 1); // existing gradient: the kernel must add to it
        float[] db0 = random(rnd, cols, 1);
        double[] y = new double[x.length];
        double[] dx = new double[x.length];
        double[] dw = new double[cols];
        double[] db = new double[cols];
        for (int c = 0; c < cols; c++) {
            dw[c] = dw0[c];
            db[c] = db0[c];
        }
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            double mean = 0, var = 0;
            for (int c = 0; c < cols; c++) mean += x[o + c];
            mean /= cols;
            for (int c = 0; c < cols; c++) var += (x[o + c] - mean) * (x[o + c] - mean);
            double rstd = 1 / Math.sqrt(var / cols + eps);
            double sumD = 0, sumDx = 0;
            for (int c = 0; c < cols; c++) {
                double xhat = (x[o + c] - mean) * rstd;
                y[o + c] = xhat * w[c] + b[c];
                double dn = dy[o + c] * w[c];
                sumD += dn;
                sumDx += dn * xhat;
                dw[c] += dy[o + c] * xhat;
                db[c] += dy[o + c];
            }
            for (int c = 0; c < cols; c++) {
                double xhat = (x[o + c] - mean) * rstd;
                dx[o + c] = rstd * (dy[o + c] * w[c] - sumD / cols - xhat * sumDx / cols);
            }
        }
        try (DeviceBuffer dX = upload(ctx, io, x); DeviceBuffer dW = upload(ctx, io, w); DeviceBuffer dB = upload(ctx, io, b);
                DeviceBuffer dDy = upload(ctx, io, dy); DeviceBuffer gW = upload(ctx, io, dw0);
                DeviceBuffer gB = upload(ctx, io, db0); DeviceBuffer out = ctx.allocator().allocate(4L * x.length);
                DeviceBuffer gX = ctx.allocator().allocate(4L * x.length);
                DeviceBuffer mean = ctx.allocator().allocate(4L * rows);
                DeviceBuffer rstd = ctx.allocator().allocate(4L * rows)) {
            CudaKernels.layerNormForward(ctx, out.ptr(), mean.ptr(), rstd.ptr(), dX.ptr(), dW.ptr(), dB.ptr(), rows, cols, eps);
            double e = err(download(io, out, x.length), y);
            CudaKernels.layerNormBackward(ctx, gX.ptr(), gW.ptr(), gB.ptr(), dDy.ptr(), dX.ptr(), dW.ptr(), mean.ptr(),
                    rstd.ptr(), rows, cols);
            e = Math.max(e, err(download(io, gX, x.length), dx));
            e = Math.max(e, err(download(io, gW, cols), dw));
            return Math.max(e, err(download(io, gB, cols), db));
        }
    }

    /** Layer norm without weight and bias, backward with only dbias: exercises the null arguments. */
    private static double layerNormBare(CudaContext ctx, PinnedStaging io, Random rnd, int rows, int cols) {
        float eps = 1e-5f;
        float[] x = random(rnd, rows * cols, 2);
        float[] dy = random(rnd, rows * cols, 1);
        double[] y = new double[x.length];
        double[] db = new double[cols];
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            double mean = 0, var = 0;
            for (int c = 0; c < cols; c++) mean += x[o + c];
            mean /= cols;
            for (int c = 0; c < cols; c++) var += (x[o + c] - mean) * (x[o + c] - mean);
            double rstd = 1 / Math.sqrt(var / cols + eps);
            for (int c = 0; c < cols; c++) {
                y[o + c] = (x[o + c] - mean) * rstd;
                db[c] += dy[o + c];
            }
        }
        try (DeviceBuffer dX = upload(ctx, io, x); DeviceBuffer dDy = upload(ctx, io, dy);
                DeviceBuffer gB = upload(ctx, io, new float[cols]); DeviceBuffer out = ctx.allocator().allocate(4L * x.length);
                DeviceBuffer mean = ctx.allocator().allocate(4L * rows);
                DeviceBuffer rstd = ctx.allocator().allocate(4L * rows)) {
            CudaKernels.layerNormForward(ctx, out.ptr(), mean.ptr(), rstd.ptr(), dX.ptr(), null, null, rows, cols, eps);
            double e = err(download(io, out, x.length), y);
            CudaKernels.layerNormBackward(ctx, null, null, gB.ptr(), dDy.ptr(), dX.ptr(), null, mean.ptr(), rstd.ptr(),
                    rows, cols);
            return Math.max(e, err(download(io, gB, cols), db));
        }
    }

    private static double gelu(CudaContext ctx, PinnedStaging io, Random rnd, int n) {
        float[] x = random(rnd, n, 2);
        float[] dy = random(rnd, n, 1);
        double[] y = new double[n];
        double[] dx = new double[n];
        double k = Math.sqrt(2 / Math.PI);
        for (int i = 0; i < n; i++) {
            double t = Math.tanh(k * (x[i] + 0.044715 * x[i] * x[i] * x[i]));
            y[i] = 0.5 * x[i] * (1 + t);
            dx[i] = dy[i] * (0.5 * (1 + t) + 0.5 * x[i] * (1 - t * t) * k * (1 + 3 * 0.044715 * x[i] * x[i]));
        }
        try (DeviceBuffer dX = upload(ctx, io, x); DeviceBuffer dDy = upload(ctx, io, dy);
                DeviceBuffer out = ctx.allocator().allocate(4L * n); DeviceBuffer g = ctx.allocator().allocate(4L * n)) {
            CudaKernels.geluForward(ctx, out.ptr(), dX.ptr(), n);
            CudaKernels.geluBackward(ctx, g.ptr(), dX.ptr(), dDy.ptr(), n);
            return Math.max(err(download(io, out, n), y), err(download(io, g, n), dx));
        }
    }

    private static double adamw(CudaContext ctx, PinnedStaging io, Random rnd, int n) {
        float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 0.01f, scale = 0.5f;
        int step = 3;
        float[] p = random(rnd, n, 1);
        float[] g = random(rnd, n, 1);
        float[] m = random(rnd, n, 0.1);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) Math.abs(rnd.nextGaussian() * 0.01);
        double[] want = new double[n];
        double bc1 = 1 - Math.pow(b1, step), bc2 = 1 - Math.pow(b2, step);
        for (int i = 0; i < n; i++) {
            double gi = g[i] * (double) scale;
            double mi = b1 * (double) m[i] + (1 - (double) b1) * gi;
            double vi = b2 * (double) v[i] + (1 - (double) b2) * gi * gi;
            want[i] = p[i] * (1 - (double) lr * wd) - lr * (mi / bc1) / (Math.sqrt(vi / bc2) + eps);
        }
        try (DeviceBuffer dP = upload(ctx, io, p); DeviceBuffer dG = upload(ctx, io, g); DeviceBuffer dM = upload(ctx, io, m);
                DeviceBuffer dV = upload(ctx, io, v)) {
            CudaKernels.adamwUpdate(ctx, dP.ptr(), dG.ptr(), dM.ptr(), dV.ptr(), n, lr, b1, b2, eps, wd, step, scale, true);
            return err(download(io, dP, n), want);
        }
    }

    private static double clipUnscale(CudaContext ctx, PinnedStaging io, Random rnd, int n) {
        float[] a = random(rnd, n, 4);
        float[] b = random(rnd, 7, 4);
        double ss = 0;
        for (float f : a) ss += (double) f * f;
        for (float f : b) ss += (double) f * f;
        float maxNorm = (float) (Math.sqrt(ss) / 2);
        double coef = Math.min(1, maxNorm / (Math.sqrt(ss) + 1e-6));
        double[] clipped = new double[n];
        for (int i = 0; i < n; i++) clipped[i] = a[i] * coef;
        try (DeviceBuffer dA = upload(ctx, io, a); DeviceBuffer dB = upload(ctx, io, b);
                DeviceBuffer sumsq = ctx.allocator().allocate(4); DeviceBuffer flag = ctx.allocator().allocate(4)) {
            CudaKernels.clipSumSquares(ctx, sumsq.ptr(), new CUdeviceptr[] {dA.ptr(), dB.ptr()}, new int[] {n, 7});
            double e = Math.abs(download(io, sumsq, 1)[0] - ss) / (1 + ss);
            CudaKernels.clipScale(ctx, dA.ptr(), n, sumsq.ptr(), maxNorm);
            e = Math.max(e, err(download(io, dA, n), clipped));
            // unscale by 1/4 with a NaN planted at the end: values scaled, flag raised
            float[] s = random(rnd, n, 1);
            s[n - 1] = Float.NaN;
            double[] want = new double[n - 1];
            for (int i = 0; i < n - 1; i++) want[i] = s[i] * 0.25;
            io.upload(s, 0, n, dA.ptr());
            Driver.check("cuMemsetD32Async", () -> JCudaDriver.cuMemsetD32Async(flag.ptr(), 0, 1, ctx.stream()));
            CudaKernels.unscaleCheck(ctx, dA.ptr(), n, 0.25f, flag.ptr());
            e = Math.max(e, err(download(io, dA, n), want));
            int[] f = new int[1];
            ctx.synchronize();
            Driver.check("cuMemcpyDtoH", () -> JCudaDriver.cuMemcpyDtoH(jcuda.Pointer.to(f), flag.ptr(), 4));
            return f[0] == 1 ? e : Double.POSITIVE_INFINITY;
        }
    }

    private static double allocatorReuse(CudaContext ctx) {
        DeviceAllocator a = ctx.allocator();
        long before = a.stats().driverAllocations();
        for (int i = 0; i < 10; i++) {
            try (DeviceBuffer x = a.allocate(3_000_000); DeviceBuffer y = a.allocate(1000)) {
                if (x.capacity() < 3_000_000 || y.capacity() < 1000) return Double.POSITIVE_INFINITY;
            }
        }
        // at most the first iteration reaches the driver
        return a.stats().driverAllocations() - before <= 2 ? 0 : Double.POSITIVE_INFINITY;
    }

    /**
     * Runs {@link #run()}.
     *
     * @throws IllegalStateException when CUDA is not available or a check failed (exit status 1)
     */
    public static void main(String[] args) {
        Cuda.ensureAvailable();
        List<String> failures = run();
        if (!failures.isEmpty()) throw new IllegalStateException("CudaSelfTest: " + String.join("; ", failures));
    }
}
