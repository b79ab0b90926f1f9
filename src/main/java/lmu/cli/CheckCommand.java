package lmu.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code check}: Verifies the environment */
@Command(name = "check", mixinStandardHelpOptions = true, description = "Verifies the environment", showDefaultValues = true)
final class CheckCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new UnavailableException("check: not built yet in this version (tracked in issue # Java, CPU, CUDA driver, GPU libraries, kernels and their parity.:6)");
    }
}
