package lmu.cli;

/** A command or feature that this build does not provide; maps to exit code 3. */
public final class UnavailableException extends RuntimeException {
    public UnavailableException(String message) {
        super(message);
    }
}
