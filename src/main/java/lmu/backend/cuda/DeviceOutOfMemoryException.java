package lmu.backend.cuda;

/**
 * The device could not provide a requested block even after the allocator released its cache.
 * The message says how much was asked, free and cached, and what to reduce.
 */
public final class DeviceOutOfMemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final long requestedBytes;
    private final long freeBytes;
    private final long allocatedBytes;
    private final long cachedBytes;

    DeviceOutOfMemoryException(String message, long requestedBytes, long freeBytes, long allocatedBytes, long cachedBytes) {
        super(message);
        this.requestedBytes = requestedBytes;
        this.freeBytes = freeBytes;
        this.allocatedBytes = allocatedBytes;
        this.cachedBytes = cachedBytes;
    }

    /** Bytes asked for. */
    public long requestedBytes() {
        return requestedBytes;
    }

    /** Bytes the driver reported free when the request failed. */
    public long freeBytes() {
        return freeBytes;
    }

    /** Bytes this allocator had handed out. */
    public long allocatedBytes() {
        return allocatedBytes;
    }

    /** Bytes this allocator held in its cache after releasing what it could. */
    public long cachedBytes() {
        return cachedBytes;
    }
}
