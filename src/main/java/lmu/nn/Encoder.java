package lmu.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Checks;
import lmu.util.Rng;

/**
 * The speech encoder: input projection (input_dim → hidden) with dropout, N {@link EncoderBlock}s with
 * a {@link Downsample} after the blocks listed in {@code downsample.after} (1-based block numbers, 0 =
 * before the first block), and a final layer norm when the blocks are pre-LN (post-LN blocks already
 * end in one). Lengths are carried exactly through every downsampling step.
 *
 * <p>Parameter names, in the order they run: {@code input.*}, then {@code blocks.<i>.*} (0-based) and
 * {@code downsample.<j>.*} (0-based, the j-th downsampling step) interleaved, then {@code final_norm.*}.
 */
public final class Encoder extends Module {
    private final ModelConfig config;
    private final Linear input;
    private final Dropout dropout;
    private final List<Module> stages = new ArrayList<>(); // EncoderBlock or Downsample, in order
    private final List<EncoderBlock> blocks = new ArrayList<>();
    private final LayerNorm finalNorm;

    /**
     * @param config architecture
     * @param layers builds each block's sequence layer (the LMU)
     * @param rng initialisation randomness, consumed in parameter order
     * @param dtype parameter type (F32; F64 for gradient checks)
     */
    public Encoder(ModelConfig config, SequenceLayer.Factory layers, Rng rng, DType dtype) {
        this.config = config;
        int c = config.hidden();
        this.input = child("input", new Linear(config.inputDim(), c, true, rng, dtype));
        this.dropout = child("dropout", new Dropout(config.dropout(), rng.nextLong()));
        int downsamples = 0;
        for (int i = 0; i <= config.blocks(); i++) {
            if (i > 0) {
                int block = i - 1;
                SequenceLayer layer = layers.create(block, c, config.maxFramesAtBlock(block), rng);
                EncoderBlock b = child("blocks." + block, new EncoderBlock(config, layer, rng, dtype));
                blocks.add(b);
                stages.add(b);
            }
            for (int after : config.downsampleAfter()) {
                if (after == i) {
                    stages.add(child("downsample." + downsamples++, new Downsample(c, config.downsampleKernel(),
                            config.downsampleStride(), config.downsamplePadding(), rng, dtype)));
                }
            }
        }
        this.finalNorm = config.preNorm() ? child("final_norm", new LayerNorm(c, config.layerNormEps(), dtype)) : null;
    }

    public Encoder(ModelConfig config, SequenceLayer.Factory layers, Rng rng) {
        this(config, layers, rng, DType.F32);
    }

    /**
     * @param features input, shape (B, T, input_dim)
     * @param lengths valid frames per sequence, length B, each in [1, T]
     * @return features (B, T', hidden) and per-sequence output lengths
     * @throws IllegalArgumentException if features are not (B, T, input_dim), a length is out of range, or downsampling
     *     would leave a sequence without frames
     */
    public EncoderOutput forward(Tensor features, int[] lengths) {
        Checks.shape(features.rank() == 3 && features.dim(2) == config.inputDim(), "Encoder", "features",
                "(B, T, " + config.inputDim() + ")", features.shape());
        Masks.checkLengths("Encoder", lengths, features.dim(0), features.dim(1), 1);
        Tensor x = dropout.forward(input.forward(features));
        int[] lens = lengths.clone();
        FrameLengths table = FrameLengths.active(); // device lengths per level, for a captured step
        int level = 0;
        if (table != null) table.map(level, lens);
        Tensor normed = null; // pre-LN: the next stage's first norm of x, computed fused with the residual add before it
        for (int i = 0; i < stages.size(); i++) {
            if (stages.get(i) instanceof EncoderBlock b) {
                LayerNorm next = null;
                if (config.preNorm()) {
                    next = i + 1 == stages.size() ? finalNorm
                            : stages.get(i + 1) instanceof EncoderBlock nb ? nb.firstNorm() : null;
                }
                Tensor[] out = b.forward(x, normed, lens, next);
                x = out[0];
                normed = out[1];
            } else {
                EncoderOutput o = ((Downsample) stages.get(i)).forward(x, lens);
                x = o.features();
                lens = o.lengths();
                if (table != null) table.map(++level, lens);
                normed = null;
            }
        }
        if (finalNorm != null) x = normed != null ? normed : finalNorm.forward(x);
        return new EncoderOutput(x, lens);
    }

    /**
     * The lengths at every level of the encoder for the given input lengths, without running it:
     * level 0 the input lengths, level k those after the k-th downsampling ({@link FrameLengths}).
     *
     * @param lengths valid frames per sequence, length B
     * @return one array of length B per level
     */
    public java.util.List<int[]> levelLengths(int[] lengths) {
        java.util.List<int[]> out = new java.util.ArrayList<>();
        int[] lens = lengths.clone();
        out.add(lens);
        for (Module stage : stages) {
            if (stage instanceof Downsample d) {
                lens = d.outputLengths(lens);
                out.add(lens);
            }
        }
        return out;
    }

    /** Output lengths for the given input lengths, without running the encoder. */
    public int[] outputLengths(int[] lengths) {
        int[] out = new int[lengths.length];
        for (int b = 0; b < out.length; b++) out[b] = config.outputFrames(lengths[b]);
        return out;
    }

    public List<EncoderBlock> blocks() {
        return Collections.unmodifiableList(blocks);
    }

    public ModelConfig config() {
        return config;
    }
}
