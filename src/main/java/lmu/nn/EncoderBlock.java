package lmu.nn;

import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Checks;
import lmu.util.Rng;

/**
 * One encoder block: a self-attention sub-block, an LMU (sequence layer) sub-block and an optional
 * feed-forward sub-block, each with dropout on its output, a residual connection and a layer norm.
 * With pre-LN each sub-block computes {@code x + dropout(f(norm(x)))}; with post-LN
 * {@code norm(x + dropout(f(x)))}. Without the LMU residual the LMU sub-block computes
 * {@code dropout(lmu(norm(x)))} (pre-LN) or {@code norm(dropout(lmu(x)))} (post-LN). The order of
 * the attention and LMU sub-blocks is configurable; the feed-forward sub-block comes last. Each
 * residual add runs fused with the layer norm that follows it ({@link LayerNorm#forwardResidual}):
 * the sub-block's own norm (post-LN) or the next sub-block's (pre-LN; for the last sub-block, the
 * norm after the block when the encoder passes it in).
 *
 * <p>Parameter names: {@code attention.*}, {@code attention_norm.*}, {@code lmu.*}, {@code lmu_norm.*},
 * {@code feed_forward.*}, {@code feed_forward_norm.*}.
 */
public final class EncoderBlock extends Module {
    private final int channels;
    private final boolean preNorm, lmuFirst, lmuResidual;
    private final MultiHeadAttention attention;
    private final LayerNorm attentionNorm;
    private final SequenceLayer lmu;
    private final LayerNorm lmuNorm;
    private final FeedForward feedForward;
    private final LayerNorm feedForwardNorm;
    private final Dropout dropout;

    /**
     * @param config architecture (hidden, heads, dropouts, norm placement, feed-forward width, LMU residual, block order)
     * @param lmu this block's sequence layer; must be a {@link Module}, keeping C channels
     * @param rng initialisation randomness
     * @param dtype parameter type (F32; F64 for gradient checks)
     * @throws IllegalArgumentException if {@code lmu} is not a Module
     */
    public EncoderBlock(ModelConfig config, SequenceLayer lmu, Rng rng, DType dtype) {
        if (!(lmu instanceof Module lmuModule)) {
            throw new IllegalArgumentException("EncoderBlock: the sequence layer must be a Module (so its parameters are "
                    + "registered), got " + (lmu == null ? "null" : lmu.getClass().getName()));
        }
        int c = config.hidden();
        double eps = config.layerNormEps();
        this.channels = c;
        this.preNorm = config.preNorm();
        this.lmuFirst = config.lmuFirst();
        this.lmuResidual = config.lmuResidual();
        if (lmuFirst) {
            this.lmu = lmu;
            child("lmu", lmuModule);
            this.lmuNorm = child("lmu_norm", new LayerNorm(c, eps, dtype));
            this.attention = child("attention", new MultiHeadAttention(c, config.heads(), config.attentionDropout(), rng, dtype));
            this.attentionNorm = child("attention_norm", new LayerNorm(c, eps, dtype));
        } else {
            this.attention = child("attention", new MultiHeadAttention(c, config.heads(), config.attentionDropout(), rng, dtype));
            this.attentionNorm = child("attention_norm", new LayerNorm(c, eps, dtype));
            this.lmu = lmu;
            child("lmu", lmuModule);
            this.lmuNorm = child("lmu_norm", new LayerNorm(c, eps, dtype));
        }
        if (config.feedForward() > 0) {
            this.feedForward = child("feed_forward", new FeedForward(c, config.feedForward(), config.dropout(), rng, dtype));
            this.feedForwardNorm = child("feed_forward_norm", new LayerNorm(c, eps, dtype));
        } else {
            this.feedForward = null;
            this.feedForwardNorm = null;
        }
        this.dropout = child("dropout", new Dropout(config.dropout(), rng.nextLong()));
    }

    /**
     * @param x input, shape (B, T, C)
     * @param lengths valid frames per sequence, length B, each in [0, T]
     * @return shape (B, T, C)
     * @throws IllegalArgumentException if x is not (B, T, C) or a length is out of range
     */
    public Tensor forward(Tensor x, int[] lengths) {
        return forward(x, null, lengths, null)[0];
    }

