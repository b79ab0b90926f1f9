package lmu.backend.cpu;

import lmu.backend.Backend;
import lmu.backend.BinaryOp;
import lmu.backend.UnaryOp;
import lmu.tensor.DType;
import lmu.tensor.F32Storage;
import lmu.tensor.F64Storage;
import lmu.tensor.Shape;
import lmu.tensor.Storage;
import lmu.tensor.Tensor;
import lmu.util.Parallel;
import lmu.util.Rng;

/**
 * The reference implementation of every kernel: scalar loops over {@link Storage}, parallel over
 * rows for large tensors, reductions accumulated in double. Matrix products go to {@link Gemm}.
 */
public final class CpuBackend implements Backend {
    public static final CpuBackend INSTANCE = new CpuBackend();

    /** Below this many elements a loop runs on the calling thread. */
    private static final int PARALLEL_MIN = 1 << 15;

    private static final double GELU_SCALE = Math.sqrt(2 / Math.PI);

    private CpuBackend() {}

    @Override
    public Tensor empty(DType dtype, int... shape) {
        return Tensor.zeros(dtype, shape);
    }

    @Override
    public void fill(Tensor t, double value) {
        t.storage().fill(value);
    }

    @Override
    public void addInPlace(Tensor acc, Tensor g) {
        Storage a = acc.storage();
        Storage b = g.storage();
        if (a instanceof F32Storage fa && b instanceof F32Storage fb) {
            CpuFloatKernels.addInPlace(fa.data(), fb.data());
        } else {
            for (int i = 0; i < a.size(); i++) a.add(i, b.get(i));
        }
    }

    @Override
    public Tensor addNew(Tensor a, Tensor b) {
        if (a.storage() instanceof F32Storage fa && b.storage() instanceof F32Storage fb && fa.size() == fb.size()) {
            Tensor out = empty(DType.F32, a.shape());
            CpuFloatKernels.elementwise(BinaryOp.ADD, out.f32(), fa.data(), fb.data());
            return out;
        }
        Tensor out = a.copy();
        addInPlace(out, b);
        return out;
    }

    // ------------------------------------------------------------------ elementwise

    /** Runs body(row) over rows of length {@code inner} covering n elements, in parallel when large. */
    private static void rows(int n, int inner, java.util.function.IntConsumer body) {
        int rows = inner == 0 ? 0 : n / inner;
        if (n < PARALLEL_MIN || rows < 2) {
            for (int r = 0; r < rows; r++) body.accept(r);
        } else {
            Parallel.forRange(rows, body);
        }
    }

    /** Offset of row {@code row} (all dimensions but the last) under {@code strides}. */
    private static int rowOffset(int row, int[] shape, int[] strides) {
        int off = 0;
        for (int d = shape.length - 2; d >= 0; d--) {
            int idx = row % shape[d];
            row /= shape[d];
            off += idx * strides[d];
        }
        return off;
    }

    private static int[] atLeast1d(int[] shape) {
        return shape.length == 0 ? new int[] {1} : shape;
    }

