package lmu.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of {@code java -jar lmu-engine.jar}. Exit codes: 0 success, 1 failure while running,
 * 2 bad command line or bad input (config, data), 3 a command that is not available in this build.
 */
@Command(
        name = "lmu-engine",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Trains and runs Legendre-Memory-Unit + attention speech recognizers with CTC.",
        subcommands = {
            TrainCommand.class,
            EvalCommand.class,
            TranscribeCommand.class,
            PrepareCommand.class,
            CheckCommand.class,
            ValidateCheckpointCommand.class,
            PlotCommand.class,
            BenchStepCommand.class,
            BenchLoaderCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {
    public static final int EXIT_FAILURE = 1;
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_UNAVAILABLE = 3;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs a command line and returns the exit code (tests call this instead of main). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("error: " + ex.getMessage());
            c.getErr().println("try: " + c.getCommandSpec().qualifiedName() + " --help");
            return EXIT_USAGE;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            if (ex instanceof IllegalArgumentException) {
                c.getErr().println("error: " + ex.getMessage());
                return EXIT_USAGE;
            }
            if (ex instanceof UnavailableException) {
                c.getErr().println(ex.getMessage());
                return EXIT_UNAVAILABLE;
            }
            c.getErr().println("error: " + ex);
            if (Boolean.getBoolean("lmu.stacktrace")) ex.printStackTrace(c.getErr());
            else c.getErr().println("(run with -Dlmu.stacktrace=true for the stack trace)");
            return EXIT_FAILURE;
        });
        return cl.execute(args);
    }

    /** The version from the jar manifest (or "dev" when run from classes). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"lmu-engine " + (v == null ? "dev" : v), "Java " + System.getProperty("java.version")};
        }
    }
}
