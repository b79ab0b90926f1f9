package lmu.nn;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import lmu.speech.text.Vocabulary;
import lmu.util.ConfigMap;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The architecture of a {@link CtcModel}: the {@code model:} section of a YAML config. Other
 * top-level sections ({@code optim:}, {@code train:}, {@code data:}) are ignored here; unknown keys
 * inside {@code model:} are errors that name the key. Every key, its default and its meaning:
 *
 * <pre>
 * model:
 *   input_dim: 80            # C_in, features per frame (log-mel bins)
 *   hidden: 384              # C, width of every block
 *   blocks: 3                # N encoder blocks
 *   block_order: lmu_first   # lmu_first | attention_first: which sub-block comes first in a block
 *   norm: pre                # pre | post: layer norm before each sub-block (plus a final norm) or after each residual sum
 *   dropout: 0.1             # on the input projection and every sub-block output, training only
 *   feed_forward: 0          # width of the Linear–GELU–Linear sub-block; 0 = no feed-forward sub-block
 *   lmu_residual: true       # add the block input to the LMU output (false: the LMU output replaces it)
 *   layer_norm_eps: 1.0e-5   # ε of every layer norm
 *   max_frames: 3000         # longest input in frames (30 s at a 10 ms hop); sizes LMU caches, checked against downsampling
 *   attention:
 *     heads: 6               # H, must divide hidden
 *     dropout: 0.1           # on the attention weights, training only
 *   lmu:                     # the sequence layer of every block (see {@link Lmu})
 *     memory_order: 192      # d, Legendre coefficients per memory channel, > 0
 *     theta: 200             # θ, window of the memory in the block's own frames, > 0
 *     memory_d: 1            # memory channels K
 *     mode: parallel         # parallel (no feedback into the memory; FFT/convolution over time) | recurrent
 *     discretizer: zoh       # zoh | euler
 *     activation: tanh       # tanh | relu | identity, the hidden nonlinearity
 *     hidden_to_memory: false
 *     memory_to_memory: false
 *     input_to_hidden: false
 *     hidden_to_hidden: false
 *     memory_bias: false
 *     hidden_bias: true
 *   downsample:
 *     after: [1]             # 1-based block numbers after which time is downsampled; 0 = before the first block
 *     kernel: 3              # strided Conv1d over time
 *     stride: 2
 *     padding: 1
 *   vocabulary: " 'abcdefghijklmnopqrstuvwxyz"   # the symbols after the blank (index 0), in index order
 *   blank_bias: (derived)    # initial bias of the blank logit; default ln(0.7·(V−1)/0.3), 4.18 for V = 29
 * </pre>
 *
 * <p>Blank bias: the CTC head's biases start at 0 except the blank's, which starts at
 * {@code blank_bias}. With near-zero other logits the untrained model gives the blank probability
 * p = e^b / (e^b + V − 1). The default picks p = 0.7, about the share of blank frames in a trained
 * character CTC model at 20 ms frames (speech runs at about 15 characters per second, a third of 50
 * frames per second), so training starts from the blank-dominated output that CTC reaches anyway
 * and the early gradient goes to the characters rather than to learning the blank's prior.
 *
 * @param inputDim features per input frame
 * @param hidden model width C
 * @param blocks number of encoder blocks
 * @param lmuFirst whether the LMU sub-block precedes attention in a block
 * @param preNorm pre-LN (true) or post-LN
 * @param dropout residual-branch dropout
 * @param feedForward feed-forward width, 0 for none
 * @param lmuResidual residual connection around the LMU
 * @param layerNormEps layer norm ε
 * @param maxFrames longest input, frames
 * @param heads attention heads H
 * @param attentionDropout dropout on attention weights
 * @param lmu options of the LMU layers
 * @param downsampleAfter 1-based block numbers after which to downsample (0 = before block 1), ascending
 * @param downsampleKernel conv kernel
 * @param downsampleStride conv stride
 * @param downsamplePadding conv padding
 * @param vocabulary the output symbols (V = vocabulary.size())
 * @param blankBias initial bias of the blank logit
 */
