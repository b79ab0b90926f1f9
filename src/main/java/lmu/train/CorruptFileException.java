package lmu.train;

import java.io.IOException;
import java.nio.file.Path;

/** A checkpoint or weights file that cannot be what it claims to be; the message names the file and the defect. */
public final class CorruptFileException extends IOException {
    private final Path file;

    public CorruptFileException(Path file, String what) {
        super(file + ": " + what);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
