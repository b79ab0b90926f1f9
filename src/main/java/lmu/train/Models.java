package lmu.train;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import lmu.nn.CtcModel;
import lmu.nn.ModelConfig;
import lmu.nn.lmu.LmuSequenceLayers;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;

/** Builds models from configs and restores them from checkpoints. */
public final class Models {
    private Models() {}

    /** A fresh model for a resolved config, initialised from the run's seed. */
    public static CtcModel create(TrainConfig cfg) {
        ModelConfig mc = ModelConfig.parse(cfg.model());
        return new CtcModel(mc, LmuSequenceLayers.factory(mc, DType.F32), Rng.derive(cfg.train().seed(), 0));
    }

    /** The resolved config a checkpoint was trained with. */
    public static TrainConfig config(Checkpoints.Loaded ck) {
        com.google.gson.JsonElement c = ck.state().get("config");
        if (c == null || !c.isJsonPrimitive() || !c.getAsJsonPrimitive().isString()) {
            throw new IllegalArgumentException("checkpoint " + ck.dir() + ": state.json has no config text");
        }
        try {
            return TrainConfig.resolve(TrainConfig.parseYaml(new StringReader(c.getAsString()), ck.dir() + "/state.json config"));
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && e.getMessage().contains(ck.dir().toString())) throw e;
            throw new IllegalArgumentException("checkpoint " + ck.dir() + ": the config in state.json is invalid: " + e.getMessage(), e);
        }
    }

    /** A model with a checkpoint's config, vocabulary and weights. */
    public static CtcModel load(Checkpoints.Loaded ck) {
        CtcModel m = create(config(ck));
        String vocab = ck.state().has("vocabulary") ? ck.state().get("vocabulary").getAsString() : null;
        if (vocab != null && !vocab.equals(m.vocabulary().characters())) {
            throw new IllegalArgumentException("checkpoint " + ck.dir() + ": saved vocabulary \"" + vocab
                    + "\" differs from its config's \"" + m.vocabulary().characters() + "\"");
        }
        copyWeights(ck, m.namedParameters());
        return m;
    }

    /**
     * {@link #load(Checkpoints.Loaded)} with the weights then moved to {@code device}.
     *
     * @throws IllegalStateException when no backend is registered for {@code device}
     */
    public static CtcModel load(Checkpoints.Loaded ck, lmu.tensor.Device device) {
        CtcModel m = load(ck);
        m.to(device);
        return m;
    }

    /** Loads and verifies the checkpoint directory, then {@link #load(Checkpoints.Loaded)}. */
    public static CtcModel load(Path dir) throws IOException {
        return load(Checkpoints.load(dir));
    }

    /** Copies weights by name, checking that every parameter is present with its shape. */
    static void copyWeights(Checkpoints.Loaded ck, Map<String, Tensor> params) {
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            float[] w = ck.model().arrays().get(e.getKey());
            if (w == null) {
                throw new IllegalArgumentException("checkpoint " + ck.dir() + " has no weights for " + e.getKey()
                        + " (made with another model config?)");
            }
            int[] shape = ck.model().shapes().get(e.getKey());
            if (!Arrays.equals(shape, e.getValue().shape())) {
                throw new IllegalArgumentException("checkpoint " + ck.dir() + ": " + e.getKey() + " has shape " + Arrays.toString(shape)
                        + ", the model expects " + Arrays.toString(e.getValue().shape()));
            }
            if (e.getValue().storage() instanceof lmu.tensor.DeviceStorage d) d.fromHost(w); // one copy to the device
            else for (int i = 0; i < w.length; i++) e.getValue().storage().set(i, w[i]);
        }
    }
}
