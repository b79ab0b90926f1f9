package lmu.backend.cuda;

import static lmu.backend.cuda.Tolerance.F32;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import lmu.backend.BinaryOp;
import lmu.backend.UnaryOp;
import lmu.backend.cpu.CpuBackend;
import lmu.tensor.DType;
import lmu.tensor.Shape;
import lmu.tensor.Tensor;

/**
 * One check per {@link lmu.backend.Backend} op, forward and backward: {@link CudaBackend} against
 * {@link CpuBackend} on the same random inputs, sizes chosen to include 1, odd values, values
 * just above and below multiples of 32 and thousands. Registered in {@link CudaSelfTest#checks()}.
 */
final class BackendParity {
    private BackendParity() {}

    private static final CpuBackend CPU = CpuBackend.INSTANCE;

    static List<ParityCheck> all() {
        List<ParityCheck> c = new ArrayList<>();
        c.add(ParityCheck.of("backend storage and transfers", BackendParity::storage));
        for (int n : new int[] {1, 127, 70001}) c.add(ParityCheck.of("backend fill/addInPlace/addNew/cast " + n, p -> basics(p, n)));
        int[][][] binaryShapes = {
            {{1000}, {1000}}, {{3, 127}, {3, 127}}, {{1000}, {1}}, {{4, 33}, {33}}, {{3, 1, 127}, {5, 1}},
            {{2, 1, 3}, {}}, {{1}, {7, 1, 33}}, {{2000, 1001}, {1001}}, // the last: several grid-stride passes
        };
        for (BinaryOp op : BinaryOp.values()) {
            for (int[][] s : binaryShapes) {
                c.add(ParityCheck.of("backend binary " + op + " " + str(s[0]) + " " + str(s[1]), p -> binary(p, op, s[0], s[1])));
            }
        }
        for (UnaryOp op : UnaryOp.values()) {
            for (int n : new int[] {1, 127, 4099, 2_000_003}) {
                if (n > 4099 && op != UnaryOp.GELU && op != UnaryOp.SIGMOID) continue; // grid-stride passes: two ops suffice
                c.add(ParityCheck.of("backend unary " + op + " " + n, p -> unary(p, op, n)));
            }
        }
        Object[][] sums = {
            {new int[] {1000}, new boolean[] {true}}, {new int[] {3, 127}, new boolean[] {true, false}},
            {new int[] {3, 127}, new boolean[] {false, true}}, {new int[] {2, 3, 5, 7}, new boolean[] {true, false, true, false}},
            {new int[] {127, 33}, new boolean[] {true, false}}, {new int[] {300, 130}, new boolean[] {true, false}},
            {new int[] {5, 1, 3}, new boolean[] {false, true, false}}, {new int[] {31, 33}, new boolean[] {true, true}},
            {new int[] {70001, 3}, new boolean[] {false, true}}, // more outputs than blocks: the grid-stride loop
        };
        for (Object[] s : sums) {
            int[] shape = (int[]) s[0];
            boolean[] reduce = (boolean[]) s[1];
            c.add(ParityCheck.of("backend sumAxes " + str(shape) + " " + Arrays.toString(reduce), p -> sumAxes(p, shape, reduce)));
        }
        int[][][] expands = {{{1, 127}, {3, 127}}, {{3, 1, 5}, {3, 4, 5}}, {{1}, {1000}}, {{33}, {2, 3, 33}}};
        for (int[][] e : expands) c.add(ParityCheck.of("backend expand " + str(e[0]) + " to " + str(e[1]), p -> expand(p, e[0], e[1])));
        Object[][] maxes = {{new int[] {3, 127}, 1}, {new int[] {1000}, 0}, {new int[] {2, 5, 7}, 1}, {new int[] {33, 2}, 0}};
        for (Object[] m : maxes) {
            int[] shape = (int[]) m[0];
            int axis = (Integer) m[1];
            c.add(ParityCheck.of("backend maxAxis fwd+bwd " + str(shape) + " axis " + axis, p -> maxAxis(p, shape, axis)));
        }
        c.add(ParityCheck.of("backend maxAxis NaN and ties", BackendParity::maxAxisSpecial));
        int[][] products = { // batch, m, n, k, transA, transB, broadcastA, broadcastB, beta != 0
            {1, 1, 1, 1, 0, 0, 0, 0, 0}, {1, 3, 127, 33, 0, 0, 0, 0, 0}, {1, 127, 33, 1000, 1, 0, 0, 0, 0},
            {1, 31, 65, 129, 0, 1, 0, 0, 1}, {3, 17, 5, 33, 1, 1, 0, 0, 0}, {4, 33, 31, 7, 0, 0, 0, 1, 0},
            {2, 5, 129, 16, 0, 1, 1, 0, 1},
        };
        for (int[] g : products) {
            String name = "matmul b" + g[0] + " m" + g[1] + " n" + g[2] + " k" + g[3] + (g[4] == 1 ? " tA" : "")
                    + (g[5] == 1 ? " tB" : "") + (g[6] == 1 ? " bcA" : "") + (g[7] == 1 ? " bcB" : "") + (g[8] == 1 ? " beta" : "");
            c.add(ParityCheck.of("backend " + name + " cublas", p -> matmul(p, true, g)));
            c.add(ParityCheck.of("backend " + name + " gemm.cu", p -> matmul(p, false, g)));
        }
        int[][][] perms = {{{2, 3, 5}, {2, 0, 1}}, {{127, 33}, {1, 0}}, {{1, 4, 1, 6}, {3, 1, 0, 2}}, {{1000}, {0}}};
        for (int[][] pm : perms) c.add(ParityCheck.of("backend permute " + str(pm[0]) + " " + str(pm[1]), p -> permute(p, pm[0], pm[1])));
        c.add(ParityCheck.of("backend copyAlongAxis slice/pad/accumulate", BackendParity::copyAlongAxis));
        Object[][] softmaxes = {{new int[] {13, 29}, 1}, {new int[] {3, 5, 7}, 1}, {new int[] {1, 1000}, 1}, {new int[] {1, 1}, 0},
            {new int[] {7, 3}, 0}};
        for (Object[] s : softmaxes) {
            int[] shape = (int[]) s[0];
            int axis = (Integer) s[1];
            for (boolean log : new boolean[] {false, true}) {
                c.add(ParityCheck.of("backend " + (log ? "log-softmax" : "softmax") + " fwd+bwd " + str(shape) + " axis " + axis,
                        p -> softmax(p, shape, axis, log)));
            }
        }
        c.add(ParityCheck.of("backend softmax rows with -inf", BackendParity::softmaxMasked));
        for (int[] shape : new int[][] {{3, 127}, {2, 5, 33}, {1, 1}, {4, 1000}}) {
            c.add(ParityCheck.of("backend layerNorm fwd+bwd " + str(shape), p -> layerNorm(p, shape, true)));
        }
        c.add(ParityCheck.of("backend layerNorm fwd+bwd no w/b 3x127", p -> layerNorm(p, new int[] {3, 127}, false)));
        for (int n : new int[] {1, 1000, 70001}) {
            for (double prob : new double[] {0.1, 0.5}) {
                c.add(ParityCheck.of("backend dropout " + n + " p " + prob, p -> dropout(p, n, prob)));
            }
        }
        Object[][] masks = {{new int[] {3, 5, 7}, new int[] {3, 1, 7}}, {new int[] {3, 5, 7}, new int[] {7}},
            {new int[] {1000}, new int[] {1000}}, {new int[] {2, 33}, new int[] {}}};
        for (Object[] m : masks) {
            int[] shape = (int[]) m[0];
            int[] maskShape = (int[]) m[1];
            c.add(ParityCheck.of("backend maskedFill " + str(shape) + " mask " + str(maskShape), p -> maskedFill(p, shape, maskShape)));
        }
        int[][] convs = { // B, T, Cin, Cout, K, stride, padding, bias
            {2, 13, 3, 5, 3, 1, 1, 1}, {1, 1, 1, 1, 1, 1, 0, 0}, {3, 33, 4, 7, 4, 2, 0, 1}, {2, 100, 8, 16, 5, 3, 2, 1},
        };
        for (int[] g : convs) {
            c.add(ParityCheck.of("backend conv1d fwd+bwd B" + g[0] + " T" + g[1] + " Cin" + g[2] + " Cout" + g[3] + " K" + g[4]
                    + " s" + g[5] + " p" + g[6] + (g[7] == 1 ? " bias" : ""), p -> conv1d(p, g)));
        }
        c.add(ParityCheck.of("autograd graph of ops through Backends", BackendParity::autograd));
        return c;
    }

