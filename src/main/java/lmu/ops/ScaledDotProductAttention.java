package lmu.ops;

import java.util.Arrays;
import lmu.autograd.Ctx;
import lmu.autograd.Function;
import lmu.backend.AttentionKernels;
import lmu.backend.Backends;
import lmu.tensor.Tensor;
import lmu.util.Checks;

/**
 * Fused multi-head attention core: for every sequence b and head h,
 * {@code O = dropout(softmax(scale · Q·Kᵀ with keys s ≥ lengths[b] set to maskValue)) · V}, with the
 * heads taken as column blocks of (B, T, C) inputs and joined the same way in the output. One op
 * instead of scale, head permutes, two batched products, masked fill, softmax and dropout: nothing
 * of size (B·H, T, T) besides the saved softmax output is allocated, and no permuted copies.
 *
 * <p>It computes the same function as the composition (same dropout mask for the same seed: the
 * mask counter is the element index of the (B·H, T, T) weight tensor, see {@link AttentionKernels}).
 * It runs on the tensors' device through that device's {@link AttentionKernels} (CPU: F32 or F64,
 * any head dimension; CUDA: F32, F16 or BF16, head dimension 32 or 64; check {@link #supported} first).
 *
 * <pre>{@code
 * Tensor o = ScaledDotProductAttention.apply(q, k, v, heads, 1 / Math.sqrt(d), lengths, -1e4, 0.1, seed);
 * }</pre>
 */
public final class ScaledDotProductAttention extends Function {
    private final int heads;
    private final double scale;
    private final int[] lengths;
    private final double maskValue;
    private final double p;
    private final long seed;
    private Tensor seeds; // a device-side seed table, or null: the seed is the host value above
    private int slot;
    private Tensor deviceLengths; // float32 (B) on q's device, or null: the host lengths above

    private ScaledDotProductAttention(int heads, double scale, int[] lengths, double maskValue, double p, long seed) {
        this.heads = heads;
        this.scale = scale;
        this.lengths = lengths == null ? null : lengths.clone();
        this.maskValue = maskValue;
        this.p = p;
        this.seed = seed;
    }

    /**
     * @param q queries, shape (B, T, C), C = H·d, head h in columns [h·d, (h+1)·d)
     * @param k keys, shape (B, T, C)
     * @param v values, shape (B, T, C)
     * @param heads H, must divide C
     * @param scale factor of the scores, usually 1/√d
     * @param lengths valid keys per sequence, length B, each in [0, T]; null: all keys valid
     * @param maskValue score given to masked keys (e.g. −1e4)
     * @param p dropout probability on the attention weights, in [0, 1); 0 for none
     * @param seed dropout mask seed (ignored when p is 0)
     * @return O, shape (B, T, C)
     * @throws IllegalArgumentException if shapes differ or are not (B, T, C), H does not divide C, a
     *     length is out of range, p is outside [0, 1), the tensors are on different devices or have
     *     different dtypes, or the device does not run this dtype and head dimension ({@link #supported})
     * @throws UnsupportedOperationException if the device has no {@link AttentionKernels}
     */
    public static Tensor apply(Tensor q, Tensor k, Tensor v, int heads, double scale, int[] lengths, double maskValue,
            double p, long seed) {
        check(q, k, v, heads, lengths, p);
        return applyWith(q, k, v, heads, scale, lengths, maskValue, p, seed, null, 0);
    }

    private static Tensor applyWith(Tensor q, Tensor k, Tensor v, int heads, double scale, int[] lengths, double maskValue,
            double p, long seed, Tensor seeds, int slot) {
        ScaledDotProductAttention f = new ScaledDotProductAttention(heads, scale, lengths, maskValue, p, seed);
        f.seeds = seeds;
        f.slot = slot;
        return f.apply(new Tensor[] {q, k, v});
    }

    private static void check(Tensor q, Tensor k, Tensor v, int heads, int[] lengths, double p) {
        String op = "ScaledDotProductAttention";
        Checks.shape(q.rank() == 3, op, "q", "(B, T, C)", q.shape());
        Checks.shape(Arrays.equals(q.shape(), k.shape()), op, "k", Arrays.toString(q.shape()) + " (as q)", k.shape());
        Checks.shape(Arrays.equals(q.shape(), v.shape()), op, "v", Arrays.toString(q.shape()) + " (as q)", v.shape());
        Checks.positive(op + " heads", heads);
        if (q.dim(2) % heads != 0) {
            throw new IllegalArgumentException(op + ": heads (" + heads + ") must divide channels (" + q.dim(2) + ")");
        }
        if (lengths != null) {
            if (lengths.length != q.dim(0)) {
                throw new IllegalArgumentException(op + ": lengths must have " + q.dim(0) + " entries, got " + lengths.length);
            }
            for (int b = 0; b < lengths.length; b++) {
                if (lengths[b] < 0 || lengths[b] > q.dim(1)) {
                    throw new IllegalArgumentException(op + ": lengths[" + b + "] = " + lengths[b] + " outside [0, " + q.dim(1) + "]");
                }
            }
        }
        Checks.inRange(op + " p", p, 0, 1);
        if (p == 1) throw new IllegalArgumentException(op + ": p : 1.0 (expected: < 1, nothing would be kept)");
        for (Tensor t : new Tensor[] {k, v}) {
            if (!t.device().equals(q.device()) || t.dtype() != q.dtype()) {
                throw new IllegalArgumentException(op + ": q, k and v must share device and dtype, got " + q.dtype() + " on "
                        + q.device() + " and " + t.dtype() + " on " + t.device());
            }
        }
        AttentionKernels kernels = Backends.kernels(q, AttentionKernels.class);
        if (!kernels.supports(q.dtype(), q.dim(2) / heads)) {
            throw new IllegalArgumentException(op + ": " + q.device() + " does not run dtype " + q.dtype() + " with head dimension "
                    + q.dim(2) / heads + " (check ScaledDotProductAttention.supported first)");
        }
    }

