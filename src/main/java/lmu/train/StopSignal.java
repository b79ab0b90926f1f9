package lmu.train;

import java.util.concurrent.atomic.AtomicReference;

/**
 * Turns SIGTERM and SIGUSR1 (what SLURM sends before a time limit or pre-emption) into a request
 * that the training loop honours at the next step boundary: save a checkpoint, then exit cleanly.
 */
public final class StopSignal {
    private static final AtomicReference<String> REQUESTED = new AtomicReference<>();

    private StopSignal() {}

    /** Installs the handlers (once per JVM; silently skipped where signals cannot be handled). */
    @SuppressWarnings("restriction")
    public static void install() {
        for (String name : new String[] {"TERM", "USR1"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), s -> REQUESTED.compareAndSet(null, "SIG" + s.getName()));
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                // the signal is reserved by this JVM (e.g. USR1 with some GC settings): keep its default
            }
        }
    }

    /** The signal name when a stop was requested, else null. */
    public static String requested() {
        return REQUESTED.get();
    }

    /** Requests a stop from inside the process (tests, fatal conditions). */
    public static void request(String why) {
        REQUESTED.compareAndSet(null, why);
    }

    public static void clear() {
        REQUESTED.set(null);
    }
}