    /**
     * A small model-like graph of {@code lmu.ops} on x (3, 5, 7), w (7, 11), b (11), ln (11): matmul,
     * broadcast add, GELU, layer norm, permute, slice, pad, concat, masked fill, log-softmax, tanh,
     * max, dropout, sigmoid, sums and means; a scalar. Device-agnostic: the ops pick the backend.
     */
    static Tensor autogradGraph(Tensor x, Tensor w, Tensor b, Tensor ln) {
        Tensor h = x.matmul(w).add(b).gelu();                                      // (3, 5, 11)
        Tensor n = lmu.ops.LayerNorm.apply(h, ln, b, 1e-5);                         // (3, 5, 11)
        Tensor t = n.permute(0, 2, 1).slice(2, 1, 4).pad(2, 1, 0, 0.0);             // (3, 11, 4)
        Tensor cat = lmu.ops.Concat.apply(1, t, t.mul(0.5));                        // (3, 22, 4)
        boolean[] mask = new boolean[22];
        for (int i = 0; i < 22; i += 3) mask[i] = true;
        Tensor masked = lmu.ops.MaskedFill.apply(cat, mask, new int[] {1, 22, 1}, -3); // moderate: keeps gradients O(1)
        Tensor s = masked.logSoftmax(1).mul(cat.tanh()).sum(1, false);              // (3, 4)
        Tensor peak = lmu.ops.Dropout.apply(h, 0.25, 1234).max(2, false).sum();     // ()
        return s.mean().add(peak.mul(0.1)).sub(x.sigmoid().mean());
    }