    /**
     * {@link #apply(Tensor, Tensor, Tensor, int, double, int[], double, double, long)} with the
     * dropout seed read from slot {@code slot} of a device-side {@link lmu.backend.SeedTable} when
     * the kernels run (forward and backward), so a captured step draws new masks when the table is
     * rewritten.
     *
     * @param seeds the seed table, float32, on q's device
     * @throws IllegalArgumentException as the other form, or when the table is on another device
     */
    public static Tensor apply(Tensor q, Tensor k, Tensor v, int heads, double scale, int[] lengths, double maskValue,
            double p, Tensor seeds, int slot) {
        if (!seeds.device().equals(q.device())) {
            throw new IllegalArgumentException("ScaledDotProductAttention: the seed table must be on " + q.device()
                    + " like q, got " + seeds.device());
        }
        check(q, k, v, heads, lengths, p);
        return applyWith(q, k, v, heads, scale, lengths, maskValue, p, 0L, p == 0 ? null : seeds, slot);
    }

    /**
     * The seed-table form with the key lengths in a tensor of q's device ({@link
     * lmu.backend.DeviceLengths}: float32 whole numbers in [0, T], shape (B)) read when the kernels
     * run, so a captured step replays with the lengths written there. The values are not checked
     * (that would read them on the host).
     *
     * @param lengths valid keys per sequence, float32 tensor of shape (B) on q's device
     * @param seeds the seed table, float32, on q's device; may be null when p is 0
     * @throws IllegalArgumentException as the other forms, or if lengths is not of shape (B) on q's device
     */
    public static Tensor applyWithDeviceLengths(Tensor q, Tensor k, Tensor v, int heads, double scale, Tensor lengths,
            double maskValue, double p, Tensor seeds, int slot) {
        if (p != 0 && (seeds == null || !seeds.device().equals(q.device()))) {
            throw new IllegalArgumentException("ScaledDotProductAttention: the seed table must be on " + q.device()
                    + " like q, got " + (seeds == null ? "null" : seeds.device()));
        }
        lmu.backend.DeviceLengths.check("ScaledDotProductAttention", lengths, q.shape().length == 3 ? q.dim(0) : -1);
        if (!lengths.device().equals(q.device())) {
            throw new IllegalArgumentException("ScaledDotProductAttention: lengths must be on " + q.device() + " like q, got "
                    + lengths.device());
        }
        check(q, k, v, heads, null, p);
        ScaledDotProductAttention f = new ScaledDotProductAttention(heads, scale, null, maskValue, p, 0L);
        f.seeds = p == 0 ? null : seeds;
        f.slot = slot;
        f.deviceLengths = lengths;
        return f.apply(new Tensor[] {q, k, v});
    }

    /**
     * Whether {@link #apply} runs for a tensor like {@code q} with head dimension {@code headDim}: its
     * device has {@link AttentionKernels} and they support the dtype and head dimension.
     *
     * @param q a tensor on the device, with the dtype, of the queries
     */
    public static boolean supported(Tensor q, int headDim) {
        return supported(q, q.dtype(), headDim);
    }

    /**
     * Whether {@link #apply} runs for queries of dtype {@code dtype} on the device of {@code onDevice}
     * with head dimension {@code headDim} (e.g. 16-bit operands of a mixed-precision policy before
     * they are converted).
     *
     * @param onDevice any tensor on the device
     */
    public static boolean supported(Tensor onDevice, lmu.tensor.DType dtype, int headDim) {
        AttentionKernels kernels;
        try {
            kernels = Backends.kernels(onDevice, AttentionKernels.class);
        } catch (UnsupportedOperationException e) {
            return false;
        }
        return kernels.supports(dtype, headDim);
    }

    @Override
    protected Tensor forward(Ctx ctx, Tensor... in) {
        Tensor q = in[0], k = in[1], v = in[2];
        AttentionKernels kernels = Backends.kernels(q, AttentionKernels.class);
        AttentionKernels.Saved saved = deviceLengths != null
                ? kernels.forward(q, k, v, heads, scale, deviceLengths, maskValue, p, seeds, slot)
                : seeds == null ? kernels.forward(q, k, v, heads, scale, lengths, maskValue, p, seed)
                : kernels.forward(q, k, v, heads, scale, lengths, maskValue, p, seeds, slot);
        ctx.save(q, k, v, saved);
        return saved.out();
    }

    @Override
    protected Tensor[] backward(Ctx ctx, Tensor dOut) {
        Tensor q = ctx.tensor(0), k = ctx.tensor(1), v = ctx.tensor(2);
        AttentionKernels.Saved saved = (AttentionKernels.Saved) ctx.saved(3);
        AttentionKernels kernels = Backends.kernels(q, AttentionKernels.class);
        if (deviceLengths != null) {
            return kernels.backward(dOut, q, k, v, saved, heads, scale, deviceLengths, maskValue, p, seeds, slot,
                    ctx.needsInputGrad(0), ctx.needsInputGrad(1), ctx.needsInputGrad(2));
        }
        if (seeds != null) {
            return kernels.backward(dOut, q, k, v, saved, heads, scale, lengths, maskValue, p, seeds, slot, ctx.needsInputGrad(0),
                    ctx.needsInputGrad(1), ctx.needsInputGrad(2));
        }
        return kernels.backward(dOut, q, k, v, saved, heads, scale, lengths, maskValue, p, seed, ctx.needsInputGrad(0),
                ctx.needsInputGrad(1), ctx.needsInputGrad(2));
    }
}
