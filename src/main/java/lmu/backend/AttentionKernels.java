package lmu.backend;

import lmu.tensor.DType;
import lmu.tensor.Tensor;

/**
 * Fused multi-head scaled dot-product attention on one device, forward and backward: for every
 * sequence b and head h, {@code O = dropout(softmax(scale · Q·Kᵀ with keys s ≥ lengths[b] set to
 * maskValue)) · V}, heads taken as column blocks of (B, T, C) inputs (C = H·d, head h in columns
 * [h·d, (h+1)·d)) and joined the same way in the output.
 *
 * <p>Dropout is inverted dropout on the softmax output with the counter-based mask of {@link
 * lmu.util.Rng}: element (bh, t, s) of the (B·H, T, T) weights, bh = b·H + h, is kept when {@code
 * (Rng.bits(seed, (bh·T + t)·T + s) >>> 11) >= ceil(p·2^53)} and then multiplied by {@code (float)
 * (1 / (1 − p))}. That is the mask {@link Backend#dropout} draws on the unfused weight tensor, so
 * every implementation computes the same function as the composition of separate ops, on every
 * device, for the same seed.
 *
 * <p>What forward keeps for backward differs per device ({@link Saved}); callers only hand it back.
 * The CPU implementation ({@code lmu.backend.cpu.CpuAttentionKernels}) is the reference.
 *
 * <pre>{@code
 * AttentionKernels att = Backends.kernels(q, AttentionKernels.class);
 * AttentionKernels.Saved s = att.forward(q, k, v, heads, 1 / Math.sqrt(d), lengths, -1e4, 0.1, seed);
 * Tensor[] g = att.backward(dOut, q, k, v, s, heads, 1 / Math.sqrt(d), lengths, -1e4, 0.1, seed, true, true, true);
 * }</pre>
 */
public interface AttentionKernels {
    /**
     * Forward's result.
     *
     * @param out O, shape (B, T, C), in q's dtype (CUDA: F32, or F16/BF16 from the tensor-core
     *     kernels); backward may read it (CUDA does), so it must not be modified in place before backward
     * @param state what backward needs besides q, k, v and out, on the same device: the softmax
     *     output (B·H, T, T) on the CPU, per-row softmax statistics (B, H, T, 2) on CUDA
     */
    record Saved(Tensor out, Tensor state) {}

    /**
     * Whether this device runs the fused op for this dtype and head dimension; callers fall back
     * to the composed ops when not ({@code MultiHeadAttention.forwardComposed}).
     *
     * @param dtype element type of q, k, v
     * @param headDim d = C / H
     */
    boolean supports(DType dtype, int headDim);

    /**
     * @param q queries, shape (B, T, C)
     * @param k keys, shape (B, T, C)
     * @param v values, shape (B, T, C)
     * @param heads H, divides C
     * @param scale factor of the scores, usually 1/√d
     * @param lengths valid keys per sequence, length B, each in [0, T]; null: all keys valid
     * @param maskValue score given to masked keys
     * @param p dropout probability on the weights, in [0, 1); 0 for none
     * @param seed dropout seed (ignored when p is 0)
     * @return O and what backward needs
     * @throws IllegalArgumentException if the tensors are not of this device, or {@link #supports} is false
     */
    Saved forward(Tensor q, Tensor k, Tensor v, int heads, double scale, int[] lengths, double maskValue, double p,
            long seed);

    /**
     * Gradients of q, k and v, new tensors (written, not accumulated). Every scalar argument must be
     * the forward's.
     *
     * @param dOut gradient of O, shape (B, T, C)
     * @param saved forward's result
     * @param needQ whether to compute dq
     * @param needK whether to compute dk
     * @param needV whether to compute dv
     * @return {dq, dk, dv}, each shape (B, T, C) or null where not needed
     * @throws IllegalArgumentException if the tensors are not of this device
     */
    Tensor[] backward(Tensor dOut, Tensor q, Tensor k, Tensor v, Saved saved, int heads, double scale, int[] lengths,
            double maskValue, double p, long seed, boolean needQ, boolean needK, boolean needV);
    /**
     * {@link #forward(Tensor, Tensor, Tensor, int, double, int[], double, double, long)} with the
     * dropout seed in slot {@code slot} of a device-side {@link SeedTable} (read when the kernels
     * run, so a captured launch replays with the table's current seed). The default reads the seed
     * to the host first.
     *
     * @param seeds the seed table, float32, on this device
     */
    default Saved forward(Tensor q, Tensor k, Tensor v, int heads, double scale, int[] lengths, double maskValue, double p,
            Tensor seeds, int slot) {
        return forward(q, k, v, heads, scale, lengths, maskValue, p, p == 0 ? 0 : SeedTable.read(seeds, slot));
    }

    /**
     * {@link #backward(Tensor, Tensor, Tensor, Tensor, Saved, int, double, int[], double, double, long, boolean,
     * boolean, boolean)} with the dropout seed in a {@link SeedTable} slot (see the forward of that form).
     *
     * @param seeds the seed table, float32, on this device
     */
    default Tensor[] backward(Tensor dOut, Tensor q, Tensor k, Tensor v, Saved saved, int heads, double scale, int[] lengths,
            double maskValue, double p, Tensor seeds, int slot, boolean needQ, boolean needK, boolean needV) {
        return backward(dOut, q, k, v, saved, heads, scale, lengths, maskValue, p, p == 0 ? 0 : SeedTable.read(seeds, slot),
                needQ, needK, needV);
    }

    /**
     * The seed-table forward with the key lengths in a device tensor ({@link DeviceLengths}: float32
     * whole numbers in [0, T], shape (B)) read when the kernels run, so a captured launch replays with
     * the lengths written there before the replay. The default reads lengths and seed to the host.
     *
     * @param lengths valid keys per sequence, float32 tensor of shape (B) on this device
     * @param seeds the seed table, float32, on this device
     * @throws IllegalArgumentException as the host form, or if lengths is not of shape (B)
     */
    default Saved forward(Tensor q, Tensor k, Tensor v, int heads, double scale, Tensor lengths, double maskValue, double p,
            Tensor seeds, int slot) {
        int[] l = DeviceLengths.read("AttentionKernels.forward", lengths, q.dim(0));
        return forward(q, k, v, heads, scale, l, maskValue, p, seeds, slot);
    }

    /**
     * The seed-table backward with device lengths (see the forward of that form).
     *
     * @param lengths valid keys per sequence, float32 tensor of shape (B) on this device
     * @param seeds the seed table, float32, on this device
     * @throws IllegalArgumentException as the host form, or if lengths is not of shape (B)
     */
    default Tensor[] backward(Tensor dOut, Tensor q, Tensor k, Tensor v, Saved saved, int heads, double scale, Tensor lengths,
            double maskValue, double p, Tensor seeds, int slot, boolean needQ, boolean needK, boolean needV) {
        int[] l = DeviceLengths.read("AttentionKernels.backward", lengths, q.dim(0));
        return backward(dOut, q, k, v, saved, heads, scale, l, maskValue, p, seeds, slot, needQ, needK, needV);
    }
}
