package lmu.train;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import lmu.amp.DynamicLossScaler;
import lmu.nn.ModelConfig;
import lmu.util.ConfigMap;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * The resolved settings of a training run: the YAML file, then the preset, then command-line flags,
 * then {@code --set key=value} overrides. Every key has a default documented here; an unknown key,
 * a wrong type or an impossible value is rejected with the dotted key named.
 *
 * <pre>
 * optim:  name adamw | adam (adamw), lr (1e-3), beta1 (0.9), beta2 (0.98), eps (1e-9),
 *         weight_decay (0.01), clip_norm (5.0; 0 = off), schedule staircase | constant | cosine
 *         (staircase), warmup (1000 steps), gamma (0.96), every (10000 steps), min_lr (0, cosine)
 * train:  batch_size (16, global), max_frames (0 = no cap on frames per batch), epochs (30),
 *         max_steps (0 = no cap), grad_accum (1), mixed_precision off | fp16 | bf16 (off),
 *         seed (1), patience (5 epochs without a better validation WER; 0 = never stop early),
 *         keep_last (3 checkpoints), log_every (10 steps), examples (3 transcripts per epoch),
 *         max_bad_steps (20 consecutive non-finite steps before stopping),
 *         loss_scale (fp16 only): initial (65536), growth_interval (2000 clean steps), min (1), max (16777216),
 *         cuda_graphs auto | on | off (auto: a single-replica step on a GPU is captured as a CUDA graph per
 *         batch shape and replayed, falling back to eager launches where it cannot be; on: the same, and
 *         says why when the device cannot capture at all; off: always eager)
 * data:   train (builtin), valid (builtin-test when train is builtin), subset (xs), loader_threads (2),
 *         cmvn utterance | none (utterance), max_duration (20.0 s; longer utterances are skipped),
 *         feature_cache (auto = ~/.cache/lmu-engine/features; none; or a directory: log-mel
 *         features are computed once and reused by later epochs and runs),
 *         features (auto = the memory-mapped feature store that prepare --features wrote next to
 *         the training manifest, {@code <folder of data.train>/features}, when there is one; none;
 *         or a store directory, which must exist: utterances it holds are never decoded),
 *         speed_perturbation ([]: off; e.g. [0.9, 1.0, 1.1]: each training utterance is resampled
 *         by a factor drawn per utterance and epoch, seeded),
 *         spec_augment: freq_masks (2), freq_width (15), time_masks (2), time_width (40 frames),
 *                       adaptive (false: time_width in frames; true: fraction of length),
 *         features_on cpu | device (cpu: loader threads compute log-mel, CMVN and SpecAugment;
 *         device: loader threads only decode and speed-perturb, the trainer computes the same
 *         features on the model's device for training and validation; feature_cache and features
 *         are then not used)
 * model:  see lmu.nn.ModelConfig
 * </pre>
 */