    private static double apply(BinaryOp op, double x, double y) {
        return switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> x / y;
        };
    }

    @Override
    public void binary(BinaryOp op, Tensor out, Tensor a, Tensor b) {
        if (out.storage() instanceof F32Storage o32 && a.storage() instanceof F32Storage a32 && b.storage() instanceof F32Storage b32
                && a.numel() == out.numel() && out.numel() % Math.max(1, b.numel()) == 0 && trailing(b.shape(), out.shape())) {
            CpuFloatKernels.binaryRepeating(op, o32.data(), a32.data(), b32.data());
            return;
        }
        int[] shape = atLeast1d(out.shape());
        int[] sa = Shape.broadcastStrides(a.shape(), shape);
        int[] sb = Shape.broadcastStrides(b.shape(), shape);
        Storage o = out.storage(), x = a.storage(), y = b.storage();
        int inner = shape[shape.length - 1];
        int ia = sa[sa.length - 1], ib = sb[sb.length - 1];
        rows(out.numel(), inner, r -> {
            int ao = rowOffset(r, shape, sa), bo = rowOffset(r, shape, sb), oo = r * inner;
            for (int j = 0; j < inner; j++) o.set(oo + j, apply(op, x.get(ao + j * ia), y.get(bo + j * ib)));
        });
    }

    @Override
    public void binaryBackward(BinaryOp op, int wrt, Tensor out, Tensor a, Tensor b, Tensor dOut) {
        int[] shape = atLeast1d(dOut.shape());
        Tensor target = wrt == 0 ? a : b;
        Tensor full;
        if ((op == BinaryOp.ADD || (op == BinaryOp.SUB && wrt == 0))) {
            full = dOut;
        } else if (op == BinaryOp.SUB) {
            full = empty(dOut.dtype(), dOut.shape());
            unary(UnaryOp.SCALE, full, dOut, -1);
        } else {
            full = empty(dOut.dtype(), dOut.shape());
            int[] sa = Shape.broadcastStrides(a.shape(), shape);
            int[] sb = Shape.broadcastStrides(b.shape(), shape);
            Storage f = full.storage(), x = a.storage(), y = b.storage(), g = dOut.storage();
            int inner = shape[shape.length - 1];
            int ia = sa[sa.length - 1], ib = sb[sb.length - 1];
            rows(dOut.numel(), inner, r -> {
                int ao = rowOffset(r, shape, sa), bo = rowOffset(r, shape, sb), oo = r * inner;
                for (int j = 0; j < inner; j++) {
                    double av = x.get(ao + j * ia), bv = y.get(bo + j * ib), gv = g.get(oo + j);
                    double v;
                    if (op == BinaryOp.MUL) v = wrt == 0 ? gv * bv : gv * av;
                    else v = wrt == 0 ? gv / bv : -gv * av / (bv * bv);
                    f.set(oo + j, v);
                }
            });
        }
        reduceTo(out, full, target.shape());
    }

    /** Whether {@code small} equals the trailing dimensions of {@code big} (after dropping leading 1s). */
    private static boolean trailing(int[] small, int[] big) {
        int lead = 0;
        while (lead < small.length && small[lead] == 1) lead++;
        int n = small.length - lead;
        if (n > big.length) return false;
        for (int i = 0; i < n; i++) if (small[lead + i] != big[big.length - n + i]) return false;
        return true;
    }

    /** out (shape {@code targetShape}) = full summed over the axes it was broadcast along. */
    private void reduceTo(Tensor out, Tensor full, int[] targetShape) {
        int[] fs = full.shape();
        int[] padded = new int[fs.length];
        int shift = fs.length - targetShape.length;
        boolean[] reduce = new boolean[fs.length];
        boolean any = false;
        for (int i = 0; i < fs.length; i++) {
            padded[i] = i < shift ? 1 : targetShape[i - shift];
            reduce[i] = padded[i] == 1 && fs[i] != 1;
            any |= reduce[i];
        }
        if (!any) {
            copyInto(out, full);
            return;
        }
        sumAxes(new Tensor(out.storage(), padded), full, reduce);
    }

    private static void copyInto(Tensor out, Tensor src) {
        Storage o = out.storage(), s = src.storage();
        if (o instanceof F32Storage fo && s instanceof F32Storage fs) {
            System.arraycopy(fs.data(), 0, fo.data(), 0, fo.size());
        } else {
            for (int i = 0; i < o.size(); i++) o.set(i, s.get(i));
        }
    }

    private static double gelu(double x) {
        return 0.5 * x * (1 + Math.tanh(GELU_SCALE * (x + 0.044715 * x * x * x)));
    }

    /** d GELU / dx of the tanh approximation (shared with the float32 fused kernels). */
    static double geluGrad(double x) {
        double t = Math.tanh(GELU_SCALE * (x + 0.044715 * x * x * x));
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_SCALE * (1 + 3 * 0.044715 * x * x);
    }

    /** Runs body(lo, hi) over [0, n) split into one chunk per thread when n is large. */
    private static void chunks(int n, ChunkBody body) {
        int parts = n < PARALLEL_MIN ? 1 : Parallel.threads();
        if (parts == 1) {
            body.run(0, n);
            return;
        }
        Parallel.forRange(parts, p -> body.run((int) ((long) n * p / parts), (int) ((long) n * (p + 1) / parts)));
    }

    @FunctionalInterface
    private interface ChunkBody {
        void run(int lo, int hi);
    }

    private static double unaryValue(UnaryOp op, double v, double param) {
        return switch (op) {
            case SCALE -> v * param;
            case ADD_SCALAR -> v + param;
            case RELU -> v > 0 ? v : 0;
            case GELU -> gelu(v);
            case TANH -> Math.tanh(v);
            case SIGMOID -> 1 / (1 + Math.exp(-v));
            case EXP -> Math.exp(v);
            case LOG -> Math.log(v);
        };
    }

    @Override
    public void unary(UnaryOp op, Tensor out, Tensor x, double param) {
        Storage o = out.storage(), s = x.storage();
        if (o instanceof F32Storage o32 && s instanceof F32Storage x32) {
            CpuFloatKernels.unary(op, o32.data(), x32.data(), (float) param);
            return;
        }
        chunks(out.numel(), (lo, hi) -> {
            for (int i = lo; i < hi; i++) o.set(i, unaryValue(op, s.get(i), param));
        });
    }

    @Override
    public void unaryBackward(UnaryOp op, Tensor dx, Tensor x, Tensor y, Tensor dy, double param) {
        Storage d = dx.storage(), xs = x.storage(), ys = y.storage(), g = dy.storage();
        chunks(dx.numel(), (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                double gv = g.get(i);
                d.set(i, switch (op) {
                    case SCALE -> gv * param;
                    case ADD_SCALAR -> gv;
                    case RELU -> xs.get(i) > 0 ? gv : 0;
                    case GELU -> gv * geluGrad(xs.get(i));
                    case TANH -> gv * (1 - ys.get(i) * ys.get(i));
                    case SIGMOID -> gv * ys.get(i) * (1 - ys.get(i));
                    case EXP -> gv * ys.get(i);
                    case LOG -> gv / xs.get(i);
                });
            }
        });
    }

    // ------------------------------------------------------------------ reductions

    @Override
    public void sumAxes(Tensor out, Tensor x, boolean[] reduce) {
        int lead = 0;
        while (lead < reduce.length && reduce[lead]) lead++;
        boolean prefixOnly = true;
        for (int i = lead; i < reduce.length; i++) prefixOnly &= !reduce[i];
        if (prefixOnly && lead > 0 && out.storage() instanceof F32Storage o32 && x.storage() instanceof F32Storage x32) {
            CpuFloatKernels.sumLeadingRows(o32.data(), x32.data(), x.numel() / Math.max(1, out.numel()), out.numel());
            return;
        }
        int[] shape = atLeast1d(x.shape());
        int[] so = Shape.broadcastStrides(atLeast1d(out.shape()), shape);
        Storage xs = x.storage(), os = out.storage();
        int inner = shape[shape.length - 1];
        int rowsN = x.numel() / Math.max(1, inner);
        int parts = x.numel() < PARALLEL_MIN ? 1 : Math.min(Parallel.threads(), rowsN);
        double[][] partial = new double[Math.max(parts, 1)][os.size()];
        int io = so[so.length - 1];
        Parallel.forRange(parts, p -> {
            double[] acc = partial[p];
            int lo = (int) ((long) rowsN * p / parts), hi = (int) ((long) rowsN * (p + 1) / parts);
            for (int r = lo; r < hi; r++) {
                int oo = rowOffset(r, shape, so), xo = r * inner;
                if (io == 0) {
                    double s = 0;
                    for (int j = 0; j < inner; j++) s += xs.get(xo + j);
                    acc[oo] += s;
                } else {
                    for (int j = 0; j < inner; j++) acc[oo + j * io] += xs.get(xo + j);
                }
            }
        });
        for (int i = 0; i < os.size(); i++) {
            double s = 0;
            for (double[] acc : partial) s += acc[i];
            os.set(i, s);
        }
    }

    @Override
    public void expand(Tensor out, Tensor x, double scale) {
        int[] shape = atLeast1d(out.shape());
        int[] sx = Shape.broadcastStrides(atLeast1d(x.shape()), shape);
        Storage o = out.storage(), s = x.storage();
        int inner = shape[shape.length - 1];
        int ix = sx[sx.length - 1];
        rows(out.numel(), inner, r -> {
            int xo = rowOffset(r, shape, sx), oo = r * inner;
            for (int j = 0; j < inner; j++) o.set(oo + j, scale * s.get(xo + j * ix));
        });
    }

    /** (outer, n, inner) view of x around {@code axis}. */
    private static int[] around(int[] shape, int axis) {
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.length; i++) inner *= shape[i];
        return new int[] {outer, shape[axis], inner};
    }

    @Override
    public void maxAxis(Tensor out, int[] argmax, Tensor x, int axis) {
        int[] v = around(x.shape(), axis);
        int outer = v[0], n = v[1], inner = v[2];
        Storage xs = x.storage(), os = out.storage();
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int base = o * n * inner + i;
                int best = 0;
                double bv = xs.get(base);
                for (int j = 1; j < n; j++) {
                    double c = xs.get(base + j * inner);
                    if (c > bv || Double.isNaN(c)) {
                        bv = c;
                        best = j;
                        if (Double.isNaN(c)) break;
                    }
                }
                os.set(o * inner + i, bv);
                argmax[o * inner + i] = best;
            }
        }
    }

    @Override
    public void maxAxisBackward(Tensor dx, int[] argmax, Tensor dOut, int axis) {
        int[] v = around(dx.shape(), axis);
        int n = v[1], inner = v[2];
        Storage d = dx.storage(), g = dOut.storage();
        for (int o = 0; o < v[0]; o++) {
            for (int i = 0; i < inner; i++) {
                d.set(o * n * inner + argmax[o * inner + i] * inner + i, g.get(o * inner + i));
            }
        }
    }

    // ------------------------------------------------------------------ matrix products

    @Override
    public void matmul(Tensor out, Tensor a, Tensor b, int batch, int m, int n, int k, boolean transA, boolean transB,
            boolean broadcastA, boolean broadcastB, double beta) {
        int lda = transA ? m : k, ldb = transB ? k : n;
        int strideA = broadcastA ? 0 : m * k, strideB = broadcastB ? 0 : k * n;
        Storage os = out.storage();
        if (os instanceof F32Storage o32) {
            Gemm.sgemmStridedBatched(transA, transB, m, n, k, 1f, a.f32(), 0, lda, strideA, b.f32(), 0, ldb, strideB,
                    (float) beta, o32.data(), 0, n, m * n, batch);
        } else if (os instanceof F64Storage o64) {
            Gemm.dgemmStridedBatched(transA, transB, m, n, k, 1.0, a.f64(), 0, lda, strideA, b.f64(), 0, ldb, strideB,
                    beta, o64.data(), 0, n, m * n, batch);
        } else {
            throw new IllegalArgumentException("matmul: unsupported dtype " + out.dtype());
        }
    }

    // ------------------------------------------------------------------ layout

    @Override
    public void permute(Tensor out, Tensor x, int[] axes) {
        int[] xs = x.shape();
        int[] xStrides = Shape.strides(xs);
        int[] shape = atLeast1d(out.shape());
        int[] st = new int[axes.length];
        for (int i = 0; i < axes.length; i++) st[i] = xStrides[axes[i]];
        int[] strides = axes.length == 0 ? new int[] {1} : st;
        Storage o = out.storage(), s = x.storage();
        int inner = shape[shape.length - 1];
        int is = strides[strides.length - 1];
        rows(out.numel(), inner, r -> {
            int xo = rowOffset(r, shape, strides), oo = r * inner;
            for (int j = 0; j < inner; j++) o.set(oo + j, s.get(xo + j * is));
        });
    }

    @Override
    public void copyAlongAxis(Tensor dst, int dstStart, Tensor src, int srcStart, int len, int axis, boolean accumulate) {
        int[] vd = around(dst.shape(), axis), vs = around(src.shape(), axis);
        int outer = vd[0], nd = vd[1], ns = vs[1], inner = vd[2];
        Storage d = dst.storage(), s = src.storage();
        boolean fast = !accumulate && d instanceof F32Storage && s instanceof F32Storage;
        for (int o = 0; o < outer; o++) {
            int doff = (o * nd + dstStart) * inner, soff = (o * ns + srcStart) * inner;
            int count = len * inner;
            if (fast) {
                System.arraycopy(((F32Storage) s).data(), soff, ((F32Storage) d).data(), doff, count);
            } else if (accumulate) {
                for (int j = 0; j < count; j++) d.add(doff + j, s.get(soff + j));
            } else {
                for (int j = 0; j < count; j++) d.set(doff + j, s.get(soff + j));
            }
        }
    }

    @Override
    public void cast(Tensor out, Tensor x) {
        Storage o = out.storage(), s = x.storage();
        for (int i = 0; i < o.size(); i++) o.set(i, s.get(i));
    }

    // ------------------------------------------------------------------ normalisation

    @Override
    public void softmax(Tensor out, Tensor x, int axis, boolean log) {
        int[] v = around(x.shape(), axis);
        int n = v[1], inner = v[2];
        if (inner == 1 && out.storage() instanceof F32Storage o32 && x.storage() instanceof F32Storage x32) {
            CpuFloatKernels.softmaxRows(o32.data(), x32.data(), x.numel() / Math.max(n, 1), n, log);
            return;
        }
        Storage xs = x.storage(), os = out.storage();
        rows(x.numel(), n, r -> {
            int o = r / inner, i = r % inner;
            int base = o * n * inner + i;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) max = Math.max(max, xs.get(base + j * inner));
            if (max == Double.NEGATIVE_INFINITY) max = 0; // a fully masked row: avoid inf - inf
            double sum = 0;
            for (int j = 0; j < n; j++) sum += Math.exp(xs.get(base + j * inner) - max);
            if (log) {
                double lse = max + Math.log(sum);
                for (int j = 0; j < n; j++) os.set(base + j * inner, xs.get(base + j * inner) - lse);
            } else {
                double inv = sum == 0 ? 0 : 1 / sum; // a row of -inf has no mass: zeros, not NaN
                for (int j = 0; j < n; j++) os.set(base + j * inner, Math.exp(xs.get(base + j * inner) - max) * inv);
            }
        });
    }

    @Override
    public void softmaxBackward(Tensor dx, Tensor y, Tensor dy, int axis, boolean log) {
        int[] v = around(y.shape(), axis);
        int n = v[1], inner = v[2];
        if (inner == 1 && dx.storage() instanceof F32Storage d32 && y.storage() instanceof F32Storage y32
                && dy.storage() instanceof F32Storage g32) {
            CpuFloatKernels.softmaxBackwardRows(d32.data(), y32.data(), g32.data(), y.numel() / Math.max(n, 1), n, log);
            return;
        }
        Storage ys = y.storage(), gs = dy.storage(), ds = dx.storage();
        rows(y.numel(), n, r -> {
            int o = r / inner, i = r % inner;
            int base = o * n * inner + i;
            double s = 0;
            if (log) {
                // dx = dy - softmax * sum(dy)
                for (int j = 0; j < n; j++) s += gs.get(base + j * inner);
                for (int j = 0; j < n; j++) {
                    int p = base + j * inner;
                    ds.set(p, gs.get(p) - Math.exp(ys.get(p)) * s);
                }
            } else {
                // dx = y * (dy - sum(dy * y))
                for (int j = 0; j < n; j++) s += gs.get(base + j * inner) * ys.get(base + j * inner);
                for (int j = 0; j < n; j++) {
                    int p = base + j * inner;
                    ds.set(p, ys.get(p) * (gs.get(p) - s));
                }
            }
        });
    }

    @Override
    public void layerNorm(Tensor out, Tensor mean, Tensor rstd, Tensor x, Tensor w, Tensor b, double eps) {
        int c = x.dim(-1);
        if (x.storage() instanceof F32Storage && out.storage() instanceof F32Storage && w != null && b != null) {
            CpuFloatKernels.layerNorm(out.f32(), mean.f32(), rstd.f32(), x.f32(), w.f32(), b.f32(), c, (float) eps);
            return;
        }
        Storage xs = x.storage(), os = out.storage(), ms = mean.storage(), rs = rstd.storage();
        Storage ws = w == null ? null : w.storage(), bs = b == null ? null : b.storage();
        rows(x.numel(), c, r -> {
            int base = r * c;
            double s = 0;
            for (int j = 0; j < c; j++) s += xs.get(base + j);
            double mu = s / c;
            double var = 0;
            for (int j = 0; j < c; j++) {
                double d = xs.get(base + j) - mu;
                var += d * d;
            }
            double inv = 1 / Math.sqrt(var / c + eps);
            for (int j = 0; j < c; j++) {
                double v = (xs.get(base + j) - mu) * inv;
                if (ws != null) v *= ws.get(j);
                if (bs != null) v += bs.get(j);
                os.set(base + j, v);
            }
            ms.set(r, mu);
            rs.set(r, inv);
        });
    }

    @Override
    public void layerNormBackward(Tensor dx, Tensor dw, Tensor db, Tensor dy, Tensor x, Tensor mean, Tensor rstd, Tensor w) {
        int c = x.dim(-1);
        if (x.storage() instanceof F32Storage && w != null && dx != null && dw != null && db != null) {
            CpuFloatKernels.layerNormBackward(dx.f32(), dw.f32(), db.f32(), dy.f32(), x.f32(), mean.f32(), rstd.f32(), w.f32(), c);
            return;
        }
        int rowsN = x.numel() / c;
        Storage xs = x.storage(), gs = dy.storage(), ms = mean.storage(), rs = rstd.storage();
        Storage ws = w == null ? null : w.storage();
        if (dx != null) {
            Storage ds = dx.storage();
            rows(x.numel(), c, r -> {
                int base = r * c;
                double mu = ms.get(r), inv = rs.get(r);
                double sumG = 0, sumGx = 0;
                for (int j = 0; j < c; j++) {
                    double g = gs.get(base + j) * (ws == null ? 1 : ws.get(j));
                    double xh = (xs.get(base + j) - mu) * inv;
                    sumG += g;
                    sumGx += g * xh;
                }
                sumG /= c;
                sumGx /= c;
                for (int j = 0; j < c; j++) {
                    double g = gs.get(base + j) * (ws == null ? 1 : ws.get(j));
                    double xh = (xs.get(base + j) - mu) * inv;
                    ds.set(base + j, inv * (g - sumG - xh * sumGx));
                }
            });
        }
        if (dw != null || db != null) {
            double[] accW = new double[c], accB = new double[c];
            for (int r = 0; r < rowsN; r++) {
                int base = r * c;
                double mu = ms.get(r), inv = rs.get(r);
                for (int j = 0; j < c; j++) {
                    double g = gs.get(base + j);
                    accW[j] += g * (xs.get(base + j) - mu) * inv;
                    accB[j] += g;
                }
            }
            for (int j = 0; j < c; j++) {
                if (dw != null) dw.storage().add(j, accW[j]);
                if (db != null) db.storage().add(j, accB[j]);
            }
        }
    }

    @Override
    public void dropout(Tensor out, Tensor x, double p, long seed) {
        Storage o = out.storage(), s = x.storage();
        if (o instanceof F32Storage o32 && s instanceof F32Storage x32) {
            CpuFloatKernels.dropout(o32.data(), x32.data(), p, seed);
            return;
        }
        double scale = 1 / (1 - p);
        chunks(out.numel(), (lo, hi) -> {
            for (int i = lo; i < hi; i++) o.set(i, Rng.uniform(seed, i) >= p ? s.get(i) * scale : 0);
        });
    }

    /**
     * Float32 CPU dropout that records its mask for {@link #dropoutBackward}: the same output as
     * {@link #dropout} for the same seed.
     *
     * @param out output, same shape as x
     * @param x input (F32, CPU)
     * @return the keep mask, bit i of word i/64 set when element i is kept
     */
    public long[] dropoutRecording(Tensor out, Tensor x, double p, long seed) {
        long[] bits = new long[CpuFloatKernels.dropoutWords(out.numel())];
        CpuFloatKernels.dropoutKeepBits(out.f32(), x.f32(), p, seed, bits);
        return bits;
    }

    /** dx = dOut · 1/(1−p) where {@code bits} (from {@link #dropoutRecording}) keeps an element, else 0; float32. */
    public void dropoutBackward(Tensor dx, Tensor dOut, double p, long[] bits) {
        CpuFloatKernels.dropoutApplyBits(dx.f32(), dOut.f32(), p, bits);
    }

    @Override
    public void maskedFill(Tensor out, Tensor x, boolean[] mask, int[] maskShape, double value) {
        int[] shape = atLeast1d(x.shape());
        int[] sm = Shape.broadcastStrides(atLeast1d(maskShape), shape);
        Storage o = out.storage(), s = x.storage();
        int inner = shape[shape.length - 1];
        int im = sm[sm.length - 1];
        if (o instanceof F32Storage o32 && s instanceof F32Storage x32) {
            float[] od = o32.data(), xd = x32.data();
            float v = (float) value;
            rows(x.numel(), inner, r -> {
                int mo = rowOffset(r, shape, sm), oo = r * inner;
                for (int j = 0; j < inner; j++) od[oo + j] = mask[mo + j * im] ? v : xd[oo + j];
            });
            return;
        }
        rows(x.numel(), inner, r -> {
            int mo = rowOffset(r, shape, sm), oo = r * inner;
            for (int j = 0; j < inner; j++) o.set(oo + j, mask[mo + j * im] ? value : s.get(oo + j));
        });
    }

    // ------------------------------------------------------------------ convolution

    /** cols (B·Tout, Cin·K) with cols[(b,t), ci·K + kk] = x[b, t·stride + kk − padding, ci]. */
    private Tensor im2col(Tensor x, int k, int stride, int padding, int tOut) {
        int bsz = x.dim(0), t = x.dim(1), cin = x.dim(2);
        Tensor cols = empty(x.dtype(), bsz * tOut, cin * k);
        if (x.storage() instanceof F32Storage xf && cols.storage() instanceof F32Storage cf) {
            CpuFloatKernels.im2col(cf.data(), xf.data(), bsz, t, cin, k, stride, padding, tOut);
            return cols;
        }
        Storage xs = x.storage(), cs = cols.storage();
        rows(cols.numel(), cin * k, r -> {
            int b = r / tOut, to = r % tOut;
            for (int kk = 0; kk < k; kk++) {
                int ti = to * stride + kk - padding;
                if (ti < 0 || ti >= t) continue;
                int xo = (b * t + ti) * cin;
                for (int ci = 0; ci < cin; ci++) cs.set(r * cin * k + ci * k + kk, xs.get(xo + ci));
            }
        });
        return cols;
    }

    @Override
    public void conv1d(Tensor out, Tensor x, Tensor weight, Tensor bias, int stride, int padding) {
        int cout = weight.dim(0), cin = weight.dim(1), k = weight.dim(2);
        int bsz = out.dim(0), tOut = out.dim(1);
        Tensor cols = im2col(x, k, stride, padding, tOut);
        matmul(out, cols, weight, 1, bsz * tOut, cout, cin * k, false, true, false, false, 0);
        if (bias != null) binary(BinaryOp.ADD, out, out, bias);
    }

    @Override
    public void conv1dBackward(Tensor dx, Tensor dWeight, Tensor dBias, Tensor dOut, Tensor x, Tensor weight, int stride,
            int padding) {
        int cout = weight.dim(0), cin = weight.dim(1), k = weight.dim(2);
        int bsz = dOut.dim(0), tOut = dOut.dim(1), t = x.dim(1);
        if (dWeight != null) {
            Tensor cols = im2col(x, k, stride, padding, tOut);
            matmul(dWeight, dOut, cols, 1, cout, cin * k, bsz * tOut, true, false, false, false, 1);
        }
        if (dBias != null) {
            Tensor sum = empty(dOut.dtype(), 1, 1, cout);
            sumAxes(sum, dOut, new boolean[] {true, true, false});
            addInPlace(dBias, sum.reshape(cout).detach());
        }
        if (dx != null) {
            Tensor dcols = empty(dOut.dtype(), bsz * tOut, cin * k);
            matmul(dcols, dOut, weight, 1, bsz * tOut, cin * k, cout, false, false, false, false, 0);
            if (dcols.storage() instanceof F32Storage dcf && dx.storage() instanceof F32Storage dxf) {
                CpuFloatKernels.col2im(dxf.data(), dcf.data(), bsz, t, cin, k, stride, padding, tOut);
                return;
            }
            Storage dc = dcols.storage(), dxs = dx.storage();
            fill(dx, 0);
            // col2im: each output frame scatters into K input frames; parallel over batch avoids races
            Parallel.forRange(bsz, b -> {
                for (int to = 0; to < tOut; to++) {
                    int r = b * tOut + to;
                    for (int kk = 0; kk < k; kk++) {
                        int ti = to * stride + kk - padding;
                        if (ti < 0 || ti >= t) continue;
                        int xo = (b * t + ti) * cin;
                        for (int ci = 0; ci < cin; ci++) dxs.add(xo + ci, dc.get(r * cin * k + ci * k + kk));
                    }
                }
            });
        }
    }

    @Override
    public <T> T kernels(Class<T> type) {
        if (type == lmu.backend.LmuKernels.class) return type.cast(CpuLmuKernels.INSTANCE);
        if (type == lmu.backend.OptimizerKernels.class) return type.cast(CpuOptimizerKernels.INSTANCE);
        if (type == lmu.backend.AttentionKernels.class) return type.cast(CpuAttentionKernels.INSTANCE);
        if (type == lmu.backend.CtcKernels.class) return type.cast(CpuCtcKernels.INSTANCE);
        if (type == lmu.backend.FeatureKernels.class) return type.cast(CpuFeatureKernels.INSTANCE);
        if (type == lmu.backend.FusedKernels.class) return type.cast(CpuFusedKernels.INSTANCE);
        return Backend.super.kernels(type);
    }
}