    private static void autograd(ParityRun p) {
        Tensor x = randn(p, 1, 3, 5, 7), w = randn(p, 0.5, 7, 11), b = randn(p, 0.1, 11), ln = randn(p, 1, 11);
        Tensor[] cpu = {x.copy().requiresGrad(true), w.copy().requiresGrad(true), b.copy().requiresGrad(true),
            ln.copy().requiresGrad(true)};
        Tensor lossCpu = autogradGraph(cpu[0], cpu[1], cpu[2], cpu[3]);
        lossCpu.backward();
        // full fp32 products: with TF32 a near-tie in the max could pick another index than the CPU
        p.useBackend(CudaBackend.on(p.ctx(), true, false));
        lmu.backend.Backends.registerCuda(p.backend()); // the ops find the backend of a cuda tensor there
        Tensor[] gpu = new Tensor[4];
        for (int i = 0; i < 4; i++) gpu[i] = gpu(p, new Tensor[] {x, w, b, ln}[i]).requiresGrad(true);
        Tensor lossGpu = autogradGraph(gpu[0], gpu[1], gpu[2], gpu[3]);
        lossGpu.backward(p.backend().toDevice(Tensor.full(DType.F32, 1, lossGpu.shape())));
        Tolerance tol = p.backend().matmulTolerance();
        same(p, "loss", lossGpu, lossCpu, 7, tol);
        String[] names = {"dx", "dw", "db", "dln"};
        for (int i = 0; i < 4; i++) {
            if (gpu[i].grad() == null) {
                p.expect(false, names[i] + ": no gradient reached the cuda leaf");
                continue;
            }
            same(p, names[i], gpu[i].grad(), cpu[i].grad(), 15, tol);
        }
    }

