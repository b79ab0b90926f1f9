package lmu.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code transcribe}: Prints the text of audio files. */
@Command(name = "transcribe", mixinStandardHelpOptions = true, description = "Prints the text of audio files.", showDefaultValues = true)
final class TranscribeCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new UnavailableException("transcribe: not built yet in this version (tracked in issue #6)");
    }
}