public record TrainConfig(
        Map<String, Object> raw,
        ConfigMap model,
        Optim optim,
        Train train,
        Data data) {

    public record Optim(String name, double lr, double beta1, double beta2, double eps, double weightDecay, double clipNorm,
            String schedule, long warmup, double gamma, long every, double minLr) {}

    public record Train(int batchSize, int maxFrames, int epochs, long maxSteps, int gradAccum, String mixedPrecision,
            long seed, int patience, int keepLast, int logEvery, int examples, int maxBadSteps,
            DynamicLossScaler.Settings lossScale, String cudaGraphs) {}

    public record SpecAugmentConfig(int freqMasks, int freqWidth, int timeMasks, double timeWidth, boolean adaptive) {}

    public record Data(String train, String valid, String subset, int loaderThreads, String cmvn, double maxDuration,
            String featureCache, SpecAugmentConfig specAugment, String features, List<Double> speedPerturbation,
            String featuresOn) {}

    /** {@code train.cuda_graphs}: auto, on or off (a bare YAML on/off arrives as a boolean). */
    private static String cudaGraphs(ConfigMap t) {
        if (t.asMap().get("cuda_graphs") instanceof Boolean b) t.asMap().put("cuda_graphs", b ? "on" : "off");
        return t.getChoice("cuda_graphs", "auto", "auto", "on", "off");
    }

    /** Preset values of the prototype: batch, lr, mixed precision. */
    public static Map<String, Object> preset(String name) {
        return switch (name) {
            case "default" -> Map.of("train.batch_size", 16, "optim.lr", 1e-3, "train.mixed_precision", "auto");
            case "conservative" -> Map.of("train.batch_size", 24, "optim.lr", 1e-4, "train.mixed_precision", "off");
            case "performance" -> Map.of("train.batch_size", 64, "optim.lr", 4e-3, "train.mixed_precision", "auto");
            default -> throw new IllegalArgumentException("--preset: expected default, conservative or performance, got '" + name + "'");
        };
    }

    /** Parses YAML text (a file's contents) into nested maps. */
    public static Map<String, Object> parseYaml(Reader r, String source) {
        try {
            LoaderOptions opts = new LoaderOptions();
            opts.setAllowDuplicateKeys(false); // two "lr:" lines in one section are a mistake, not "the last wins"
            Object doc = new Yaml(new SafeConstructor(opts)).load(r);
            return ConfigMap.root(doc, source).asMap();
        } catch (YAMLException e) {
            throw new IllegalArgumentException(source + ": not valid YAML: " + e.getMessage().replace('\n', ' '));
        }
    }

    public static Map<String, Object> loadYaml(Path file) {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("--config: no such file " + file);
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return parseYaml(r, file.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException("--config: cannot read " + file + ": " + e.getMessage());
        }
    }

    /** A config shipped inside the jar, e.g. {@code configs/small.yaml}. */
    public static Map<String, Object> loadBuiltin(String resource) {
        InputStream in = TrainConfig.class.getClassLoader().getResourceAsStream(resource);
        if (in == null) throw new IllegalStateException("built-in config " + resource + " is missing from the jar");
        try (Reader r = new java.io.InputStreamReader(in, StandardCharsets.UTF_8)) {
            return parseYaml(r, resource);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read built-in config " + resource, e);
        }
    }

    /** Sets a dotted key ({@code optim.lr}) in nested maps; a value given as text is read as a YAML scalar. */
    @SuppressWarnings("unchecked")
    public static void override(Map<String, Object> root, String dottedKey, Object value) {
        String[] parts = dottedKey.split("\\.");
        Map<String, Object> m = root;
        for (int i = 0; i < parts.length - 1; i++) {
            Object next = m.get(parts[i]);
            if (next == null) {
                next = new LinkedHashMap<String, Object>();
                m.put(parts[i], next);
            } else if (!(next instanceof Map)) {
                throw new IllegalArgumentException("--set " + dottedKey + ": " + String.join(".", List.of(parts).subList(0, i + 1))
                        + " is a value, not a section");
            }
            m = (Map<String, Object>) next;
        }
        Object v = value;
        if (value instanceof String s) v = new Yaml(new SafeConstructor(new LoaderOptions())).load(s);
        m.put(parts[parts.length - 1], v);
    }

    /** Applies {@code --set key=value} strings. */
    public static void overrideAll(Map<String, Object> root, List<String> sets) {
        for (String s : sets) {
            int eq = s.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("--set: expected KEY=VALUE, got '" + s + "'");
            override(root, s.substring(0, eq).trim(), s.substring(eq + 1).trim());
        }
    }

    /** Validates and resolves a root map (a copy is kept for printing and for checkpoints). */
    public static TrainConfig resolve(Map<String, Object> rootMap) {
        ConfigMap root = ConfigMap.root(rootMap, "config");
        ConfigMap model = root.section("model");
        ConfigMap o = root.section("optim");
        Optim optim = new Optim(
                o.getChoice("name", "adamw", "adamw", "adam"),
                positive(o, "lr", o.getDouble("lr", 1e-3)),
                unit(o, "beta1", o.getDouble("beta1", 0.9)),
                unit(o, "beta2", o.getDouble("beta2", 0.98)),
                positive(o, "eps", o.getDouble("eps", 1e-9)),
                nonNegative(o, "weight_decay", o.getDouble("weight_decay", 0.01)),
                nonNegative(o, "clip_norm", o.getDouble("clip_norm", 5.0)),
                o.getChoice("schedule", "staircase", "staircase", "constant", "cosine"),
                (long) nonNegative(o, "warmup", o.getLong("warmup", 1000)),
                positive(o, "gamma", o.getDouble("gamma", 0.96)),
                (long) positive(o, "every", o.getLong("every", 10000)),
                nonNegative(o, "min_lr", o.getDouble("min_lr", 0)));
        o.rejectUnknown();
        ConfigMap t = root.section("train");
        if (t.asMap().get("mixed_precision") instanceof Boolean b) {
            t.asMap().put("mixed_precision", b ? "auto" : "off"); // YAML 1.1 reads a bare off/on as a boolean
        }
        Train train = new Train(
                (int) positive(t, "batch_size", t.getInt("batch_size", 16)),
                (int) nonNegative(t, "max_frames", t.getInt("max_frames", 0)),
                (int) positive(t, "epochs", t.getInt("epochs", 30)),
                (long) nonNegative(t, "max_steps", t.getLong("max_steps", 0)),
                (int) positive(t, "grad_accum", t.getInt("grad_accum", 1)),
                t.getChoice("mixed_precision", "off", "off", "fp16", "bf16", "auto"),
                t.getLong("seed", 1),
                (int) nonNegative(t, "patience", t.getInt("patience", 5)),
                (int) positive(t, "keep_last", t.getInt("keep_last", 3)),
                (int) positive(t, "log_every", t.getInt("log_every", 10)),
                (int) nonNegative(t, "examples", t.getInt("examples", 3)),
                (int) positive(t, "max_bad_steps", t.getInt("max_bad_steps", 20)),
                lossScale(t.section("loss_scale")),
                cudaGraphs(t));
        t.rejectUnknown();
        ConfigMap d = root.section("data");
        String trainData = d.getString("train", "builtin");
        ConfigMap sa = d.section("spec_augment");
        SpecAugmentConfig spec = new SpecAugmentConfig(
                (int) nonNegative(sa, "freq_masks", sa.getInt("freq_masks", 2)),
                (int) nonNegative(sa, "freq_width", sa.getInt("freq_width", 15)),
                (int) nonNegative(sa, "time_masks", sa.getInt("time_masks", 2)),
                nonNegative(sa, "time_width", sa.getDouble("time_width", 40)),
                sa.getBoolean("adaptive", false));
        sa.rejectUnknown();
        Data data = new Data(
                trainData,
                d.getString("valid", trainData.equals("builtin") ? "builtin-test" : ""),
                d.getChoice("subset", "xs", "xs", "s", "m", "l", "xl"),
                (int) positive(d, "loader_threads", d.getInt("loader_threads", 2)),
                d.getChoice("cmvn", "utterance", "utterance", "none"),
                positive(d, "max_duration", d.getDouble("max_duration", 20.0)),
                d.getString("feature_cache", "auto"),
                spec,
                d.getString("features", "auto"),
                speedFactors(d),
                d.getChoice("features_on", "cpu", "cpu", "device"));
        d.rejectUnknown();
        for (Object k : rootMap.keySet()) {
            if (!List.of("model", "optim", "train", "data").contains(k)) {
                throw new IllegalArgumentException("config: unknown section " + k + " (known: model, optim, train, data)");
            }
        }
        if (optim.schedule().equals("cosine") && optim.minLr() > optim.lr()) {
            throw new IllegalArgumentException("config key optim.min_lr: expected at most optim.lr = " + optim.lr() + ", got " + optim.minLr());
        }
        ModelConfig.parse(model); // every model key checked now, before any data is read
        return new TrainConfig(rootMap, model, optim, train, data);
    }

    private static DynamicLossScaler.Settings lossScale(ConfigMap s) {
        DynamicLossScaler.Settings d = DynamicLossScaler.Settings.DEFAULT;
        double initial = positive(s, "initial", s.getDouble("initial", d.initial()));
        int interval = (int) positive(s, "growth_interval", s.getInt("growth_interval", d.growthInterval()));
        double min = positive(s, "min", s.getDouble("min", d.min()));
        double max = positive(s, "max", s.getDouble("max", d.max()));
        s.rejectUnknown();
        if (!(min <= initial && initial <= max) || Double.isInfinite(max)) {
            throw new IllegalArgumentException("config keys " + s.path() + ".{min, initial, max}: expected min <= initial <= max,"
                    + " all finite, got " + min + ", " + initial + ", " + max);
        }
        return new DynamicLossScaler.Settings(initial, interval, min, max);
    }

    /**
     * Checks the model against the training data, before training: the longest utterance must fit
     * {@code model.max_frames} and the shortest must keep at least one frame after downsampling.
     *
     * @param longestSeconds duration of the longest training utterance
     * @param shortestSeconds duration of the shortest training utterance
     * @param framesPerSecond feature frames per second of audio (100 at a 10 ms hop)
     * @throws IllegalArgumentException naming the config key and the utterance length
     */
    public static void checkAgainstData(ModelConfig m, double longestSeconds, double shortestSeconds, double framesPerSecond) {
        long longest = (long) Math.ceil(longestSeconds * framesPerSecond);
        if (longest > m.maxFrames()) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "config key model.max_frames: the longest training "
                    + "utterance (%.2f s) has %d frames, more than model.max_frames = %d; raise model.max_frames or lower "
                    + "data.max_duration", longestSeconds, longest, m.maxFrames()));
        }
        int shortest = (int) Math.max(1, Math.floor(shortestSeconds * framesPerSecond));
        if (m.outputFrames(shortest) < 1) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "config key model.downsample: %d downsampling "
                    + "step(s) (kernel %d, stride %d, padding %d) leave no frames of the shortest training utterance (%.3f s, %d "
                    + "frames); use fewer steps or more padding, or remove utterances that short", m.downsampleAfter().size(),
                    m.downsampleKernel(), m.downsampleStride(), m.downsamplePadding(), shortestSeconds, shortest));
        }
    }

    /** data.speed_perturbation: factors in (0.5, 2] that give a whole sample rate at 16 kHz. */
    private static List<Double> speedFactors(ConfigMap d) {
        List<Double> f = d.getDoubleList("speed_perturbation", List.of());
        for (double x : f) {
            if (!(x > 0.5 && x <= 2) || Math.abs(16000 * x - Math.rint(16000 * x)) > 1e-6) {
                throw new IllegalArgumentException("config key data.speed_perturbation: factors must lie in (0.5, 2] and give a whole"
                        + " sample rate at 16 kHz (e.g. 0.9, 1.0, 1.1), got " + x);
            }
        }
        return List.copyOf(f);
    }

    private static double positive(ConfigMap m, String k, double v) {
        if (!(v > 0)) throw new IllegalArgumentException("config key " + key(m, k) + ": expected a value > 0, got " + v);
        return v;
    }

    private static double nonNegative(ConfigMap m, String k, double v) {
        if (!(v >= 0)) throw new IllegalArgumentException("config key " + key(m, k) + ": expected a value >= 0, got " + v);
        return v;
    }

    private static double unit(ConfigMap m, String k, double v) {
        if (!(v >= 0 && v < 1)) throw new IllegalArgumentException("config key " + key(m, k) + ": expected a value in [0, 1), got " + v);
        return v;
    }

    private static String key(ConfigMap m, String k) {
        return m.path().isEmpty() ? k : m.path() + "." + k;
    }

    /**
     * The whole resolved config as YAML text, every default filled in (printed by --dry-run and
     * stored in checkpoints; reading it back gives the same config).
     */
    public String toYaml() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", raw.getOrDefault("model", new LinkedHashMap<>()));
        out.put("optim", asMap(optim));
        out.put("train", asMap(train));
        out.put("data", asMap(data));
        org.yaml.snakeyaml.DumperOptions opts = new org.yaml.snakeyaml.DumperOptions();
        opts.setDefaultFlowStyle(org.yaml.snakeyaml.DumperOptions.FlowStyle.BLOCK);
        return new Yaml(opts).dump(out);
    }

    /** A record's components as a map with snake_case keys (nested records become maps). */
    private static Map<String, Object> asMap(Record r) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (java.lang.reflect.RecordComponent c : r.getClass().getRecordComponents()) {
            try {
                Object v = c.getAccessor().invoke(r);
                m.put(c.getName().replaceAll("([A-Z])", "_$1").toLowerCase(java.util.Locale.ROOT),
                        v instanceof Record nested ? asMap(nested) : v);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
        return m;
    }
}
