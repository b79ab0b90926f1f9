package lmu.parity;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import lmu.nn.CtcModel;
import lmu.nn.ModelConfig;
import lmu.nn.lmu.LmuSequenceLayers;
import lmu.tensor.DType;
import lmu.train.SafeTensors;
import lmu.util.Rng;

/**
 * The models of the whole-model parity test: a config from {@code configs/} with the engine's own
 * initialisation from a fixed seed. {@code main} writes their weights as {@code model.safetensors}
 * for bench/reference/make_model_golden.py (run by bench/reference/make_model_golden.sh).
 */
public final class ModelParityFixture {
    /** Configs covered, each with the seed of its weights. */
    static final Map<String, Long> CASES = Map.of("seed", 11L, "small", 12L);

    private ModelParityFixture() {}

    /** The model of {@code configs/<name>.yaml} initialised from {@code new Rng(seed)}, in evaluation mode. */
    static CtcModel model(String name) {
        ModelConfig mc = ModelConfig.fromYaml(Path.of("configs", name + ".yaml"));
        CtcModel model = new CtcModel(mc, LmuSequenceLayers.factory(mc, DType.F32), new Rng(CASES.get(name)));
        model.train(false);
        return model;
    }

    /**
     * Writes {@code <dir>/<name>.safetensors} for every case.
     *
     * @param args the output directory
     */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) throw new IllegalArgumentException("usage: ModelParityFixture OUTPUT_DIR");
        Path dir = Files.createDirectories(Path.of(args[0]));
        for (String name : CASES.keySet()) {
            CtcModel m = model(name);
            SafeTensors.write(dir.resolve(name + ".safetensors"), m.namedParameters(),
                    Map.of("config", "configs/" + name + ".yaml", "seed", Long.toString(CASES.get(name))));
            System.out.println("wrote " + dir.resolve(name + ".safetensors") + " (" + m.parameterCount() + " parameters)");
        }
    }
}
