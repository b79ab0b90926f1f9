package lmu.nn.lmu;

import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.backend.FusedKernels;
import lmu.backend.LmuKernels;
import lmu.ops.BiasActivation;
import lmu.ops.MaskedFill;
import lmu.ops.MatMul;
import lmu.nn.FrameLengths;
import lmu.nn.Masks;
import lmu.tensor.Tensor;

/**
 * The LMU layer as a graph of generic ops around two fused pieces, for any device: the products
 * that do not depend on the previous frame are {@link MatMul}, bias adds fused with the activation
 * ({@link BiasActivation}) and the masking of padded frames ({@link MaskedFill}), all of which run
 * wherever x lives; the causal
 * convolution ({@link Convolution}) and the recurrence through time ({@link RecurrentCell}) are one
 * autograd function each, calling the {@link LmuKernels} of x's device.
 *
 * <pre>
 * x̃ = x with padded frames zeroed                  (B, T, C)
 * ux = x̃·e_x + b_u                                 (B, T, K)
 * parallel:   m = conv(H, ux);  h = mask(f(m·W_m + x̃·W_x + b_h))
 * recurrent:  h = cell(ux, x̃·W_x + b_h; e_h, e_m, W_h, W_m)
 * </pre>
 *
 * It computes the function {@link LmuFunction} computes, with the same gradients (zero at padded
 * frames of dx; parameters untouched by padded frames).
 */
final class LmuComposition {
    private LmuComposition() {}

    /**
     * @param p parameters in {@link LmuFunction#PARAMETER_ORDER}, null where absent, on x's device
     * @param x input, shape (B, T, C), lengths already checked
     * @param method form of the parallel mode's convolution, handed to the device's {@link LmuKernels}
     * @return h, shape (B, T, hidden), zero at padded frames
     */
    static Tensor forward(LmuConfig c, LegendreImpulseResponse ir, boolean parallel, LegendreConvolution.Method method,
            Tensor x, Tensor[] p, int[] lengths) {
        Tensor ex = p[0], eh = p[1], em = p[2], bu = p[3], wx = p[4], wh = p[5], wm = p[6], bh = p[7];
        int batch = x.dim(0), frames = x.dim(1);
        Tensor device = FrameLengths.deviceFor(lengths);
        if (device != null) return forwardDevice(c, ir, parallel, method, x, p, device);
        boolean[] padding = new boolean[batch * frames];
        boolean padded = false;
        for (int b = 0; b < batch; b++) {
            for (int t = lengths[b]; t < frames; t++) padding[b * frames + t] = true;
            padded |= lengths[b] < frames;
        }
        int[] maskShape = {batch, frames, 1};
        // whatever padded frames hold (NaN included) must not reach a product
        Tensor xm = padded ? MaskedFill.apply(x, padding, maskShape, 0) : x;
        Tensor ux = MatMul.apply(xm, ex, false, false);
        if (bu != null) ux = BiasActivation.apply(ux, bu, FusedKernels.Activation.IDENTITY);
        Tensor ax = wx == null ? null : MatMul.apply(xm, wx, false, false);
        if (parallel) {
            Tensor m = new Convolution(ir, method, lengths, null).apply(ux);
            Tensor a = MatMul.apply(m, wm, false, false);
            if (ax != null) a = a.add(ax);
            Tensor h = bh == null && c.activation() == Activation.IDENTITY ? a : BiasActivation.apply(a, bh, fused(c.activation()));
            return padded ? MaskedFill.apply(h, padding, maskShape, 0) : h;
        }
        if (ax == null) ax = Backends.of(x).empty(x.dtype(), batch, frames, c.hiddenSize());
        if (bh != null) ax = BiasActivation.apply(ax, bh, FusedKernels.Activation.IDENTITY);
        return new RecurrentCell(ir.system(), c.activation(), lengths, null).apply(ux, ax, eh, em, wh, wm);
    }

