package lmu.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The live progress line. On a terminal it redraws one line in place ({@code \r}) every step; otherwise
 * (logs, SLURM output files) it prints a plain line every {@code every} steps.
 */
public final class Progress {
    private final PrintStream out;
    private final boolean live;
    private final int every;
    private int lastWidth;

    public Progress(PrintStream out, boolean live, int every) {
        this.out = out;
        this.live = live;
        this.every = every;
    }

    /** Whether standard output is an interactive terminal. */
    public static boolean isTerminal() {
        return System.console() != null && System.getenv("SLURM_JOB_ID") == null;
    }

    /** One step's numbers; {@code etaSeconds} negative when unknown. */
    public record Step(int epoch, int epochs, long step, long totalSteps, double loss, double lr, double lossScale,
            double stepsPerS, double framesPerS, double etaSeconds, long skipped) {}

    public static String format(Step s) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "epoch %d/%d step %d", s.epoch(), s.epochs(), s.step()));
        if (s.totalSteps() > 0) b.append('/').append(s.totalSteps());
        b.append(String.format(Locale.ROOT, " | loss %.4f | lr %.2e", s.loss(), s.lr()));
        if (s.lossScale() > 0) b.append(String.format(Locale.ROOT, " | scale %.0f", s.lossScale()));
        if (s.skipped() > 0) b.append(" | skipped ").append(s.skipped());
        b.append(String.format(Locale.ROOT, " | %.2f steps/s | %.0f frames/s", s.stepsPerS(), s.framesPerS()));
        if (s.etaSeconds() >= 0) b.append(" | ETA ").append(duration(s.etaSeconds()));
        return b.toString();
    }

    /** h:mm:ss */
    public static String duration(double seconds) {
        long t = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d:%02d", t / 3600, (t / 60) % 60, t % 60);
    }

    public synchronized void step(Step s) {
        String line = format(s);
        if (live) {
            out.print('\r' + line + " ".repeat(Math.max(0, lastWidth - line.length())));
            out.flush();
            lastWidth = line.length();
        } else if (s.step() % every == 0) {
            out.println(line);
        }
    }

    /** Prints a whole line (ends a live line first). */
    public synchronized void println(String line) {
        if (live && lastWidth > 0) {
            out.println();
            lastWidth = 0;
        }
        out.println(line);
    }
}
