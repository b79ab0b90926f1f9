package lmu.reliability;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringReader;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import lmu.nn.ModelConfig;
import lmu.train.TrainConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * Configuration errors are rejected when the config is resolved — before any data is read or any
 * step is taken — with the dotted key named. Each case starts from the shipped configs/small.yaml
 * and applies {@code --set} overrides, exactly as the command line does.
 */
class ConfigValidationTest {
    private static TrainConfig resolve(String... sets) {
        Map<String, Object> root = TrainConfig.loadYaml(Path.of("configs/small.yaml"));
        TrainConfig.overrideAll(root, List.of(sets));
        return TrainConfig.resolve(root);
    }

    @Test
    void shippedConfigsAreValid() {
        assertDoesNotThrow(() -> resolve());
        assertDoesNotThrow(() -> TrainConfig.resolve(TrainConfig.loadYaml(Path.of("configs/seed.yaml"))));
    }

    @Test
    void speedPerturbationFactorsAreRead() {
        assertTrue(resolve().data().speedPerturbation().isEmpty(), "off by default");
        assertTrue(resolve("data.speed_perturbation=[0.9, 1.0, 1.1]").data().speedPerturbation().equals(List.of(0.9, 1.0, 1.1)));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        // unknown keys and sections (typos)
        "optim.lrr=0.1                          | unknown key optim.lrr",
        "trian.epochs=3                         | unknown section trian",
        "model.hiden=3                          | unknown key model.hiden",
        "model.lmu.order=8                      | unknown key model.lmu.order",
        "data.spec_augment.freq_mask=2          | unknown key data.spec_augment.freq_mask",
        // wrong types
        "train.batch_size=sixteen               | config key train.batch_size: expected an integer",
        "train.epochs=2.5                       | config key train.epochs: expected an integer",
        "optim.lr=fast                          | config key optim.lr: expected a number",
        "model.lmu.input_to_hidden=maybe        | config key model.lmu.input_to_hidden: expected true or false",
        "model.downsample.after=first           | config key model.downsample.after: expected a list of integers",
        "train=5                                | config key train: expected a mapping",
        // impossible values
        "optim.lr=-0.001                        | config key optim.lr: expected a value > 0",
        "optim.lr=0                             | config key optim.lr: expected a value > 0",
        "optim.lr=.inf                          | config key optim.lr: expected a finite number",
        "optim.lr=1e999                         | config key optim.lr: expected a finite number",
        "optim.beta1=1.0                        | config key optim.beta1",
        "optim.min_lr=1.0                       | config key optim.min_lr: expected at most optim.lr",
        "train.grad_accum=0                     | config key train.grad_accum",
        "train.max_bad_steps=0                  | config key train.max_bad_steps",
        "train.mixed_precision=fp8              | config key train.mixed_precision: expected one of",
        "data.max_duration=0                    | config key data.max_duration",
        "data.loader_threads=-1                 | config key data.loader_threads",
        "model.lmu.memory_order=0               | config key model.lmu.memory_order: expected > 0",
        "model.lmu.theta=-1                     | config key model.lmu.theta: expected > 0",
        "model.lmu.theta=0                      | config key model.lmu.theta: expected > 0",
        "model.lmu.memory_d=0                   | config key model.lmu.memory_d",
        "model.hidden=0                         | config key model.hidden",
        "model.attention.heads=5                | config key model.attention.heads: expected a divisor of model.hidden = 128",
        "model.attention.heads=0                | config key model.attention.heads: expected > 0",
        "model.dropout=1.5                      | config key model.dropout: expected a probability",
        "model.downsample.after=[3]             | config key model.downsample.after: expected block numbers in [0, 2]",
        "model.downsample.stride=0              | config key model.downsample.stride",
        "model.lmu.hidden_to_memory=true        | config key model.lmu.mode: parallel needs no feedback",
        "model.vocabulary=''                    | config key model.vocabulary",
        "data.speed_perturbation=[0.3]          | config key data.speed_perturbation: factors must lie in (0.5, 2]",
        "data.speed_perturbation=[0.90001]      | config key data.speed_perturbation: factors must lie",
        "data.speed_perturbation=fast           | config key data.speed_perturbation: expected a list of finite numbers",
    })
    void badValueIsRejectedNamingTheKey(String set, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> resolve(set.strip()));
        assertTrue(e.getMessage().contains(expected.strip()), "message: " + e.getMessage());
    }

    @Test
    void downsamplingThatLeavesNoFramesOfMaxFramesIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> resolve("model.max_frames=4",
                "model.downsample.after=[0, 1, 2]", "model.downsample.padding=0"));
        assertTrue(e.getMessage().contains("config key model.downsample.after") && e.getMessage().contains("leaves no frames"), e.getMessage());
    }

    @Test
    void modelMustFitTheTrainingData() {
        ModelConfig m = ModelConfig.parse(resolve("model.max_frames=1000").model());
        assertDoesNotThrow(() -> TrainConfig.checkAgainstData(m, 9.99, 0.5, 100));
        IllegalArgumentException longest = assertThrows(IllegalArgumentException.class, () -> TrainConfig.checkAgainstData(m, 12.0, 0.5, 100));
        assertTrue(longest.getMessage().contains("config key model.max_frames") && longest.getMessage().contains("1200 frames"),
                longest.getMessage());

        // kernel 3, stride 2, no padding, three times: 7 frames -> 3 -> 1 -> 0
        ModelConfig deep = ModelConfig.parse(resolve("model.downsample.after=[0, 1, 2]", "model.downsample.padding=0").model());
        assertTrue(deep.outputFrames(7) == 0 && deep.outputFrames(15) == 1, "closed form of the three convolutions");
        IllegalArgumentException shortest = assertThrows(IllegalArgumentException.class,
                () -> TrainConfig.checkAgainstData(deep, 5.0, 0.07, 100));
        assertTrue(shortest.getMessage().contains("config key model.downsample") && shortest.getMessage().contains("7 frames"),
                shortest.getMessage());
        assertDoesNotThrow(() -> TrainConfig.checkAgainstData(deep, 5.0, 0.15, 100));
    }

    @Test
    void duplicateKeysInOneSectionAreRejected() {
        String yaml = "optim:\n  lr: 1.0e-3\n  lr: 3.0e-3\n";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainConfig.parseYaml(new StringReader(yaml), "dup.yaml"));
        assertTrue(e.getMessage().contains("dup.yaml") && e.getMessage().contains("duplicate key lr"), e.getMessage());
    }

    @Test
    void aliasBombIsRejectedQuickly() {
        // nine levels of nine aliases each would expand to 9^9 strings
        StringBuilder yaml = new StringBuilder("l0: &l0 [x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i < 9; i++) {
            yaml.append("l").append(i).append(": &l").append(i).append(" [").append(String.join(", ", java.util.Collections.nCopies(9, "*l" + (i - 1))))
                    .append("]\n");
        }
        IllegalArgumentException e = assertTimeoutPreemptively(java.time.Duration.ofSeconds(10), () -> assertThrows(
                IllegalArgumentException.class, () -> TrainConfig.parseYaml(new StringReader(yaml.toString()), "bomb.yaml")));
        assertTrue(e.getMessage().startsWith("bomb.yaml: not valid YAML") && e.getMessage().contains("aliases"), e.getMessage());
    }

    @Test
    void keysThatAreNotTextAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainConfig.resolve(TrainConfig.parseYaml(new StringReader("model:\n  1: 2\n"), "numkey.yaml")));
        assertTrue(e.getMessage().contains("numkey.yaml: key 1 in model must be text"), e.getMessage());
    }
}