    private static String str(int[] shape) {
        return Shape.str(shape).replace(" ", "");
    }

    // ---------------------------------------------------------------- helpers

    private static Tensor randn(ParityRun p, double scale, int... shape) {
        return Tensor.of(p.randn(Shape.numel(shape), scale), shape);
    }

    private static Tensor uniform(ParityRun p, double lo, double hi, int... shape) {
        return Tensor.of(p.uniform(Shape.numel(shape), lo, hi), shape);
    }

    private static Tensor gpu(ParityRun p, Tensor host) {
        return p.backend().toDevice(host);
    }

    private static Tensor gpuEmpty(ParityRun p, int... shape) {
        return p.backend().empty(DType.F32, shape);
    }

    private static void same(ParityRun p, String what, Tensor gpu, Tensor cpu, int n, Tolerance tol) {
        if (!Arrays.equals(gpu.shape(), cpu.shape())) {
            p.expect(false, what + ": shape " + Arrays.toString(gpu.shape()) + ", reference " + Arrays.toString(cpu.shape()));
            return;
        }
        p.compare(what, p.backend().toHost(gpu).f32(), cpu.f32(), n, tol);
    }

    // ---------------------------------------------------------------- checks

    private static void storage(ParityRun p) {
        CudaBackend b = p.backend();
        for (int n : new int[] {1, 1000, 70001}) {
            Tensor host = randn(p, 1, n);
            Tensor d = gpu(p, host);
            p.compare("round trip " + n, b.toHost(d).f32(), host.f32(), 1, F32);
            p.expect(d.get(n - 1) == host.f32()[n - 1], "element read " + d.get(n - 1) + " vs " + host.f32()[n - 1]);
            d.set(2.5, n / 2);
            p.expect(d.get(n / 2) == 2.5, "element write then read gives " + d.get(n / 2));
            Tensor copy = d.copy();
            d.set(-1, 0);
            p.expect(copy.get(0) == (n / 2 == 0 ? 2.5 : host.f32()[0]), "copy() is independent of its source");
            p.expect(d.device().equals(b.device()) && copy.device().equals(b.device()), "device of a copy: " + copy.device());
        }
        Tensor z = b.empty(DType.F32, 3, 5);
        p.compare("empty is zero", b.toHost(z).f32(), new float[15], 1, F32);
        CudaStorage s = (CudaStorage) z.storage();
        p.compare("like is zero", ((CudaStorage) s.like(7)).toHost(), new float[7], 1, F32);
        s.fromHost(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
        p.expect(z.get(2, 4) == 15 && z.get(1, 0) == 6, "fromHost then indexed get: " + z);
    }

    private static void basics(ParityRun p, int n) {
        Tensor a = randn(p, 1, n), g = randn(p, 1, n);
        Tensor da = gpu(p, a), dg = gpu(p, g);
        Tensor sum = p.backend().addNew(da, dg);
        Tensor want = CPU.addNew(a, g);
        same(p, "addNew", sum, want, 1, F32);
        p.backend().addInPlace(da, dg);
        CPU.addInPlace(a, g);
        same(p, "addInPlace", da, a, 1, F32);
        Tensor cast = gpuEmpty(p, n);
        p.backend().cast(cast, da);
        same(p, "cast", cast, a, 1, F32);
        p.backend().fill(da, -0.75);
        CPU.fill(a, -0.75);
        same(p, "fill", da, a, 1, F32);
    }

    private static void binary(ParityRun p, BinaryOp op, int[] sa, int[] sb) {
        int[] out = Shape.broadcast(sa, sb, "binary");
        Tensor a = randn(p, 1, sa);
        Tensor b = op == BinaryOp.DIV ? uniform(p, 0.5, 2, sb) : randn(p, 1, sb);
        Tensor y = CPU.empty(DType.F32, out);
        CPU.binary(op, y, a, b);
        Tensor da = gpu(p, a), db = gpu(p, b), dy = gpuEmpty(p, out);
        p.backend().binary(op, dy, da, db);
        same(p, "out", dy, y, 1, F32);
        Tensor g = randn(p, 1, out);
        Tensor dg = gpu(p, g);
        for (int wrt = 0; wrt < 2; wrt++) {
            int[] target = wrt == 0 ? sa : sb;
            Tensor want = CPU.empty(DType.F32, target);
            CPU.binaryBackward(op, wrt, want, a, b, g);
            Tensor got = gpuEmpty(p, target);
            p.backend().binaryBackward(op, wrt, got, da, db, dg);
            same(p, wrt == 0 ? "da" : "db", got, want, Shape.numel(out) / Math.max(1, Shape.numel(target)), F32);
        }
    }

    private static void unary(ParityRun p, UnaryOp op, int n) {
        double param = op == UnaryOp.SCALE ? 0.7 : op == UnaryOp.ADD_SCALAR ? -1.3 : 0;
        Tensor x = op == UnaryOp.LOG ? uniform(p, 0.1, 3, n) : randn(p, 2, n);
        Tensor y = CPU.empty(DType.F32, n);
        CPU.unary(op, y, x, param);
        Tensor dx = gpu(p, x), dy = gpuEmpty(p, n);
        p.backend().unary(op, dy, dx, param);
        same(p, "y", dy, y, 1, F32);
        Tensor g = randn(p, 1, n);
        Tensor want = CPU.empty(DType.F32, n);
        CPU.unaryBackward(op, want, x, y, g, param);
        Tensor got = gpuEmpty(p, n);
        p.backend().unaryBackward(op, got, dx, dy, gpu(p, g), param);
        same(p, "dx", got, want, 1, F32);
    }

    private static void sumAxes(ParityRun p, int[] shape, boolean[] reduce) {
        int[] outShape = shape.clone();
        int len = 1;
        for (int i = 0; i < shape.length; i++) {
            if (reduce[i]) {
                outShape[i] = 1;
                len *= shape[i];
            }
        }
        Tensor x = randn(p, 1, shape);
        Tensor want = CPU.empty(DType.F32, outShape);
        CPU.sumAxes(want, x, reduce);
        Tensor got = gpuEmpty(p, outShape);
        p.backend().sumAxes(got, gpu(p, x), reduce);
        same(p, "sum", got, want, len, F32);
    }

    private static void expand(ParityRun p, int[] from, int[] to) {
        Tensor x = randn(p, 1, from);
        Tensor want = CPU.empty(DType.F32, to);
        CPU.expand(want, x, 0.5);
        Tensor got = gpuEmpty(p, to);
        p.backend().expand(got, gpu(p, x), 0.5);
        same(p, "expanded", got, want, 1, F32);
    }

    private static void maxAxis(ParityRun p, int[] shape, int axis) {
        maxAxisOn(p, randn(p, 1, shape), axis);
    }

    private static void maxAxisOn(ParityRun p, Tensor x, int axis) {
        int[] outShape = x.shape();
        int n = outShape[axis];
        outShape[axis] = 1;
        int total = Shape.numel(outShape);
        Tensor want = CPU.empty(DType.F32, outShape);
        int[] wantArg = new int[total];
        CPU.maxAxis(want, wantArg, x, axis);
        Tensor got = gpuEmpty(p, outShape);
        int[] gotArg = new int[total];
        Tensor dx = gpu(p, x);
        p.backend().maxAxis(got, gotArg, dx, axis);
        same(p, "max", got, want, 1, F32);
        p.expect(Arrays.equals(gotArg, wantArg), "argmax " + head(gotArg) + ", reference " + head(wantArg));
        Tensor g = randn(p, 1, outShape);
        Tensor wantDx = CPU.empty(DType.F32, x.shape());
        CPU.maxAxisBackward(wantDx, wantArg, g, axis);
        Tensor gotDx = gpuEmpty(p, x.shape());
        p.backend().maxAxisBackward(gotDx, wantArg, gpu(p, g), axis);
        same(p, "dx", gotDx, wantDx, 1, F32);
        p.expect(n > 0, "non-empty axis");
    }

    private static String head(int[] a) {
        return Arrays.toString(Arrays.copyOf(a, Math.min(a.length, 8))) + (a.length > 8 ? "..." : "");
    }

    private static void maxAxisSpecial(ParityRun p) {
        // ties pick the first index; a NaN wins (first NaN after position 0)
        float nan = Float.NaN;
        Tensor x = Tensor.of(new float[] {1, 3, 3, 2, nan, 5, 1, nan, 0, nan, 2, nan, 4, 4, 4, 4}, 4, 4);
        maxAxisOn(p, x, 1);
        maxAxisOn(p, x, 0);
    }

    private static void matmul(ParityRun p, boolean cublas, int[] g) {
        p.useBackend(CudaBackend.on(p.ctx(), cublas));
        CudaBackend b = p.backend();
        if (cublas && !b.matmulUsesCublas()) {
            p.expect(false, "cuBLAS is not in use: " + b.matmulImplementation());
            return;
        }
        int batch = g[0], m = g[1], n = g[2], k = g[3];
        boolean transA = g[4] == 1, transB = g[5] == 1, bcA = g[6] == 1, bcB = g[7] == 1;
        double beta = g[8] == 1 ? 0.5 : 0;
        int ba = bcA ? 1 : batch, bb = bcB ? 1 : batch;
        Tensor a = randn(p, 1, ba, transA ? k : m, transA ? m : k);
        Tensor bm = randn(p, 1, bb, transB ? n : k, transB ? k : n);
        Tensor c = randn(p, 1, batch, m, n);
        Tensor dc = gpu(p, c);
        CPU.matmul(c, a, bm, batch, m, n, k, transA, transB, bcA, bcB, beta);
        b.matmul(dc, gpu(p, a), gpu(p, bm), batch, m, n, k, transA, transB, bcA, bcB, beta);
        same(p, "out (" + b.matmulImplementation() + ")", dc, c, k, b.matmulTolerance());
    }

    private static void permute(ParityRun p, int[] shape, int[] axes) {
        Tensor x = randn(p, 1, shape);
        int[] outShape = new int[axes.length];
        for (int i = 0; i < axes.length; i++) outShape[i] = shape[axes[i]];
        Tensor want = CPU.empty(DType.F32, outShape);
        CPU.permute(want, x, axes);
        Tensor got = gpuEmpty(p, outShape);
        p.backend().permute(got, gpu(p, x), axes);
        same(p, "permuted", got, want, 1, F32);
    }

    private static void copyAlongAxis(ParityRun p) {
        Tensor src = randn(p, 1, 3, 10, 7);
        Tensor dsrc = gpu(p, src);
        // slice [2, 7) of axis 1
        Tensor want = CPU.empty(DType.F32, 3, 5, 7);
        CPU.copyAlongAxis(want, 0, src, 2, 5, 1, false);
        Tensor got = gpuEmpty(p, 3, 5, 7);
        p.backend().copyAlongAxis(got, 0, dsrc, 2, 5, 1, false);
        same(p, "slice", got, want, 1, F32);
        // pad: into [1, 11) of 12, the rest filled with 9
        Tensor padW = Tensor.full(DType.F32, 9, 3, 12, 7);
        CPU.copyAlongAxis(padW, 1, src, 0, 10, 1, false);
        Tensor padG = gpuEmpty(p, 3, 12, 7);
        p.backend().fill(padG, 9);
        p.backend().copyAlongAxis(padG, 1, dsrc, 0, 10, 1, false);
        same(p, "pad", padG, padW, 1, F32);
        // accumulate the last axis' [4, 7) into [0, 3) of a random tensor (a slice's backward)
        Tensor acc = randn(p, 1, 3, 10, 3);
        Tensor dacc = gpu(p, acc);
        CPU.copyAlongAxis(acc, 0, src, 4, 3, 2, true);
        p.backend().copyAlongAxis(dacc, 0, dsrc, 4, 3, 2, true);
        same(p, "accumulate", dacc, acc, 2, F32);
        // concat along axis 0
        Tensor cat = CPU.empty(DType.F32, 6, 10, 7);
        Tensor dcat = gpuEmpty(p, 6, 10, 7);
        for (int part = 0; part < 2; part++) {
            CPU.copyAlongAxis(cat, 3 * part, src, 0, 3, 0, false);
            p.backend().copyAlongAxis(dcat, 3 * part, dsrc, 0, 3, 0, false);
        }
        same(p, "concat", dcat, cat, 1, F32);
    }

    private static void softmax(ParityRun p, int[] shape, int axis, boolean log) {
        softmaxOn(p, randn(p, 3, shape), axis, log);
    }

    private static void softmaxOn(ParityRun p, Tensor x, int axis, boolean log) {
        int[] shape = x.shape();
        int n = shape[axis];
        Tensor y = CPU.empty(DType.F32, shape);
        CPU.softmax(y, x, axis, log);
        Tensor dy = gpuEmpty(p, shape);
        p.backend().softmax(dy, gpu(p, x), axis, log);
        same(p, log ? "log-softmax" : "softmax", dy, y, n, F32);
        Tensor g = randn(p, 1, shape);
        Tensor want = CPU.empty(DType.F32, shape);
        CPU.softmaxBackward(want, y, g, axis, log);
        Tensor got = gpuEmpty(p, shape);
        p.backend().softmaxBackward(got, dy, gpu(p, g), axis, log);
        same(p, "dx", got, want, n, F32);
    }

    private static void softmaxMasked(ParityRun p) {
        // row 0 partly masked, row 1 fully masked (softmax gives zeros, log-softmax NaN, as the CPU)
        float inf = Float.NEGATIVE_INFINITY;
        Tensor x = Tensor.of(new float[] {inf, 1, 2, inf, 0.5f, inf, inf, inf, inf, inf, 3, -1, 0, 2, 1}, 3, 5);
        Tensor y = CPU.empty(DType.F32, 3, 5);
        Tensor dy = gpuEmpty(p, 3, 5);
        Tensor dx = gpu(p, x);
        for (boolean log : new boolean[] {false, true}) {
            CPU.softmax(y, x, 1, log);
            p.backend().softmax(dy, dx, 1, log);
            same(p, log ? "log-softmax" : "softmax", dy, y, 5, F32);
        }
    }

    private static void layerNorm(ParityRun p, int[] shape, boolean affine) {
        int c = shape[shape.length - 1];
        int rows = Shape.numel(shape) / c;
        Tensor x = randn(p, 2, shape);
        Tensor w = affine ? randn(p, 1, c) : null, b = affine ? randn(p, 1, c) : null;
        Tensor y = CPU.empty(DType.F32, shape), mean = CPU.empty(DType.F32, rows), rstd = CPU.empty(DType.F32, rows);
        CPU.layerNorm(y, mean, rstd, x, w, b, 1e-5);
        Tensor dx = gpu(p, x), dw = affine ? gpu(p, w) : null, db = affine ? gpu(p, b) : null;
        Tensor gy = gpuEmpty(p, shape), gmean = gpuEmpty(p, rows), grstd = gpuEmpty(p, rows);
        p.backend().layerNorm(gy, gmean, grstd, dx, dw, db, 1e-5);
        same(p, "y", gy, y, c, F32);
        same(p, "mean", gmean, mean, c, F32);
        same(p, "rstd", grstd, rstd, c, F32);
        Tensor g = randn(p, 1, shape);
        Tensor wantDx = CPU.empty(DType.F32, shape);
        Tensor wantDw = randn(p, 1, c), wantDb = randn(p, 1, c); // existing gradients: accumulated onto
        Tensor gotDw = gpu(p, wantDw), gotDb = gpu(p, wantDb);
        Tensor gotDx = gpuEmpty(p, shape);
        CPU.layerNormBackward(wantDx, wantDw, wantDb, g, x, mean, rstd, w);
        p.backend().layerNormBackward(gotDx, gotDw, gotDb, gpu(p, g), dx, gmean, grstd, dw);
        same(p, "dx", gotDx, wantDx, c, F32);
        same(p, "dw", gotDw, wantDw, rows, F32);
        same(p, "db", gotDb, wantDb, rows, F32);
    }

    private static void dropout(ParityRun p, int n, double prob) {
        long seed = 0x5DEECE66DL * n + (long) (prob * 1000);
        Tensor x = randn(p, 1, n);
        for (int i = 0; i < n; i++) if (x.f32()[i] == 0) x.f32()[i] = 1; // a zero input would hide a mask difference
        Tensor want = CPU.empty(DType.F32, n);
        CPU.dropout(want, x, prob, seed);
        Tensor got = gpuEmpty(p, n);
        p.backend().dropout(got, gpu(p, x), prob, seed);
        float[] g = p.backend().toHost(got).f32(), w = want.f32();
        int differ = 0, first = -1;
        for (int i = 0; i < n; i++) {
            if ((g[i] == 0) != (w[i] == 0)) {
                differ++;
                if (first < 0) first = i;
            }
        }
        p.expect(differ == 0, "mask differs from the CPU's at " + differ + " of " + n + " positions, first " + first);
        p.compare("out", g, w, 1, F32);
    }

    private static void maskedFill(ParityRun p, int[] shape, int[] maskShape) {
        Tensor x = randn(p, 1, shape);
        boolean[] mask = new boolean[Shape.numel(maskShape)];
        for (int i = 0; i < mask.length; i++) mask[i] = p.random().nextBoolean();
        for (double value : new double[] {-1e4, Double.NEGATIVE_INFINITY}) {
            Tensor want = CPU.empty(DType.F32, shape);
            CPU.maskedFill(want, x, mask, maskShape, value);
            Tensor got = gpuEmpty(p, shape);
            p.backend().maskedFill(got, gpu(p, x), mask, maskShape, value);
            same(p, "filled with " + value, got, want, 1, F32);
        }
    }

    private static void conv1d(ParityRun p, int[] g) {
        int bsz = g[0], t = g[1], cin = g[2], cout = g[3], k = g[4], stride = g[5], padding = g[6];
        boolean withBias = g[7] == 1;
        int tOut = (t + 2 * padding - k) / stride + 1;
        Tolerance tol = p.backend().matmulTolerance();
        Tensor x = randn(p, 1, bsz, t, cin), w = randn(p, 1, cout, cin, k), b = withBias ? randn(p, 1, cout) : null;
        Tensor y = CPU.empty(DType.F32, bsz, tOut, cout);
        CPU.conv1d(y, x, w, b, stride, padding);
        Tensor dx = gpu(p, x), dw = gpu(p, w), db = withBias ? gpu(p, b) : null;
        Tensor gy = gpuEmpty(p, bsz, tOut, cout);
        p.backend().conv1d(gy, dx, dw, db, stride, padding);
        same(p, "y (" + p.backend().matmulImplementation() + ")", gy, y, cin * k, tol);
        Tensor dOut = randn(p, 1, bsz, tOut, cout);
        Tensor wantDx = CPU.empty(DType.F32, bsz, t, cin);
        Tensor wantDw = randn(p, 1, cout, cin, k), wantDb = randn(p, 1, cout); // accumulated onto
        Tensor gotDw = gpu(p, wantDw), gotDb = gpu(p, wantDb), gotDx = gpuEmpty(p, bsz, t, cin);
        CPU.conv1dBackward(wantDx, wantDw, wantDb, dOut, x, w, stride, padding);
        p.backend().conv1dBackward(gotDx, gotDw, gotDb, gpu(p, dOut), dx, dw, stride, padding);
        same(p, "dx", gotDx, wantDx, cout * k, tol);
        same(p, "dWeight", gotDw, wantDw, bsz * tOut, tol);
        same(p, "dBias", gotDb, wantDb, bsz * tOut, F32);
    }
}
