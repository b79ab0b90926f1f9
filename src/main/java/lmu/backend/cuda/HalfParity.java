package lmu.backend.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import lmu.amp.Autocast;
import lmu.amp.Precision;
import lmu.backend.Backends;
import lmu.backend.cpu.CpuBackend;
import lmu.tensor.DType;
import lmu.tensor.HalfFloats;
import lmu.tensor.Shape;
import lmu.tensor.Tensor;

/**
 * Parity of the mixed-precision side of {@link CudaBackend} against the CPU's emulation of it
 * ({@link HalfFloats} rounding, {@link Precision#round}): 16-bit storage and its transfers, the
 * device casts (bit for bit, special values included), fp16/bf16 products with fp32 accumulation
 * (tolerance {@link Tolerance#of(DType, DType)}), the ops that take 16-bit tensors, and a matrix
 * product under {@link Autocast} forward and backward. Registered in {@link CudaSelfTest#checks()}.
 */
final class HalfParity {
    private HalfParity() {}

    private static final CpuBackend CPU = CpuBackend.INSTANCE;
    private static final DType[] HALF = {DType.F16, DType.BF16};

    /** fp32 values that exercise every branch of the conversions (both formats). */
    static float[] specialValues() {
        return new float[] {0f, -0f, 1f, -1f, Float.NaN, Float.intBitsToFloat(0xFFC12345), Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY, 65504f, 65519f, 65520f, -65520f, 1e5f, Float.MAX_VALUE, 0x1p-14f, 0x1p-24f, 0x1p-25f,
            0x1.8p-25f, 0x1p-26f, -0x1.7p-20f, 1 + 0x1p-11f, 1 + 3 * 0x1p-11f, 1 + 0x1p-8f, 1 + 3 * 0x1p-8f, 0x1.0101p0f,
            Float.MIN_VALUE, Float.MIN_NORMAL, 3.14159265f, -2.71828f, 1e-30f, 0x1.fffffep127f};
    }

    static List<ParityCheck> all() {
        List<ParityCheck> c = new ArrayList<>();
        for (DType d : HALF) {
            String f = name(d);
            for (int n : new int[] {1, 127, 70001}) {
                c.add(ParityCheck.of("half " + f + " storage round trip " + n, p -> storage(p, d, n)));
                c.add(ParityCheck.of("half cast f32->" + f + "->f32 " + n, p -> cast(p, d, n)));
            }
            c.add(ParityCheck.of("half cast f32->" + f + " special values", p -> castSpecial(p, d)));
            c.add(ParityCheck.of("half " + f + " fill/addNew/addInPlace/sumAxes", p -> accumulate(p, d)));
        }
        c.add(ParityCheck.of("half cast f16<->bf16 1000", HalfParity::crossCast));
        int[][] products = { // batch, m, n, k, transA, transB, broadcastA, broadcastB, beta != 0
            {1, 1, 1, 1, 0, 0, 0, 0, 0}, {1, 3, 127, 33, 0, 0, 0, 0, 0}, {1, 127, 33, 1000, 1, 0, 0, 0, 0},
            {1, 31, 65, 129, 0, 1, 0, 0, 1}, {3, 17, 5, 33, 1, 1, 0, 0, 0}, {4, 33, 31, 7, 0, 0, 0, 1, 0},
            {2, 5, 129, 16, 0, 1, 1, 0, 1}, {6, 64, 64, 64, 0, 1, 0, 0, 0},
        };
        for (DType d : HALF) {
            for (DType out : new DType[] {DType.F32, d}) {
                for (int[] g : products) {
                    String name = String.format(Locale.ROOT, "half matmul %s->%s b%d m%d n%d k%d%s%s%s%s%s", name(d), name(out),
                            g[0], g[1], g[2], g[3], g[4] == 1 ? " tA" : "", g[5] == 1 ? " tB" : "", g[6] == 1 ? " bcA" : "",
                            g[7] == 1 ? " bcB" : "", g[8] == 1 ? " beta" : "");
                    c.add(ParityCheck.of(name + " cublas", p -> matmul(p, true, d, out, g)));
                }
                c.add(ParityCheck.of("half matmul " + name(d) + "->" + name(out) + " b3 m17 n5 k33 gemm.cu",
                        p -> matmul(p, false, d, out, new int[] {3, 17, 5, 33, 0, 0, 0, 0, 1})));
            }
        }
        for (Precision pr : new Precision[] {Precision.FP16, Precision.BF16}) {
            c.add(ParityCheck.of("half autocast " + pr.configName() + " matmul fwd+bwd vs CPU emulation",
                    p -> autocastMatmul(p, pr)));
        }
        return c;
    }