    /**
     * The block with the layer norms around it fused into its residual adds (pre-LN): its input's
     * norm may come precomputed, and the norm that follows the block (the next block's first, or
     * the encoder's final one) runs fused with its last residual add. Post-LN blocks take neither.
     *
     * @param x input, shape (B, T, C)
     * @param normed {@link #firstNorm()} of x as the previous stage computed it, shape (B, T, C), or null
     * @param lengths valid frames per sequence, length B, each in [0, T]
     * @param next the layer norm applied to the block's output next, or null
     * @return {output (B, T, C), next's norm of the output or null without next}
     * @throws IllegalArgumentException if x is not (B, T, C), a length is out of range, or a norm is passed to a post-LN block
     */
    public Tensor[] forward(Tensor x, Tensor normed, int[] lengths, LayerNorm next) {
        Checks.shape(x.rank() == 3 && x.dim(2) == channels, "EncoderBlock", "input", "(B, T, " + channels + ")", x.shape());
        Masks.checkLengths("EncoderBlock", lengths, x.dim(0), x.dim(1), 0);
        if (!preNorm && (normed != null || next != null)) {
            throw new IllegalArgumentException("EncoderBlock: a post-LN block takes no norms from around it, got "
                    + (normed != null ? "a normed input" : "a next norm"));
        }
        int n = feedForward != null ? 3 : 2;
        SubBlock[] order = new SubBlock[n];
        order[lmuFirst ? 0 : 1] = SubBlock.LMU;
        order[lmuFirst ? 1 : 0] = SubBlock.ATTENTION;
        if (n == 3) order[2] = SubBlock.FEED_FORWARD;
        if (!preNorm) { // x ← norm(x + dropout(f(x))): the residual add runs fused with the norm
            for (SubBlock sb : order) {
                Tensor r = dropout.forward(run(sb, x, lengths));
                x = residual(sb) ? norm(sb).forwardResidual(x, r)[1] : norm(sb).forward(r);
            }
            return new Tensor[] {x, null};
        }
        // x ← x + dropout(f(norm(x))): each residual add runs fused with the norm that comes next
        if (normed == null) normed = norm(order[0]).forward(x);
        for (int i = 0; i < n; i++) {
            Tensor r = dropout.forward(run(order[i], normed, lengths));
            LayerNorm following = i + 1 < n ? norm(order[i + 1]) : next;
            normed = null;
            if (following == null) {
                x = residual(order[i]) ? x.add(r) : r;
            } else if (residual(order[i])) {
                Tensor[] sy = following.forwardResidual(x, r);
                x = sy[0];
                normed = sy[1];
            } else {
                x = r;
                normed = following.forward(r);
            }
        }
        return new Tensor[] {x, normed};
    }

    /** The layer norm a pre-LN block applies to its input first (its first sub-block's). */
    public LayerNorm firstNorm() {
        return lmuFirst ? lmuNorm : attentionNorm;
    }

    private enum SubBlock { ATTENTION, LMU, FEED_FORWARD }

    private LayerNorm norm(SubBlock sb) {
        return switch (sb) {
            case ATTENTION -> attentionNorm;
            case LMU -> lmuNorm;
            case FEED_FORWARD -> feedForwardNorm;
        };
    }

    private boolean residual(SubBlock sb) {
        return sb != SubBlock.LMU || lmuResidual;
    }

    /** The sub-block's function f (before dropout and residual). */
    private Tensor run(SubBlock sb, Tensor in, int[] lengths) {
        return switch (sb) {
            case ATTENTION -> attention.forward(in, lengths);
            case FEED_FORWARD -> feedForward.forward(in);
            case LMU -> {
                Tensor y = lmu.forward(in, lengths);
                Checks.shape(y.rank() == 3 && y.dim(0) == in.dim(0) && y.dim(1) == in.dim(1) && y.dim(2) == channels,
                        "EncoderBlock", "sequence layer output", "(" + in.dim(0) + ", " + in.dim(1) + ", " + channels + ")",
                        y.shape());
                yield y;
            }
        };
    }

    public MultiHeadAttention attention() {
        return attention;
    }

    public SequenceLayer lmu() {
        return lmu;
    }
}
