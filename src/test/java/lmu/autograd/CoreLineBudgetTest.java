package lmu.autograd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Keeps the tensor + autograd core small enough to read in one sitting (see README, contributing). */
class CoreLineBudgetTest {
    static final int BUDGET = 1500;

    @Test
    void coreStaysWithinItsLineBudget() throws IOException {
        long lines = 0;
        for (String pkg : new String[] {"src/main/java/lmu/tensor", "src/main/java/lmu/autograd"}) {
            try (Stream<Path> files = Files.walk(Path.of(pkg))) {
                for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
                    lines += Files.readAllLines(f).stream().filter(l -> !l.isBlank()).count();
                }
            }
        }
        assertTrue(lines > 100 && lines <= BUDGET, "lmu.tensor + lmu.autograd have " + lines + " non-blank lines, budget " + BUDGET);
    }
}
