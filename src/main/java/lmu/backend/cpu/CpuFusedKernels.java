package lmu.backend.cpu;

import java.util.Arrays;
import lmu.backend.BinaryOp;
import lmu.backend.FusedKernelArguments;
import lmu.backend.FusedKernels;
import lmu.backend.UnaryOp;
import lmu.tensor.DType;
import lmu.tensor.F32Storage;
import lmu.tensor.Tensor;

/**
 * The reference {@link FusedKernels}: float32 tensors take one-pass loops in {@link
 * CpuFloatKernels} (multi-threaded over rows, the same float math as the unfused CPU ops, so fused
 * and unfused agree to the last bit except for the order of column sums); float64 tensors (gradient
 * checks) and layer norms without weight or bias run the unfused {@link CpuBackend} kernels one
 * after the other, which is the definition the fused loops are held to.
 */
public final class CpuFusedKernels implements FusedKernels {
    public static final CpuFusedKernels INSTANCE = new CpuFusedKernels();
    private static final CpuBackend CPU = CpuBackend.INSTANCE;

    private CpuFusedKernels() {}

    /** x on the CPU, F32 or F64, with at least one axis. */
    private static void checkInput(String op, String arg, Tensor x) {
        FusedKernelArguments.input(op, arg, x);
        FusedKernelArguments.check((x.storage() instanceof F32Storage || x.dtype() == DType.F64)
                && x.device().kind() == lmu.tensor.Device.Kind.CPU, op, arg, "an F32/F64 CPU tensor", x);
    }

    private static float[] f32(Tensor t) {
        return t == null ? null : t.f32();
    }

    private static UnaryOp unary(Activation act) {
        return switch (act) {
            case IDENTITY -> null;
            case RELU -> UnaryOp.RELU;
            case GELU -> UnaryOp.GELU;
            case TANH -> UnaryOp.TANH;
        };
    }

    @Override
    public Tensor biasActivation(Activation act, Tensor x, Tensor bias) {
        checkInput("biasActivation", "x", x);
        FusedKernelArguments.vector("biasActivation", "bias", bias, x);
        int c = x.dim(-1);
        Tensor y = CPU.empty(x.dtype(), x.shape());
        if (x.numel() == 0) return y;
        if (x.dtype() == DType.F32) {
            CpuFloatKernels.biasActivation(act, y.f32(), x.f32(), f32(bias), c);
            return y;
        }
        if (act == Activation.IDENTITY) {
            if (bias != null) CPU.binary(BinaryOp.ADD, y, x, bias);
            else CPU.unary(UnaryOp.SCALE, y, x, 1);
            return y;
        }
        Tensor z = x;
        if (bias != null) {
            z = CPU.empty(x.dtype(), x.shape());
            CPU.binary(BinaryOp.ADD, z, x, bias);
        }
        CPU.unary(unary(act), y, z, 0);
        return y;
    }

    @Override
    public Tensor[] biasActivationBackward(Activation act, Tensor dy, Tensor x, Tensor bias, Tensor y, boolean needDx,
            boolean needDbias) {
        String op = "biasActivationBackward";
        checkInput(op, "dy", dy);
        if (act.backwardUsesInput()) FusedKernelArguments.like(op, "x", x, dy);
        if (act == Activation.RELU || act == Activation.TANH) FusedKernelArguments.like(op, "y", y, dy);
        FusedKernelArguments.vector(op, "bias", bias, dy);
        boolean dbWanted = needDbias && bias != null;
        int c = dy.dim(-1);
        Tensor dx = needDx && act != Activation.IDENTITY ? CPU.empty(dy.dtype(), dy.shape()) : null;
        Tensor db = dbWanted ? CPU.empty(dy.dtype(), c) : null;
        if (dy.numel() == 0 || (!dbWanted && dx == null)) return new Tensor[] {dx, db};
        if (dy.dtype() == DType.F32) {
            CpuFloatKernels.biasActivationBackward(act, f32(dx), f32(db), dy.f32(), f32(x), f32(bias), f32(y), c);
            return new Tensor[] {dx, db};
        }
        Tensor g = dy; // the gradient of z = x + b
        if (act != Activation.IDENTITY) {
            g = dx != null ? dx : CPU.empty(dy.dtype(), dy.shape());
            Tensor z = x;
            if (act.backwardUsesInput() && bias != null) {
                z = CPU.empty(x.dtype(), x.shape());
                CPU.binary(BinaryOp.ADD, z, x, bias);
            }
            CPU.unaryBackward(unary(act), g, z == null ? y : z, y == null ? z : y, dy, 0);
        }
        if (db != null) {
            boolean[] reduce = new boolean[dy.rank()];
            Arrays.fill(reduce, 0, reduce.length - 1, true);
            int[] shape = new int[dy.rank()];
            Arrays.fill(shape, 1);
            shape[shape.length - 1] = c;
            CPU.sumAxes(new Tensor(db.storage(), shape), g, reduce);
        }
        return new Tensor[] {dx, db};
    }

