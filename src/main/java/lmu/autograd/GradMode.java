package lmu.autograd;

/**
 * Whether ops record the graph (per thread). {@code try (var g = GradMode.off()) { ... }} runs
 * inference or optimizer updates without recording.
 */
public final class GradMode implements AutoCloseable {
    private static final ThreadLocal<Boolean> ENABLED = ThreadLocal.withInitial(() -> Boolean.TRUE);
    private final boolean previous;

    private GradMode(boolean enabled) {
        previous = ENABLED.get();
        ENABLED.set(enabled);
    }

    public static boolean isEnabled() {
        return ENABLED.get();
    }

    /** Turns recording off until {@link #close()}. */
    public static GradMode off() {
        return new GradMode(false);
    }

    /** Turns recording on until {@link #close()}. */
    public static GradMode on() {
        return new GradMode(true);
    }

    @Override
    public void close() {
        ENABLED.set(previous);
    }
}