    /**
     * {@link #forward} with the lengths in a device tensor (see {@link FrameLengths}): the padding
     * masks are {@link Masks#zeroPadding(Tensor, Tensor)} and the kernels take their device forms,
     * so no host choice depends on the lengths (the masks run whether or not anything is padded).
     */
    private static Tensor forwardDevice(LmuConfig c, LegendreImpulseResponse ir, boolean parallel,
            LegendreConvolution.Method method, Tensor x, Tensor[] p, Tensor lengths) {
        Tensor ex = p[0], eh = p[1], em = p[2], bu = p[3], wx = p[4], wh = p[5], wm = p[6], bh = p[7];
        int batch = x.dim(0), frames = x.dim(1);
        Tensor xm = Masks.zeroPadding(x, lengths);
        Tensor ux = MatMul.apply(xm, ex, false, false);
        if (bu != null) ux = BiasActivation.apply(ux, bu, FusedKernels.Activation.IDENTITY);
        Tensor ax = wx == null ? null : MatMul.apply(xm, wx, false, false);
        if (parallel) {
            Tensor m = new Convolution(ir, method, null, lengths).apply(ux);
            Tensor a = MatMul.apply(m, wm, false, false);
            if (ax != null) a = a.add(ax);
            Tensor h = bh == null && c.activation() == Activation.IDENTITY ? a : BiasActivation.apply(a, bh, fused(c.activation()));
            return Masks.zeroPadding(h, lengths);
        }
        if (ax == null) ax = Backends.of(x).empty(x.dtype(), batch, frames, c.hiddenSize());
        if (bh != null) ax = BiasActivation.apply(ax, bh, FusedKernels.Activation.IDENTITY);
        return new RecurrentCell(ir.system(), c.activation(), null, lengths).apply(ux, ax, eh, em, wh, wm);
    }

    private static FusedKernels.Activation fused(Activation f) {
        return switch (f) {
            case TANH -> FusedKernels.Activation.TANH;
            case RELU -> FusedKernels.Activation.RELU;
            case IDENTITY -> FusedKernels.Activation.IDENTITY;
        };
    }

    /**
     * The causal convolution m = conv(H, u) in a given form: input u (B, T, K), output m (B, T, K·d),
     * zero at padded frames.
     */
    static final class Convolution extends Function {
        private final LegendreImpulseResponse ir;
        private final LegendreConvolution.Method method;
        private final int[] lengths;
        private final Tensor deviceLengths;

        /** Exactly one of lengths (host) and deviceLengths (float32 (B) on the device) is non-null. */
        Convolution(LegendreImpulseResponse ir, LegendreConvolution.Method method, int[] lengths, Tensor deviceLengths) {
            this.ir = ir;
            this.method = method;
            this.lengths = lengths == null ? null : lengths.clone();
            this.deviceLengths = deviceLengths;
        }

        @Override
        public String name() {
            return "LegendreConvolution";
        }

        @Override
        protected Tensor forward(Ctx ctx, Tensor... in) {
            LmuKernels k = Backends.kernels(in[0], LmuKernels.class);
            return lengths != null ? k.convolutionForward(ir, in[0], lengths, method)
                    : k.convolutionForward(ir, in[0], deviceLengths, method);
        }

        @Override
        protected Tensor[] backward(Ctx ctx, Tensor dm) {
            if (!ctx.needsInputGrad(0)) return new Tensor[1];
            LmuKernels k = Backends.kernels(dm, LmuKernels.class);
            return new Tensor[] {lengths != null ? k.convolutionBackward(ir, dm, lengths, method)
                    : k.convolutionBackward(ir, dm, deviceLengths, method)};
        }
    }

    /**
     * The recurrence through time: inputs (ux, ax, e_h, e_m, W_h, W_m), the weights null where
     * absent; output h (B, T, hidden), zero at padded frames. Backward returns du for ux, dz for ax,
     * and the weight gradients as products on the device: dW_m = mᵀ·dz, dW_h = h_prevᵀ·dz,
     * de_h = h_prevᵀ·du, de_m = m_prevᵀ·du (rows of all B·T frames; dz and du are zero at padded
     * frames, h_prev and m_prev are h and m one frame later, zero at t = 0).
     */
    static final class RecurrentCell extends Function {
        private final LegendreStateSpace ss;
        private final Activation f;
        private final int[] lengths;
        private final Tensor deviceLengths;

