package lmu.nn;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import lmu.speech.text.Vocabulary;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;

/**
 * A CTC speech recognizer: {@link Encoder} + CTC head (Linear hidden → V). {@link #forward} returns
 * logits for the CTC loss (which applies log-softmax itself, fused with its gradient);
 * {@link #logProbs} returns log-softmax outputs for decoding. The {@link Vocabulary} belongs to the
 * model, so it is saved with every checkpoint and decoding cannot drift from training.
 *
 * <p>Head initialisation: weight uniform in ±1/√C (PyTorch's Linear default), biases 0 except the
 * blank's (index 0), which is {@code blank_bias} (see {@link ModelConfig}): the untrained model
 * then emits mostly blanks. Parameter names: {@code encoder.*}, {@code head.weight} (V, C),
 * {@code head.bias} (V).
 *
 * <pre>
 * var model = new CtcModel(ModelConfig.fromYaml(Path.of("configs/small.yaml")), lmuFactory, new Rng(1));
 * CtcModel.Output out = model.forward(features, lengths);   // logits (B, T', V), lengths (B)
 * </pre>
 */
public final class CtcModel extends Module {
    private final ModelConfig config;
    private final Vocabulary vocabulary;
    private final Encoder encoder;
    private final Linear head;

    /**
     * Logits or log-probabilities with the valid frames of each sequence.
     *
     * @param values shape (B, T', V)
     * @param lengths valid frames per sequence, length B
     */
    public record Output(Tensor values, int[] lengths) {}

    /**
     * @param config architecture, vocabulary and blank bias
     * @param layers builds each block's sequence layer (the LMU)
     * @param rng initialisation randomness
     * @param dtype parameter type (F32; F64 for gradient checks)
     */
    public CtcModel(ModelConfig config, SequenceLayer.Factory layers, Rng rng, DType dtype) {
        this.config = config;
        this.vocabulary = config.vocabulary();
        this.encoder = child("encoder", new Encoder(config, layers, rng, dtype));
        this.head = child("head", new Linear(config.hidden(), vocabulary.size(), true, rng, dtype));
        Tensor bias = head.bias();
        for (int v = 0; v < vocabulary.size(); v++) bias.set(v == Vocabulary.BLANK ? config.blankBias() : 0, v);
    }

    public CtcModel(ModelConfig config, SequenceLayer.Factory layers, Rng rng) {
        this(config, layers, rng, DType.F32);
    }

    /**
     * @param features log-mel features, shape (B, T, input_dim)
     * @param lengths valid frames per sequence, length B, each in [1, T]
     * @return logits of shape (B, T', V) and the encoder output lengths
     * @throws IllegalArgumentException on bad shapes or lengths (see {@link Encoder#forward})
     */
    public Output forward(Tensor features, int[] lengths) {
        EncoderOutput e = encoder.forward(features, lengths);
        return new Output(head.forward(e.features()), e.lengths());
    }

    /**
     * Log-probabilities over the vocabulary for decoding.
     *
     * @param features shape (B, T, input_dim)
     * @param lengths length B
     * @return log-softmax over V, shape (B, T', V), and the output lengths
     */
    public Output logProbs(Tensor features, int[] lengths) {
        Output o = forward(features, lengths);
        return new Output(o.values().logSoftmax(-1), o.lengths());
    }

    /**
     * The encoder's lengths at every level for the given input lengths ({@link Encoder#levelLengths}).
     *
     * @param lengths valid frames per sequence, length B
     * @return one array of length B per level: the input, then after each downsampling
     */
    public java.util.List<int[]> levelLengths(int[] lengths) {
        return encoder.levelLengths(lengths);
    }

    /** Output frames per sequence for the given input lengths, without running the model (for CTC feasibility checks). */
    public int[] outputLengths(int[] lengths) {
        return encoder.outputLengths(lengths);
    }

    public Vocabulary vocabulary() {
        return vocabulary;
    }

    public ModelConfig config() {
        return config;
    }

    public Encoder encoder() {
        return encoder;
    }

    public Linear head() {
        return head;
    }

    /**
     * Parameter counts per top-level part, in order: each part of the encoder ({@code encoder.input},
     * {@code encoder.blocks.0}, {@code encoder.downsample.0}, …, {@code encoder.final_norm}), then
     * {@code head}, then {@code total}. Parts without parameters are left out.
     */
    public Map<String, Long> parameterSummary() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (Map.Entry<String, Module> e : encoder.children().entrySet()) {
            long n = e.getValue().parameterCount();
            if (n > 0) out.put("encoder." + e.getKey(), n);
        }
        out.put("head", head.parameterCount());
        out.put("total", parameterCount());
        return out;
    }

    /** {@link #parameterSummary()} as an aligned table, for {@code train --dry-run}. */
    public String parameterTable() {
        StringBuilder sb = new StringBuilder();
        Map<String, Long> s = parameterSummary();
        int width = s.keySet().stream().mapToInt(String::length).max().orElse(5);
        for (Map.Entry<String, Long> e : s.entrySet()) {
            if (e.getKey().equals("total")) sb.append("-".repeat(width + 14)).append('\n');
            sb.append(String.format(Locale.ROOT, "%-" + width + "s  %,12d%n", e.getKey(), e.getValue()));
        }
        return sb.toString();
    }
}
