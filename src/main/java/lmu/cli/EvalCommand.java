package lmu.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code eval}: Word and character error rates of a checkpoint on a dataset. */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Word and character error rates of a checkpoint on a dataset.", showDefaultValues = true)
final class EvalCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new UnavailableException("eval: not built yet in this version (tracked in issue #6)");
    }
}
