package lmu.backend.cuda;

import static lmu.backend.cuda.Tolerance.F32;

import java.util.ArrayList;
import java.util.List;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/**
 * Checks of the launchers in {@link CudaKernels} (softmax, layer norm, GELU, AdamW, clipping, the
 * loss scaler's unscale) against float64 computations written out here, plus the allocator's
 * reuse. Registered in {@link CudaSelfTest#checks()}.
 */
final class KernelChecks {
    private KernelChecks() {}

    static List<ParityCheck> all() {
        List<ParityCheck> c = new ArrayList<>();
        for (int[] rc : new int[][] {{1, 1}, {13, 29}, {207, 384}, {3, 4098}}) {
            c.add(ParityCheck.of("kernel softmax " + rc[0] + "x" + rc[1], p -> softmax(p, rc[0], rc[1], 1)));
            c.add(ParityCheck.of("kernel layernorm " + rc[0] + "x" + rc[1], p -> layerNorm(p, rc[0], rc[1])));
        }
        c.add(ParityCheck.of("kernel softmax axis 1 of 3x5x7", p -> softmax(p, 21, 5, 7)));
        c.add(ParityCheck.of("kernel layernorm no w/b/dinp 13x29", p -> layerNormBare(p, 13, 29)));
        for (int n : new int[] {1, 13, 207, 70001}) {
            c.add(ParityCheck.of("kernel gelu " + n, p -> gelu(p, n)));
            c.add(ParityCheck.of("kernel adamw " + n, p -> adamw(p, n)));
            c.add(ParityCheck.of("kernel clip+unscale " + n, p -> clipUnscale(p, n)));
        }
        c.add(ParityCheck.of("allocator reuse", KernelChecks::allocatorReuse));
        return c;
    }

