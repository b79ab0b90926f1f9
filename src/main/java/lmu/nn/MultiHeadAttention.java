package lmu.nn;

import lmu.amp.Autocast;
import lmu.amp.Precision;
import lmu.ops.MatMul;
import lmu.ops.MaskedFill;
import lmu.ops.ScaledDotProductAttention;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.Tensor;
import lmu.util.Checks;
import lmu.util.Rng;

/**
 * Multi-head scaled dot-product self-attention with a key padding mask.
 *
 * <pre>
 * q, k, v = x·W_qᵀ + b_q, x·W_kᵀ + b_k, x·W_vᵀ + b_v        (B, T, C), split into H heads of d = C/H
 * a = softmax(q·kᵀ / √d  with keys t ≥ lengths[b] set to −1e4)   (B·H, T, T)
 * y = (dropout(a)·v, heads joined)·W_oᵀ + b_o                  (B, T, C)
 * </pre>
 *
 * Masked scores are set to {@link #MASK_VALUE} = −1e4, not −∞ or −1e9: −1e4 is exactly representable
 * in fp16 (whose largest finite value is 65504) and bf16, so a half-precision score tensor never
 * overflows, and exp(−1e4 − max) is exactly 0 in fp32 whenever a row has an unmasked score above
 * −1e4 + 104, which every row with at least one valid key has in practice. A sequence of length 0 has
 * every key masked; its rows then give a uniform average over the padded frames, finite, never NaN.
 * Query rows at padded frames attend to the valid keys like any other row; their outputs are
 * meaningless but finite and later layers ignore them through the lengths.
 *
 * <p>The core (scores, mask, softmax, dropout, weighted sum) runs as one fused op,
 * {@link ScaledDotProductAttention}, on every device whose {@link lmu.backend.AttentionKernels} run
 * the input's dtype and head dimension (CPU: any; CUDA: d = 32 or 64). Under a mixed-precision
 * {@link Autocast} policy on a device whose kernels run the policy's 16-bit format (CUDA: F16, BF16
 * on tensor cores), q, k and v are converted to that format ({@link Autocast#operand}) and the fused
 * op computes in it with fp32 accumulation and softmax; its output is widened to F32 ({@link
 * Autocast#result}). {@link #forwardComposed} is the same function from separate ops, used
 * otherwise, in particular on the CPU under a policy (whose half-precision roundings of the
 * attention products it carries).
 * In the composed form the mask is a boolean[] of shape (B, 1, 1, T) broadcast over heads and queries: nothing of
 * size T×T is allocated for it. Parameter names: {@code query}, {@code key}, {@code value},
 * {@code output} (each a {@link Linear} with weight (C, C) and bias (C)).
 */
public final class MultiHeadAttention extends Module {
    /** Score given to masked keys before the softmax; safe in fp16 and bf16. */
    public static final double MASK_VALUE = -1e4;

    private final int channels;
    private final int heads;
    private final Linear query;
    private final Linear key;
    private final Linear value;
    private final Linear output;
    private final Dropout dropout;

    /**
     * @param channels C, model width
     * @param heads H, must divide C
     * @param dropout probability of dropping an attention weight (training only)
     * @param rng initialisation randomness (weights and the dropout seed)
     * @param dtype parameter type (F32; F64 for gradient checks)
     * @throws IllegalArgumentException if H does not divide C or a size is not positive
     */
    public MultiHeadAttention(int channels, int heads, double dropout, Rng rng, DType dtype) {
        Checks.positive("MultiHeadAttention channels", channels);
        Checks.positive("MultiHeadAttention heads", heads);
        if (channels % heads != 0) {
            throw new IllegalArgumentException("MultiHeadAttention: heads (" + heads + ") must divide channels (" + channels
                    + ")");
        }
        this.channels = channels;
        this.heads = heads;
        this.query = child("query", new Linear(channels, channels, true, rng, dtype));
        this.key = child("key", new Linear(channels, channels, true, rng, dtype));
        this.value = child("value", new Linear(channels, channels, true, rng, dtype));
        this.output = child("output", new Linear(channels, channels, true, rng, dtype));
        this.dropout = child("dropout", new Dropout(dropout, rng.nextLong()));
    }

    public MultiHeadAttention(int channels, int heads, double dropout, Rng rng) {
        this(channels, heads, dropout, rng, DType.F32);
    }