    private static String name(DType d) {
        return d.name().toLowerCase(Locale.ROOT);
    }

    /** The CPU emulation of storing x in format d: each value rounded (a new array). */
    static float[] rounded(DType d, float[] x) {
        float[] out = new float[x.length];
        (d == DType.F16 ? Precision.FP16 : Precision.BF16).round(x, 0, out, 0, x.length);
        return out;
    }

    /** Counts values whose bits differ (NaN matches any NaN); reports the first few. */
    private static void sameBits(ParityRun p, String what, float[] got, float[] ref) {
        int differ = 0;
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < ref.length; i++) {
            boolean same = Float.isNaN(ref[i]) ? Float.isNaN(got[i])
                    : Float.floatToRawIntBits(got[i]) == Float.floatToRawIntBits(ref[i]);
            if (!same && differ++ < 5) first.append(String.format(Locale.ROOT, " [%d] %s vs %s", i, got[i], ref[i]));
        }
        p.expect(differ == 0, what + ": " + differ + " of " + ref.length + " values differ from the host rounding:" + first);
        p.compare(what, got, ref, 1, Tolerance.F32); // counts the comparison, reports the worst error
    }

    private static void storage(ParityRun p, DType d, int n) {
        CudaBackend b = p.backend();
        float[] x = p.randn(n, 3);
        Tensor t = b.toDevice(Tensor.of(x, n), d);
        p.expect(t.dtype() == d, "dtype " + t.dtype());
        float[] want = rounded(d, x);
        sameBits(p, "toDevice/toHost", b.toHost(t).f32(), want);
        p.expect(t.get(n - 1) == want[n - 1], "element read " + t.get(n - 1) + " vs " + want[n - 1]);
        t.set(0.1, n / 2);
        float tenth = HalfFloats.decode(d, HalfFloats.encode(d, 0.1f));
        p.expect(t.get(n / 2) == tenth, "element write of 0.1 reads back " + t.get(n / 2) + ", expected " + tenth);
        Tensor copy = t.copy();
        p.expect(copy.dtype() == d, "copy dtype " + copy.dtype());
        t.set(7, 0);
        p.expect(copy.get(0) == (n / 2 == 0 ? tenth : want[0]), "copy() is independent of its source");
        CudaStorage s = (CudaStorage) t.storage();
        s.fromHost(x);
        sameBits(p, "fromHost", s.toHost(), want);
        CudaStorage like = (CudaStorage) s.like(n);
        p.expect(like.dtype() == d, "like() dtype " + like.dtype());
        sameBits(p, "like is zero", like.toHost(), new float[n]);
    }

    private static void cast(ParityRun p, DType d, int n) {
        CudaBackend b = p.backend();
        float[] x = p.randn(n, 100);
        for (int i = 0; i < n; i += 7) x[i] *= 1e-5f; // fp16 subnormals
        Tensor dx = b.toDevice(Tensor.of(x, n));
        Tensor h = b.empty(d, n);
        b.cast(h, dx);
        float[] want = rounded(d, x);
        sameBits(p, "f32->" + name(d), b.toHost(h).f32(), want);
        Tensor back = b.empty(DType.F32, n);
        b.cast(back, h);
        sameBits(p, name(d) + "->f32", b.toHost(back).f32(), want);
        p.compare("against f32 (" + name(d) + " rounding)", b.toHost(back).f32(), x, 1, Tolerance.of(d));
    }

    private static void castSpecial(ParityRun p, DType d) {
        CudaBackend b = p.backend();
        float[] x = specialValues();
        Tensor h = b.empty(d, x.length);
        b.cast(h, b.toDevice(Tensor.of(x, x.length)));
        sameBits(p, "special values", b.toHost(h).f32(), rounded(d, x));
        // the bits themselves, NaN payloads included: widen on the device and compare encodings
        Tensor w = b.empty(DType.F32, x.length);
        b.cast(w, h);
        float[] got = b.toHost(w).f32();
        int differ = 0;
        for (int i = 0; i < x.length; i++) {
            if (HalfFloats.encode(d, got[i]) != HalfFloats.encode(d, x[i])) differ++;
        }
        p.expect(differ == 0, differ + " 16-bit patterns differ from HalfFloats.encode");
    }

    private static void crossCast(ParityRun p) {
        CudaBackend b = p.backend();
        float[] x = p.randn(1000, 10);
        Tensor f16 = b.toDevice(Tensor.of(x, 1000), DType.F16);
        Tensor bf = b.empty(DType.BF16, 1000);
        b.cast(bf, f16);
        sameBits(p, "f16->bf16", b.toHost(bf).f32(), rounded(DType.BF16, rounded(DType.F16, x)));
        Tensor f16again = b.empty(DType.F16, 1000);
        b.cast(f16again, bf);
        sameBits(p, "bf16->f16", b.toHost(f16again).f32(), rounded(DType.F16, rounded(DType.BF16, rounded(DType.F16, x))));
    }

    private static void accumulate(ParityRun p, DType d) {
        CudaBackend b = p.backend();
        int rows = 33, cols = 129;
        float[] x = p.randn(rows * cols, 1), y = p.randn(rows * cols, 1);
        Tensor dx = b.toDevice(Tensor.of(x, rows, cols), d), dy = b.toDevice(Tensor.of(y, rows, cols), d);
        float[] hx = rounded(d, x), hy = rounded(d, y);
        float[] sum = new float[hx.length];
        for (int i = 0; i < sum.length; i++) sum[i] = hx[i] + hy[i];
        Tensor added = b.addNew(dx, dy);
        p.expect(added.dtype() == d, "addNew dtype " + added.dtype());
        sameBits(p, "addNew", b.toHost(added).f32(), rounded(d, sum)); // one rounding of an exact fp32 sum
        b.addInPlace(dx, dy);
        sameBits(p, "addInPlace", b.toHost(dx).f32(), rounded(d, sum));
        Tensor cpu = CPU.empty(DType.F32, 1, cols);
        CPU.sumAxes(cpu, Tensor.of(hy, rows, cols), new boolean[] {true, false});
        Tensor col = b.empty(d, 1, cols);
        b.sumAxes(col, dy, new boolean[] {true, false});
        p.compare("sumAxes to " + name(d), b.toHost(col).f32(), rounded(d, cpu.f32()), rows, Tolerance.of(d));
        Tensor col32 = b.empty(DType.F32, 1, cols);
        b.sumAxes(col32, dy, new boolean[] {true, false});
        p.compare("sumAxes to f32", b.toHost(col32).f32(), cpu.f32(), rows, Tolerance.F32);
        b.fill(dx, 1.0 / 3);
        float third = HalfFloats.decode(d, HalfFloats.encode(d, 1f / 3));
        float[] filled = b.toHost(dx).f32();
        float[] want = new float[filled.length];
        java.util.Arrays.fill(want, third);
        sameBits(p, "fill 1/3", filled, want);
    }

    /**
     * out = op(a)·op(b) + beta·out on the device with 16-bit operands of dtype d and a result of
     * dtype out, against the CPU product of the rounded operands (rounded again for a 16-bit result).
     */
    private static void matmul(ParityRun p, boolean cublas, DType d, DType outType, int[] g) {
        int batch = g[0], m = g[1], n = g[2], k = g[3];
        boolean tA = g[4] == 1, tB = g[5] == 1, bcA = g[6] == 1, bcB = g[7] == 1;
        double beta = g[8] == 1 ? 0.5 : 0;
        CudaBackend b = CudaBackend.on(p.ctx(), cublas, false);
        p.useBackend(b);
        if (cublas && !b.matmulUsesCublas()) {
            p.expect(false, "cuBLAS could not be loaded: " + b.matmulImplementation());
            return;
        }
        int[] sa = tA ? new int[] {bcA ? 1 : batch, k, m} : new int[] {bcA ? 1 : batch, m, k};
        int[] sb = tB ? new int[] {bcB ? 1 : batch, n, k} : new int[] {bcB ? 1 : batch, k, n};
        float[] a = rounded(d, p.randn(Shape.numel(sa), 1)), bb = rounded(d, p.randn(Shape.numel(sb), 1));
        float[] c0 = p.randn(batch * m * n, 1);
        if (outType != DType.F32) c0 = rounded(outType, c0);
        Tensor want = Tensor.of(c0.clone(), batch, m, n);
        CPU.matmul(want, Tensor.of(a, sa), Tensor.of(bb, sb), batch, m, n, k, tA, tB, bcA, bcB, beta);
        float[] ref = outType == DType.F32 ? want.f32() : rounded(outType, want.f32());
        Tensor got = b.toDevice(Tensor.of(c0, batch, m, n), outType);
        b.matmul(got, b.toDevice(Tensor.of(a, sa), d), b.toDevice(Tensor.of(bb, sb), d), batch, m, n, k, tA, tB, bcA, bcB, beta);
        p.expect(got.dtype() == outType, "result dtype " + got.dtype());
        p.compare("out (" + b.matmulImplementation() + ")", b.toHost(got).f32(), ref, k, Tolerance.of(d, outType));
    }

    /**
     * y = x·wᵀ + bias summed against a random cotangent, under the policy on the device (real 16-bit
     * operands) and on the CPU (rounding emulation): the result, dx, dw and dbias.
     */
    private static void autocastMatmul(ParityRun p, Precision pr) {
        int bsz = 3, t = 37, cin = 65, cout = 33;
        Tensor x = Tensor.of(p.randn(bsz * t * cin, 1), bsz, t, cin), w = Tensor.of(p.randn(cout * cin, 0.3), cout, cin);
        Tensor bias = Tensor.of(p.randn(cout, 0.1), cout), cot = Tensor.of(p.randn(bsz * t * cout, 1), bsz, t, cout);
        Tensor[] cpu = {x.copy().requiresGrad(true), w.copy().requiresGrad(true), bias.copy().requiresGrad(true)};
        Tensor yCpu;
        try (Autocast ac = Autocast.enable(pr)) {
            yCpu = cpu[0].matmul(cpu[1].transpose(0, 1)).add(cpu[2]);
        }
        yCpu.mul(cot).sum().backward();
        CudaBackend b = CudaBackend.on(p.ctx(), true, false);
        p.useBackend(b);
        Backends.registerCuda(b); // the ops find the backend of a cuda tensor there
        Tensor[] gpu = {b.toDevice(x).requiresGrad(true), b.toDevice(w).requiresGrad(true), b.toDevice(bias).requiresGrad(true)};
        Tensor yGpu;
        try (Autocast ac = Autocast.enable(pr)) {
            yGpu = gpu[0].matmul(gpu[1].transpose(0, 1)).add(gpu[2]);
        }
        p.expect(yGpu.dtype() == DType.F32, "the result of a product under the policy is f32 on the device, got " + yGpu.dtype());
        Tensor loss = yGpu.mul(b.toDevice(cot)).sum();
        loss.backward(b.toDevice(Tensor.full(DType.F32, 1, loss.shape())));
        Tolerance tol = Tolerance.of(pr.storage());
        p.compare("y", b.toHost(yGpu).f32(), yCpu.f32(), cin, tol);
        String[] names = {"dx", "dw", "dbias"};
        int[] lengths = {cout, bsz * t, bsz * t};
        for (int i = 0; i < 3; i++) {
            Tensor gg = gpu[i].grad();
            if (gg == null) {
                p.expect(false, names[i] + ": no gradient reached the cuda leaf");
                continue;
            }
            p.expect(gg.dtype() == DType.F32, names[i] + " dtype " + gg.dtype());
            // gradients are O(sqrt(length)): compare relative to that scale
            p.compare(names[i], b.toHost(gg).f32(), cpu[i].grad().f32(), lengths[i], tol);
        }
    }
}