    /** Softmax over the middle axis of (rows / inner, cols, inner). */
    private static void softmax(ParityRun p, int rows, int cols, int inner) {
        float[] x = p.randn(rows * cols, 3);
        float[] dy = p.randn(rows * cols, 1);
        double[] s = new double[x.length];
        double[] logs = new double[x.length];
        double[] dxSoft = new double[x.length];
        double[] dxLog = new double[x.length];
        for (int r = 0; r < rows; r++) {
            int o = r / inner * cols * inner + r % inner;
            double m = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < cols; j++) m = Math.max(m, x[o + j * inner]);
            double z = 0;
            for (int j = 0; j < cols; j++) z += Math.exp(x[o + j * inner] - m);
            double dot = 0, sum = 0;
            for (int j = 0; j < cols; j++) {
                int q = o + j * inner;
                s[q] = Math.exp(x[q] - m) / z;
                logs[q] = x[q] - m - Math.log(z);
                dot += dy[q] * s[q];
                sum += dy[q];
            }
            for (int j = 0; j < cols; j++) {
                int q = o + j * inner;
                dxSoft[q] = s[q] * (dy[q] - dot);
                dxLog[q] = dy[q] - s[q] * sum;
            }
        }
        DeviceBuffer dX = p.upload(x), dDy = p.upload(dy), y = p.alloc(x.length), dx = p.alloc(x.length);
        CudaContext ctx = p.ctx();
        CudaKernels.softmaxForward(ctx, y.ptr(), dX.ptr(), rows, cols, inner, false);
        p.compare("softmax", p.download(y, x.length), s, cols, F32);
        CudaKernels.softmaxBackward(ctx, dx.ptr(), y.ptr(), dDy.ptr(), rows, cols, inner, false);
        p.compare("softmax dx", p.download(dx, x.length), dxSoft, cols, F32);
        CudaKernels.softmaxForward(ctx, y.ptr(), dX.ptr(), rows, cols, inner, true);
        p.compare("log-softmax", p.download(y, x.length), logs, cols, F32);
        CudaKernels.softmaxBackward(ctx, dx.ptr(), y.ptr(), dDy.ptr(), rows, cols, inner, true);
        p.compare("log-softmax dx", p.download(dx, x.length), dxLog, cols, F32);
    }

    private static void layerNorm(ParityRun p, int rows, int cols) {
        float eps = 1e-5f;
        float[] x = p.randn(rows * cols, 2);
        float[] w = p.randn(cols, 1);
        float[] b = p.randn(cols, 1);
        float[] dy = p.randn(rows * cols, 1);
        float[] dw0 = p.randn(cols, 1); // existing gradient: the kernel must add to it
        float[] db0 = p.randn(cols, 1);
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
        DeviceBuffer dX = p.upload(x), dW = p.upload(w), dB = p.upload(b), dDy = p.upload(dy), gW = p.upload(dw0),
                gB = p.upload(db0), out = p.alloc(x.length), gX = p.alloc(x.length), mean = p.alloc(rows),
                rstd = p.alloc(rows);
        CudaKernels.layerNormForward(p.ctx(), out.ptr(), mean.ptr(), rstd.ptr(), dX.ptr(), dW.ptr(), dB.ptr(), rows, cols, eps);
        p.compare("y", p.download(out, x.length), y, cols, F32);
        CudaKernels.layerNormBackward(p.ctx(), gX.ptr(), gW.ptr(), gB.ptr(), dDy.ptr(), dX.ptr(), dW.ptr(), mean.ptr(),
                rstd.ptr(), rows, cols);
        p.compare("dx", p.download(gX, x.length), dx, cols, F32);
        p.compare("dw", p.download(gW, cols), dw, rows, F32);
        p.compare("db", p.download(gB, cols), db, rows, F32);
    }

    /** Layer norm without weight and bias, backward with only dbias: exercises the null arguments. */
    private static void layerNormBare(ParityRun p, int rows, int cols) {
        float eps = 1e-5f;
        float[] x = p.randn(rows * cols, 2);
        float[] dy = p.randn(rows * cols, 1);
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
        DeviceBuffer dX = p.upload(x), dDy = p.upload(dy), gB = p.upload(new float[cols]), out = p.alloc(x.length),
                mean = p.alloc(rows), rstd = p.alloc(rows);
        CudaKernels.layerNormForward(p.ctx(), out.ptr(), mean.ptr(), rstd.ptr(), dX.ptr(), null, null, rows, cols, eps);
        p.compare("y", p.download(out, x.length), y, cols, F32);
        CudaKernels.layerNormBackward(p.ctx(), null, null, gB.ptr(), dDy.ptr(), dX.ptr(), null, mean.ptr(), rstd.ptr(),
                rows, cols);
        p.compare("db", p.download(gB, cols), db, rows, F32);
    }

    private static void gelu(ParityRun p, int n) {
        float[] x = p.randn(n, 2);
        float[] dy = p.randn(n, 1);
        double[] y = new double[n];
        double[] dx = new double[n];
        double k = Math.sqrt(2 / Math.PI);
        for (int i = 0; i < n; i++) {
            double t = Math.tanh(k * (x[i] + 0.044715 * x[i] * x[i] * x[i]));
            y[i] = 0.5 * x[i] * (1 + t);
            dx[i] = dy[i] * (0.5 * (1 + t) + 0.5 * x[i] * (1 - t * t) * k * (1 + 3 * 0.044715 * x[i] * x[i]));
        }
        DeviceBuffer dX = p.upload(x), dDy = p.upload(dy), out = p.alloc(n), g = p.alloc(n);
        CudaKernels.geluForward(p.ctx(), out.ptr(), dX.ptr(), n);
        CudaKernels.geluBackward(p.ctx(), g.ptr(), dX.ptr(), dDy.ptr(), n);
        p.compare("y", p.download(out, n), y, 1, F32);
        p.compare("dx", p.download(g, n), dx, 1, F32);
    }

    private static void adamw(ParityRun p, int n) {
        float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 0.01f, scale = 0.5f;
        int step = 3;
        float[] w = p.randn(n, 1);
        float[] g = p.randn(n, 1);
        float[] m = p.randn(n, 0.1);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) Math.abs(p.random().nextGaussian() * 0.01);
        double[] want = new double[n];
        double bc1 = 1 - Math.pow(b1, step), bc2 = 1 - Math.pow(b2, step);
        for (int i = 0; i < n; i++) {
            double gi = g[i] * (double) scale;
            double mi = b1 * (double) m[i] + (1 - (double) b1) * gi;
            double vi = b2 * (double) v[i] + (1 - (double) b2) * gi * gi;
            want[i] = w[i] * (1 - (double) lr * wd) - lr * (mi / bc1) / (Math.sqrt(vi / bc2) + eps);
        }
        DeviceBuffer dP = p.upload(w), dG = p.upload(g), dM = p.upload(m), dV = p.upload(v);
        CudaKernels.adamwUpdate(p.ctx(), dP.ptr(), dG.ptr(), dM.ptr(), dV.ptr(), n, lr, b1, b2, eps, wd, step, scale, true);
        p.compare("param", p.download(dP, n), want, 1, F32);
    }

    private static void clipUnscale(ParityRun p, int n) {
        float[] a = p.randn(n, 4);
        float[] b = p.randn(7, 4);
        double ss = 0;
        for (float f : a) ss += (double) f * f;
        for (float f : b) ss += (double) f * f;
        float maxNorm = (float) (Math.sqrt(ss) / 2);
        double coef = Math.min(1, maxNorm / (Math.sqrt(ss) + 1e-6));
        double[] clipped = new double[n];
        for (int i = 0; i < n; i++) clipped[i] = a[i] * coef;
        DeviceBuffer dA = p.upload(a), dB = p.upload(b), sumsq = p.alloc(1), flag = p.alloc(1);
        CudaContext ctx = p.ctx();
        CudaKernels.clipSumSquares(ctx, sumsq.ptr(), new CUdeviceptr[] {dA.ptr(), dB.ptr()}, new int[] {n, 7});
        p.compare("sum of squares", p.download(sumsq, 1), new double[] {ss}, n + 7, F32);
        CudaKernels.clipScale(ctx, dA.ptr(), n, sumsq.ptr(), maxNorm);
        p.compare("clipped", p.download(dA, n), clipped, n + 7, F32);
        // unscale by 1/4 with a NaN planted at the end: values scaled, flag raised
        float[] s = p.randn(n, 1);
        s[n - 1] = Float.NaN;
        double[] want = new double[n];
        for (int i = 0; i < n; i++) want[i] = s[i] * 0.25;
        p.staging().upload(s, 0, n, dA.ptr());
        Driver.check("cuMemsetD32Async", () -> JCudaDriver.cuMemsetD32Async(flag.ptr(), 0, 1, ctx.stream()));
        CudaKernels.unscaleCheck(ctx, dA.ptr(), n, 0.25f, flag.ptr());
        p.compare("unscaled", p.download(dA, n), want, 1, F32);
        int[] f = new int[1];
        ctx.synchronize();
        Driver.check("cuMemcpyDtoH", () -> JCudaDriver.cuMemcpyDtoH(jcuda.Pointer.to(f), flag.ptr(), 4));
        p.expect(f[0] == 1, "found-inf flag is " + f[0] + ", expected 1 (a NaN was planted)");
    }

    private static void allocatorReuse(ParityRun p) {
        DeviceAllocator a = p.ctx().allocator();
        long before = a.stats().driverAllocations();
        for (int i = 0; i < 10; i++) {
            try (DeviceBuffer x = a.allocate(3_000_000); DeviceBuffer y = a.allocate(1000)) {
                p.expect(x.capacity() >= 3_000_000 && y.capacity() >= 1000, "capacity below the request");
            }
        }
        long calls = a.stats().driverAllocations() - before;
        p.expect(calls <= 2, "the driver was asked " + calls + " times for 20 allocations of 2 sizes (expected <= 2)");
    }
}
