package lmu.nn.lmu;

import java.util.Locale;
import lmu.nn.ModelConfig;
import lmu.nn.SequenceLayer;
import lmu.tensor.DType;

/** Builds the LMU of each encoder block from the {@code model.lmu} section of a config. */
public final class LmuSequenceLayers {
    private LmuSequenceLayers() {}

    /** LMU layers of width C (input = hidden = model width), sized for each block's longest sequence. */
    public static SequenceLayer.Factory factory(ModelConfig model, DType dtype) {
        ModelConfig.Lmu l = model.lmu();
        return (block, channels, maxFrames, rng) -> {
            LmuConfig cfg = LmuConfig.of(channels, channels, l.memoryD(), l.order(), l.theta())
                    .withFeedback(l.hiddenToMemory(), l.memoryToMemory())
                    .withHidden(l.inputToHidden(), l.hiddenToHidden(), Activation.valueOf(l.activation().toUpperCase(Locale.ROOT)))
                    .withBiases(l.memoryBias(), l.hiddenBias())
                    .withDiscretizer(Discretizer.valueOf(l.discretizer().toUpperCase(Locale.ROOT)))
                    .withMaxLength(Math.max(1, maxFrames));
            return new LmuLayer(cfg, l.parallel() ? LmuLayer.Mode.AUTO : LmuLayer.Mode.RECURRENT, rng, dtype);
        };
    }
}