    @Override
    public Tensor[] residualLayerNorm(Tensor x, Tensor r, Tensor w, Tensor b, double eps) {
        String op = "residualLayerNorm";
        checkInput(op, "x", x);
        FusedKernelArguments.like(op, "r", r, x);
        FusedKernelArguments.vector(op, "w", w, x);
        FusedKernelArguments.vector(op, "b", b, x);
        if (!(eps > 0)) throw new IllegalArgumentException("FusedKernels.residualLayerNorm: eps must be > 0, got " + eps);
        int c = x.dim(-1), rows = c == 0 ? 0 : x.numel() / c;
        Tensor s = CPU.empty(x.dtype(), x.shape()), y = CPU.empty(x.dtype(), x.shape());
        Tensor mean = CPU.empty(x.dtype(), rows), rstd = CPU.empty(x.dtype(), rows);
        if (x.numel() > 0) {
            if (x.dtype() == DType.F32 && w != null && b != null) {
                CpuFloatKernels.residualLayerNorm(s.f32(), y.f32(), mean.f32(), rstd.f32(), x.f32(), r.f32(), w.f32(), b.f32(),
                        c, (float) eps);
            } else {
                CPU.binary(BinaryOp.ADD, s, x, r);
                CPU.layerNorm(y, mean, rstd, s, w, b, eps);
            }
        }
        return new Tensor[] {s, y, mean, rstd};
    }

    @Override
    public Tensor[] residualLayerNormBackward(Tensor dy, Tensor ds, Tensor s, Tensor mean, Tensor rstd, Tensor w,
            boolean needDx, boolean needParams) {
        String op = "residualLayerNormBackward";
        checkInput(op, "s", s);
        if (dy != null) FusedKernelArguments.like(op, "dy", dy, s);
        if (ds != null) FusedKernelArguments.like(op, "ds", ds, s);
        FusedKernelArguments.vector(op, "w", w, s);
        FusedKernelArguments.rowStatistics(op, mean, rstd, s);
        int c = s.dim(-1);
        FusedKernelArguments.check(dy != null, op, "dy", "a tensor (with no gradient at y, dx is ds)", dy);
        Tensor dx = needDx ? CPU.empty(s.dtype(), s.shape()) : null;
        Tensor dw = needParams ? CPU.empty(s.dtype(), c) : null, db = needParams ? CPU.empty(s.dtype(), c) : null;
        if (s.numel() == 0) return new Tensor[] {dx, dw, db};
        if (s.dtype() == DType.F32 && w != null) {
            CpuFloatKernels.layerNormBackward(f32(dx), f32(ds), f32(dw), f32(db), dy.f32(), s.f32(), mean.f32(), rstd.f32(),
                    w.f32(), c);
        } else {
            CPU.layerNormBackward(dx, dw, db, dy, s, mean, rstd, w);
            if (dx != null && ds != null) CPU.addInPlace(dx, ds);
        }
        return new Tensor[] {dx, dw, db};
    }
}
