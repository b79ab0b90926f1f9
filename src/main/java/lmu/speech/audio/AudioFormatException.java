package lmu.speech.audio;

import java.nio.file.Path;

/**
 * An audio file that cannot be decoded: truncated, corrupt, or in a codec this reader does not
 * support. The message names the file and what is wrong with it.
 */
public class AudioFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public AudioFormatException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public AudioFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
