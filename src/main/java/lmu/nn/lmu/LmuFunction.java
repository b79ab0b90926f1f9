package lmu.nn.lmu;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.nn.lmu.LegendreConvolution.Method;
import lmu.tensor.DType;
import lmu.tensor.Tensor;

/**
 * The whole LMU layer as one differentiable op: inputs (x, then the parameters in {@link
 * LmuParameters#arrays()} order: ex, eh, em, bu, wx, wh, wm, bh, null where absent), output h.
 * Forward and backward run in float64 on the CPU ({@link LmuRecurrent} or {@link LmuParallel}), a
 * float32 tensor converted on the way in and out, except for a float32 parallel layer with the
 * AUTO convolution method: that one runs in float32 ({@link LmuParallelFloat}, matrix products
 * against the impulse response; the float64 path is its reference). Backward returns gradients only for inputs
 * that need them (the convolution and BPTT always produce all parameter gradients; unneeded ones
 * are dropped).
 */
final class LmuFunction extends Function {
    static final List<String> PARAMETER_ORDER = List.of("ex", "eh", "em", "bu", "wx", "wh", "wm", "bh");

    private final LmuConfig config;
    private final LegendreImpulseResponse ir;
    private final boolean parallel;
    private final Method method;
    private final int[] lengths;

    LmuFunction(LmuConfig config, LegendreImpulseResponse ir, boolean parallel, Method method, int[] lengths) {
        this.config = config;
        this.ir = ir;
        this.parallel = parallel;
        this.method = method;
        this.lengths = lengths.clone();
    }

    @Override
    public String name() {
        return parallel ? "LmuParallel" : "LmuRecurrent";
    }

    /** Whether this call takes the float32 path ({@link LmuParallelFloat}): a parallel layer, float32, AUTO method. */
    private boolean float32(Tensor x) {
        return parallel && method == Method.AUTO && x.dtype() == DType.F32;
    }

    private static float[] f32(Tensor t) {
        return t == null ? null : t.f32();
    }

    /** ex, bu, wx, wm, bh of the inputs (x first, then the parameters in PARAMETER_ORDER). */
    private static LmuParallelFloat.Weights weights(Tensor[] in) {
        return new LmuParallelFloat.Weights(f32(in[1]), f32(in[4]), f32(in[5]), f32(in[7]), f32(in[8]));
    }

    @Override
    protected Tensor forward(Ctx ctx, Tensor... in) {
        Tensor x = in[0];
        int batch = x.dim(0), frames = x.dim(1);
        if (float32(x)) {
            LmuParallelFloat.Weights w = weights(in);
            LmuParallelFloat.Saved s = LmuParallelFloat.forward(config, ir, w, x.f32(), batch, frames, lengths);
            ctx.save(w, s);
            return Tensor.of(s.h(), batch, frames, config.hiddenSize());
        }
        double[] xd = x.toDoubleArray();
        Map<String, double[]> arrays = new LinkedHashMap<>();
        for (int i = 0; i < PARAMETER_ORDER.size(); i++) {
            if (in[i + 1] != null) arrays.put(PARAMETER_ORDER.get(i), in[i + 1].toDoubleArray());
        }
        LmuParameters p = LmuParameters.wrap(config, arrays);
        LmuRecurrent.Saved saved = parallel
                ? LmuParallel.forward(p, ir, xd, batch, frames, lengths, method)
                : LmuRecurrent.forward(p, ir.system(), xd, batch, frames, lengths);
        ctx.save(p, xd, saved);
        return tensor(saved.h(), x.dtype(), batch, frames, config.hiddenSize());
    }

    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        if (ctx.saved(0) instanceof LmuParallelFloat.Weights w) {
            LmuParallelFloat.Saved s = (LmuParallelFloat.Saved) ctx.saved(1);
            int batch = dOut.dim(0), frames = dOut.dim(1);
            LmuParallelFloat.Grads g = LmuParallelFloat.backward(config, ir, w, s, dOut.f32(), batch, frames, lengths,
                    ctx.needsInputGrad(0));
            Tensor[] out = new Tensor[1 + PARAMETER_ORDER.size()];
            if (ctx.needsInputGrad(0)) out[0] = Tensor.of(g.dx(), batch, frames, config.inputSize());
            float[][] byName = {g.ex(), null, null, g.bu(), g.wx(), null, g.wm(), g.bh()};
            LmuParameters shapes = LmuParameters.zeros(config);
            for (int i = 0; i < byName.length; i++) {
                if (byName[i] != null && ctx.needsInputGrad(i + 1)) {
                    out[i + 1] = Tensor.of(byName[i], shapes.shape(PARAMETER_ORDER.get(i)));
                }
            }
            return out;
        }
        LmuParameters p = (LmuParameters) ctx.saved(0);
        double[] xd = (double[]) ctx.saved(1);
        LmuRecurrent.Saved saved = (LmuRecurrent.Saved) ctx.saved(2);
        int batch = dOut.dim(0), frames = dOut.dim(1);
        double[] dh = dOut.toDoubleArray();
        LmuParameters grads = p.zerosLike();
        double[] dx = parallel
                ? LmuParallel.backward(p, ir, xd, batch, frames, lengths, method, saved, dh, grads)
                : LmuRecurrent.backward(p, ir.system(), xd, batch, frames, lengths, saved, dh, grads);
        DType dtype = dOut.dtype();
        Tensor[] out = new Tensor[1 + PARAMETER_ORDER.size()];
        if (ctx.needsInputGrad(0)) out[0] = tensor(dx, dtype, batch, frames, config.inputSize());
        Map<String, double[]> g = grads.arrays();
        for (int i = 0; i < PARAMETER_ORDER.size(); i++) {
            String name = PARAMETER_ORDER.get(i);
            if (ctx.needsInputGrad(i + 1) && g.containsKey(name)) out[i + 1] = tensor(g.get(name), dtype, p.shape(name));
        }
        return out;
    }

    private static Tensor tensor(double[] data, DType dtype, int... shape) {
        if (dtype == DType.F64) return Tensor.of(data, shape);
        float[] f = new float[data.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) data[i];
        return Tensor.of(f, shape);
    }
}
