package lmu.distributed;

/**
 * A collective operation could not complete: a peer failed or left, an operation timed out, or the
 * ranks called different operations. Once thrown, the communicator is broken and every later
 * operation on any rank throws too.
 */
public class CommunicatorException extends RuntimeException {
    private final int failedRank;

    /**
     * @param message what happened, naming the rank at fault where known
     * @param failedRank the rank at fault, or -1 when unknown
     */
    public CommunicatorException(String message, int failedRank) {
        super(message);
        this.failedRank = failedRank;
    }

    public CommunicatorException(String message, int failedRank, Throwable cause) {
        super(message, cause);
        this.failedRank = failedRank;
    }

    /** The rank at fault (the one that failed, left or did not arrive), or -1 when unknown. */
    public int failedRank() {
        return failedRank;
    }
}