    /**
     * @param x input, shape (B, T, C)
     * @param lengths valid frames per sequence, length B, each in [0, T]; null means all T frames are valid
     * @return shape (B, T, C)
     * @throws IllegalArgumentException if x is not (B, T, C) or a length is out of range
     */
    public Tensor forward(Tensor x, int[] lengths) {
        Checks.shape(x.rank() == 3 && x.dim(2) == channels, "MultiHeadAttention", "input", "(B, T, " + channels + ")",
                x.shape());
        int batch = x.dim(0), frames = x.dim(1), d = channels / heads;
        if (lengths != null) Masks.checkLengths("MultiHeadAttention", lengths, batch, frames, 0);
        Precision policy = Autocast.current();
        // under a mixed-precision policy: the fused op on 16-bit operands where the device runs it;
        // elsewhere (the CPU) the composed ops, which carry the policy's roundings of the attention products
        boolean half = policy != Precision.OFF && !x.device().equals(Device.CPU) && x.dtype() == DType.F32
                && ScaledDotProductAttention.supported(x, policy.storage(), d);
        if (!half && (policy != Precision.OFF || !ScaledDotProductAttention.supported(x, d))) return forwardComposed(x, lengths);
        Tensor q = query.forward(x), k = key.forward(x), v = value.forward(x);
        if (half) { // stored in the policy's format, gradients converted back to F32
            q = Autocast.operand(q);
            k = Autocast.operand(k);
            v = Autocast.operand(v);
        }
        boolean drop = dropout.active();
        MaskSeeds table = drop ? MaskSeeds.active() : null;
        Tensor device = FrameLengths.deviceFor(lengths);
        if (device != null && (!drop || (table != null && table.onDevice()))) {
            // lengths read on the device (no host choice on their values: full lengths mask nothing)
            Tensor context = drop
                    ? ScaledDotProductAttention.applyWithDeviceLengths(q, k, v, heads, 1 / Math.sqrt(d), device, MASK_VALUE,
                            dropout.p(), table.table(), dropout.nextMaskSlot())
                    : ScaledDotProductAttention.applyWithDeviceLengths(q, k, v, heads, 1 / Math.sqrt(d), device, MASK_VALUE, 0,
                            null, 0);
            return output.forward(half ? Autocast.result(context) : context);
        }
        int[] keyLengths = lengths == null || Masks.allFull(lengths, frames) ? null : lengths;
        Tensor context = table != null && table.onDevice()
                ? ScaledDotProductAttention.apply(q, k, v, heads, 1 / Math.sqrt(d), keyLengths, MASK_VALUE, dropout.p(),
                        table.table(), dropout.nextMaskSlot())
                : ScaledDotProductAttention.apply(q, k, v, heads, 1 / Math.sqrt(d), keyLengths, MASK_VALUE,
                        drop ? dropout.p() : 0, drop ? dropout.nextMaskSeed() : 0);
        // a 16-bit context is widened to F32 for the output projection; its gradient goes back in 16 bits
        return output.forward(half ? Autocast.result(context) : context);
    }

    /**
     * The same function as {@link #forward} built from separate ops (scale, head permutes, batched
     * products, masked fill, softmax, dropout): the reference the fused op is tested against, and
     * the path for devices or head dimensions without a fused kernel. Draws the same dropout masks
     * as {@link #forward}.
     *
     * @param x input, shape (B, T, C)
     * @param lengths valid frames per sequence, length B, each in [0, T]; null means all T frames are valid
     * @return shape (B, T, C)
     * @throws IllegalArgumentException if x is not (B, T, C) or a length is out of range
     */
    public Tensor forwardComposed(Tensor x, int[] lengths) {
        Checks.shape(x.rank() == 3 && x.dim(2) == channels, "MultiHeadAttention", "input", "(B, T, " + channels + ")",
                x.shape());
        int batch = x.dim(0), frames = x.dim(1), d = channels / heads;
        if (lengths != null) Masks.checkLengths("MultiHeadAttention", lengths, batch, frames, 0);
        Tensor q = split(query.forward(x).mul(1 / Math.sqrt(d)), batch, frames, d);
        Tensor k = split(key.forward(x), batch, frames, d);
        Tensor v = split(value.forward(x), batch, frames, d);
        Tensor scores = MatMul.apply(q, k, false, true); // (B·H, T, T)
        Tensor device = FrameLengths.deviceFor(lengths);
        if (device != null) { // scores·keep + maskValue·(1 − keep), keep from the device lengths: no host choice
            Tensor keep = Masks.keep(device, batch, frames).reshape(batch, 1, 1, frames);
            Tensor fill = keep.mul(-MASK_VALUE).add(MASK_VALUE);
            scores = scores.reshape(batch, heads, frames, frames).mul(keep).add(fill).reshape(batch * heads, frames, frames);
        } else if (lengths != null && !Masks.allFull(lengths, frames)) {
            scores = MaskedFill.apply(scores.reshape(batch, heads, frames, frames), Masks.padding(lengths, frames),
                    new int[] {batch, 1, 1, frames}, MASK_VALUE).reshape(batch * heads, frames, frames);
        }
        Tensor weights = dropout.forward(scores.softmax(-1));
        Tensor context = MatMul.apply(weights, v, false, false) // (B·H, T, d)
                .reshape(batch, heads, frames, d).permute(0, 2, 1, 3).reshape(batch, frames, channels);
        return output.forward(context);
    }

    /** (B, T, C) → (B·H, T, d). */
    private Tensor split(Tensor t, int batch, int frames, int d) {
        return t.reshape(batch, frames, heads, d).permute(0, 2, 1, 3).reshape(batch * heads, frames, d);
    }

    public int channels() {
        return channels;
    }

    public int heads() {
        return heads;
    }
}
