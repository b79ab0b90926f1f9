package lmu.backend;

/**
 * Device work captured once and launched again as a whole (a CUDA graph): every launch, copy and
 * fill enqueued between {@link Backend#beginCapture} and {@link Backend#endCapture}, bound to the
 * same device memory and with the argument values it had when it was captured. What must change
 * from one replay to the next has to live in device memory that the host rewrites before {@link
 * #replay} (inputs, per-step scalars, dropout seeds); memory the captured work allocated stays
 * reserved for it until {@link #close}.
 */
public interface StepGraph extends AutoCloseable {
    /** Enqueues the captured work once more (on the device's stream; returns without waiting). */
    void replay();

    /** Releases the graph and the memory reserved for it. */
    @Override
    void close();
}
