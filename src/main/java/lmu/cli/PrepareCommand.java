package lmu.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code prepare}: Prepares datasets */
@Command(name = "prepare", mixinStandardHelpOptions = true, description = "Prepares datasets", showDefaultValues = true)
final class PrepareCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new UnavailableException("prepare: not built yet in this version (tracked in issue # manifests, features and global CMVN statistics.:5)");
    }
}
