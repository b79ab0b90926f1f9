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
 * the attention and LMU sub-blocks is configurable; the feed-forward sub-block comes last.
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
        Checks.shape(x.rank() == 3 && x.dim(2) == channels, "EncoderBlock", "input", "(B, T, " + channels + ")", x.shape());
        Masks.checkLengths("EncoderBlock", lengths, x.dim(0), x.dim(1), 0);
        if (lmuFirst) {
            x = lmuSubBlock(x, lengths);
            x = attentionSubBlock(x, lengths);
        } else {
            x = attentionSubBlock(x, lengths);
            x = lmuSubBlock(x, lengths);
        }
        if (feedForward != null) {
            x = preNorm ? x.add(dropout.forward(feedForward.forward(feedForwardNorm.forward(x))))
                    : feedForwardNorm.forward(x.add(dropout.forward(feedForward.forward(x))));
        }
        return x;
    }

    private Tensor attentionSubBlock(Tensor x, int[] lengths) {
        if (preNorm) return x.add(dropout.forward(attention.forward(attentionNorm.forward(x), lengths)));
        return attentionNorm.forward(x.add(dropout.forward(attention.forward(x, lengths))));
    }

    private Tensor lmuSubBlock(Tensor x, int[] lengths) {
        Tensor in = preNorm ? lmuNorm.forward(x) : x;
        Tensor y = lmu.forward(in, lengths);
        Checks.shape(y.rank() == 3 && y.dim(0) == x.dim(0) && y.dim(1) == x.dim(1) && y.dim(2) == channels, "EncoderBlock",
                "sequence layer output", "(" + x.dim(0) + ", " + x.dim(1) + ", " + channels + ")", y.shape());
        y = dropout.forward(y);
        if (lmuResidual) y = x.add(y);
        return preNorm ? y : lmuNorm.forward(y);
    }

    public MultiHeadAttention attention() {
        return attention;
    }

    public SequenceLayer lmu() {
        return lmu;
    }
}