public record ModelConfig(int inputDim, int hidden, int blocks, boolean lmuFirst, boolean preNorm, double dropout,
        int feedForward, boolean lmuResidual, double layerNormEps, int maxFrames, int heads, double attentionDropout,
        Lmu lmu, List<Integer> downsampleAfter, int downsampleKernel, int downsampleStride, int downsamplePadding,
        Vocabulary vocabulary, double blankBias) {

    /** Blank share the default {@code blank_bias} aims at. */
    public static final double DEFAULT_BLANK_PRIOR = 0.7;

    /**
     * Options of the LMU layer of each block, in the terms of keras-lmu (see DESIGN.md §1): u = e_x·x
     * (+ e_h·h if hiddenToMemory, + e_m·m if memoryToMemory) (+ b_u if memoryBias), m ← Ā m + B̄ u,
     * h = f(W_m m (+ W_x x if inputToHidden) (+ W_h h if hiddenToHidden) (+ b_h if hiddenBias)). The
     * LMU's input and hidden width are the model width.
     *
     * @param order d, memory order
     * @param theta θ in frames of the block (after earlier downsampling)
     * @param memoryD K, memory channels
     * @param parallel parallel mode (no feedback; computed as a convolution over time), else recurrent
     * @param discretizer "zoh" or "euler"
     * @param activation "tanh", "relu" or "identity"
     */
    public record Lmu(int order, double theta, int memoryD, boolean parallel, String discretizer, String activation,
            boolean hiddenToMemory, boolean memoryToMemory, boolean inputToHidden, boolean hiddenToHidden,
            boolean memoryBias, boolean hiddenBias) {}

    /** V, output symbols including the blank. */
    public int vocabSize() {
        return vocabulary.size();
    }

    /** Total time reduction factor (product of the strides, for reporting; lengths use {@link #outputFrames}). */
    public int downsampleFactor() {
        int f = 1;
        for (int i = 0; i < downsampleAfter.size(); i++) f *= downsampleStride;
        return f;
    }

    /** Frames after one downsampling step of a sequence of {@code frames} frames. */
    public int downsampled(int frames) {
        return Downsample.outputLength(frames, downsampleKernel, downsampleStride, downsamplePadding);
    }

    /** Encoder output frames for an input of {@code inputFrames} frames (exactly what {@link Encoder} returns). */
    public int outputFrames(int inputFrames) {
        int t = inputFrames;
        for (int i = 0; i < downsampleAfter.size(); i++) t = downsampled(t);
        return t;
    }

    /** Longest sequence block {@code block} (0-based) sees, in its own frames. */
    public int maxFramesAtBlock(int block) {
        int t = maxFrames;
        for (int after : downsampleAfter) if (after <= block) t = downsampled(t);
        return t;
    }

    /** The bias that gives the blank probability {@code prior} when every other logit is 0: ln(prior·(V−1)/(1−prior)). */
    public static double logPriorBias(double prior, int vocabSize) {
        return Math.log(prior * (vocabSize - 1) / (1 - prior));
    }

    // ------------------------------------------------------------------ parsing

    /** Reads the {@code model:} section of a YAML file. */
    public static ModelConfig fromYaml(Path file) {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return fromRoot(ConfigMap.root(yaml().load(r), file.toString()));
        } catch (IOException e) {
            throw new UncheckedIOException("ModelConfig: cannot read " + file, e);
        }
    }

    /** Reads the {@code model:} section of YAML text. */
    public static ModelConfig fromYamlText(String text) {
        return fromRoot(ConfigMap.root(yaml().load(text), "YAML text"));
    }

    private static Yaml yaml() {
        return new Yaml(new SafeConstructor(new LoaderOptions()));
    }

    /** Reads the {@code model:} section of a parsed config; other sections are left alone. */
    public static ModelConfig fromRoot(ConfigMap root) {
        return parse(root.section("model"));
    }

    /**
     * Parses and validates a {@code model:} section.
     *
     * @throws IllegalArgumentException naming the dotted key of the first bad or unknown value
     */
    public static ModelConfig parse(ConfigMap m) {
        int inputDim = positive(m, "input_dim", m.getInt("input_dim", 80));
        int hidden = positive(m, "hidden", m.getInt("hidden", 384));
        int blocks = positive(m, "blocks", m.getInt("blocks", 3));
        boolean lmuFirst = m.getChoice("block_order", "lmu_first", "lmu_first", "attention_first").equals("lmu_first");
        boolean preNorm = m.getChoice("norm", "pre", "pre", "post").equals("pre");
        double dropout = probability(m, "dropout", m.getDouble("dropout", 0.1));
        int feedForward = m.getInt("feed_forward", 0);
        if (feedForward < 0) throw bad(m, "feed_forward", "expected a width >= 0 (0 = off), got " + feedForward);
        boolean lmuResidual = m.getBoolean("lmu_residual", true);
        double eps = m.getDouble("layer_norm_eps", 1e-5);
        if (!(eps > 0)) throw bad(m, "layer_norm_eps", "expected > 0, got " + eps);
        int maxFrames = positive(m, "max_frames", m.getInt("max_frames", 3000));

        ConfigMap a = m.section("attention");
        int heads = positive(a, "heads", a.getInt("heads", 6));
        if (hidden % heads != 0) {
            throw bad(a, "heads", "expected a divisor of model.hidden = " + hidden + ", got " + heads);
        }
        double attentionDropout = probability(a, "dropout", a.getDouble("dropout", 0.1));
        a.rejectUnknown();

        Lmu lmu = parseLmu(m.section("lmu"));

        ConfigMap d = m.section("downsample");
        List<Integer> after = d.getIntList("after", List.of(1));
        int kernel = positive(d, "kernel", d.getInt("kernel", 3));
        int stride = positive(d, "stride", d.getInt("stride", 2));
        int padding = d.getInt("padding", 1);
        if (padding < 0) throw bad(d, "padding", "expected >= 0, got " + padding);
        d.rejectUnknown();
        for (int i = 0; i < after.size(); i++) {
            int n = after.get(i);
            if (n < 0 || n > blocks) {
                throw bad(d, "after", "expected block numbers in [0, " + blocks + "] (1-based, 0 = before the first block), got "
                        + after);
            }
            if (i > 0 && n < after.get(i - 1)) throw bad(d, "after", "expected ascending block numbers, got " + after);
        }
        int t = maxFrames;
        for (int i = 0; i < after.size(); i++) {
            int next = Downsample.outputLength(t, kernel, stride, padding);
            if (next < 1) {
                throw bad(d, "after", "downsampling step " + (i + 1) + " of " + after.size() + " (kernel " + kernel + ", stride "
                        + stride + ", padding " + padding + ") leaves no frames of a " + t + "-frame input; model.max_frames = "
                        + maxFrames);
            }
            t = next;
        }

        String characters = m.getString("vocabulary", Vocabulary.english().characters());
        Vocabulary vocabulary;
        try {
            vocabulary = new Vocabulary(characters);
        } catch (IllegalArgumentException e) {
            throw bad(m, "vocabulary", e.getMessage());
        }
        double blankBias = m.getDouble("blank_bias", logPriorBias(DEFAULT_BLANK_PRIOR, vocabulary.size()));
        if (!Double.isFinite(blankBias)) throw bad(m, "blank_bias", "expected a finite number, got " + blankBias);
        m.rejectUnknown();
        return new ModelConfig(inputDim, hidden, blocks, lmuFirst, preNorm, dropout, feedForward, lmuResidual, eps, maxFrames,
                heads, attentionDropout, lmu, List.copyOf(after), kernel, stride, padding, vocabulary, blankBias);
    }

    private static Lmu parseLmu(ConfigMap l) {
        int order = positive(l, "memory_order", l.getInt("memory_order", 192));
        double theta = l.getDouble("theta", 200);
        if (!(theta > 0)) throw bad(l, "theta", "expected > 0 frames, got " + theta);
        int memoryD = positive(l, "memory_d", l.getInt("memory_d", 1));
        boolean parallel = l.getChoice("mode", "parallel", "parallel", "recurrent").equals("parallel");
        String discretizer = l.getChoice("discretizer", "zoh", "zoh", "euler");
        String activation = l.getChoice("activation", "tanh", "tanh", "relu", "identity");
        boolean h2m = l.getBoolean("hidden_to_memory", false);
        boolean m2m = l.getBoolean("memory_to_memory", false);
        boolean x2h = l.getBoolean("input_to_hidden", false);
        boolean h2h = l.getBoolean("hidden_to_hidden", false);
        boolean memoryBias = l.getBoolean("memory_bias", false);
        boolean hiddenBias = l.getBoolean("hidden_bias", true);
        l.rejectUnknown();
        if (parallel && (h2m || m2m || h2h)) {
            throw bad(l, "mode", "parallel needs no feedback, but " + (h2m ? "hidden_to_memory" : m2m ? "memory_to_memory"
                    : "hidden_to_hidden") + " is true (use mode: recurrent)");
        }
        return new Lmu(order, theta, memoryD, parallel, discretizer, activation, h2m, m2m, x2h, h2h, memoryBias, hiddenBias);
    }

    private static IllegalArgumentException bad(ConfigMap section, String key, String what) {
        String path = section.path().isEmpty() ? key : section.path() + "." + key;
        return new IllegalArgumentException("config key " + path + ": " + what);
    }

    private static int positive(ConfigMap s, String key, int v) {
        if (v <= 0) throw bad(s, key, "expected > 0, got " + v);
        return v;
    }

    private static double probability(ConfigMap s, String key, double v) {
        if (!(v >= 0 && v < 1)) throw bad(s, key, "expected a probability in [0, 1), got " + v);
        return v;
    }

    /**
     * The resolved {@code model:} section, every key present (defaults filled in): what a checkpoint
     * stores so the model can be rebuilt; {@code parse(new ConfigMap("model", toMap()))} gives back an
     * equal config.
     */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("input_dim", inputDim);
        m.put("hidden", hidden);
        m.put("blocks", blocks);
        m.put("block_order", lmuFirst ? "lmu_first" : "attention_first");
        m.put("norm", preNorm ? "pre" : "post");
        m.put("dropout", dropout);
        m.put("feed_forward", feedForward);
        m.put("lmu_residual", lmuResidual);
        m.put("layer_norm_eps", layerNormEps);
        m.put("max_frames", maxFrames);
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("heads", heads);
        a.put("dropout", attentionDropout);
        m.put("attention", a);
        Map<String, Object> l = new LinkedHashMap<>();
        l.put("memory_order", lmu.order());
        l.put("theta", lmu.theta());
        l.put("memory_d", lmu.memoryD());
        l.put("mode", lmu.parallel() ? "parallel" : "recurrent");
        l.put("discretizer", lmu.discretizer());
        l.put("activation", lmu.activation());
        l.put("hidden_to_memory", lmu.hiddenToMemory());
        l.put("memory_to_memory", lmu.memoryToMemory());
        l.put("input_to_hidden", lmu.inputToHidden());
        l.put("hidden_to_hidden", lmu.hiddenToHidden());
        l.put("memory_bias", lmu.memoryBias());
        l.put("hidden_bias", lmu.hiddenBias());
        m.put("lmu", l);
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("after", new ArrayList<>(downsampleAfter));
        d.put("kernel", downsampleKernel);
        d.put("stride", downsampleStride);
        d.put("padding", downsamplePadding);
        m.put("downsample", d);
        m.put("vocabulary", vocabulary.characters());
        m.put("blank_bias", blankBias);
        return m;
    }

    /** A readable multi-line summary of the architecture. */
    public String describe() {
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "input %d → hidden %d, %d blocks (%s, %s-LN), heads %d, feed-forward %s", inputDim,
                hidden, blocks, lmuFirst ? "LMU then attention" : "attention then LMU", preNorm ? "pre" : "post", heads,
                feedForward == 0 ? "off" : Integer.toString(feedForward)));
        lines.add(String.format(Locale.ROOT, "LMU order %d, θ %s frames, memory_d %d, %s, residual %b", lmu.order(), lmu.theta(),
                lmu.memoryD(), lmu.parallel() ? "parallel" : "recurrent", lmuResidual));
        lines.add(String.format(Locale.ROOT, "downsample ×%d after blocks %s (kernel %d, stride %d, padding %d); V = %d, blank bias %.3f",
                downsampleFactor(), downsampleAfter, downsampleKernel, downsampleStride, downsamplePadding, vocabSize(), blankBias));
        return String.join("\n", lines);
    }
}