        /** Exactly one of lengths (host) and deviceLengths (float32 (B) on the device) is non-null. */
        RecurrentCell(LegendreStateSpace ss, Activation f, int[] lengths, Tensor deviceLengths) {
            this.ss = ss;
            this.f = f;
            this.lengths = lengths == null ? null : lengths.clone();
            this.deviceLengths = deviceLengths;
        }

        @Override
        public String name() {
            return "LmuRecurrentCell";
        }

        @Override
        protected Tensor forward(Ctx ctx, Tensor... in) {
            LmuKernels k = Backends.kernels(in[0], LmuKernels.class);
            Tensor[] hm = lengths != null ? k.recurrentForward(ss, f, in[0], in[1], in[2], in[3], in[4], in[5], lengths)
                    : k.recurrentForward(ss, f, in[0], in[1], in[2], in[3], in[4], in[5], deviceLengths);
            ctx.save(hm[LmuKernels.FORWARD_H], hm[LmuKernels.FORWARD_M], in[2], in[3], in[4], in[5]);
            return hm[LmuKernels.FORWARD_H];
        }

        @Override
        protected Tensor[] backward(Ctx ctx, Tensor dh) {
            Tensor h = ctx.tensor(0), m = ctx.tensor(1), eh = ctx.tensor(2), em = ctx.tensor(3), wh = ctx.tensor(4),
                    wm = ctx.tensor(5);
            LmuKernels k = Backends.kernels(dh, LmuKernels.class);
            Tensor[] g = lengths != null ? k.recurrentBackward(ss, f, dh, h, eh, em, wh, wm, lengths)
                    : k.recurrentBackward(ss, f, dh, h, eh, em, wh, wm, deviceLengths);
            Tensor dz = g[LmuKernels.BACKWARD_DZ], du = g[LmuKernels.BACKWARD_DU];
            Backend be = Backends.of(dh);
            Tensor[] out = new Tensor[6];
            if (ctx.needsInputGrad(0)) out[0] = du;
            if (ctx.needsInputGrad(1)) out[1] = dz;
            boolean hPrevNeeded = ctx.needsInputGrad(2) || ctx.needsInputGrad(4);
            Tensor hPrev = hPrevNeeded ? previousFrame(be, h) : null;
            if (ctx.needsInputGrad(2)) out[2] = transposedProduct(be, hPrev, du);
            if (ctx.needsInputGrad(3)) out[3] = transposedProduct(be, previousFrame(be, m), du);
            if (ctx.needsInputGrad(4)) out[4] = transposedProduct(be, hPrev, dz);
            if (ctx.needsInputGrad(5)) out[5] = transposedProduct(be, m, dz);
            return out;
        }

        /** a one frame later: out[b, t] = a[b, t − 1], out[b, 0] = 0; shape (B, T, width). */
        private static Tensor previousFrame(Backend be, Tensor a) {
            int frames = a.dim(1);
            Tensor out = be.empty(a.dtype(), a.shape());
            if (frames > 1) be.copyAlongAxis(out, 1, a, 0, frames - 1, 1, false);
            return out;
        }

        /** aᵀ·b over all B·T rows: a (B, T, P), b (B, T, Q) → (P, Q). */
        private static Tensor transposedProduct(Backend be, Tensor a, Tensor b) {
            int rows = a.dim(0) * a.dim(1), p = a.dim(2), q = b.dim(2);
            Tensor out = be.empty(a.dtype(), p, q);
            be.matmul(out, rows2d(a, rows, p), rows2d(b, rows, q), 1, p, q, rows, true, false, false, false, 0);
            return out;
        }

        private static Tensor rows2d(Tensor t, int rows, int cols) {
            return new Tensor(t.storage(), new int[] {rows, cols}, t.device());
        }
    }
}
