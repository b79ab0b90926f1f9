package lmu.nn.lmu;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import lmu.nn.ModelConfig;
import org.junit.jupiter.api.Test;

/** Every LMU in configs/*.yaml has a discrete system with spectral radius below 1 and order ≤ θ. */
class ConfigsStabilityTest {

    @Test
    void everyConfiguredLmuIsStableAndWithinItsWindow() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(Path.of("configs"))) {
            files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertFalse(files.isEmpty(), "no configs/*.yaml found from " + Path.of("").toAbsolutePath());
        for (Path file : files) {
            ModelConfig.Lmu l = ModelConfig.fromYaml(file).lmu();
            LegendreStateSpace ss = new LegendreStateSpace(l.order(), l.theta(),
                    Discretizer.valueOf(l.discretizer().toUpperCase(Locale.ROOT)));
            double rho = ss.spectralRadius();
            assertTrue(rho < 1, file + ": spectral radius " + rho);
            assertFalse(ss.exceedsWindow(), file + ": order " + l.order() + " exceeds theta " + l.theta());
        }
    }
}
