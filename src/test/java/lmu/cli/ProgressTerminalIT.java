package lmu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train} in a real pseudo-terminal (util-linux {@code script}) draws one live progress line
 * with carriage returns, redrawn every step; with its output in a pipe it prints a plain line every
 * {@code train.log_every} steps instead.
 */
class ProgressTerminalIT {
    @TempDir
    Path dir;

    private List<String> trainCommand(Path out) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "lmu.cli.Main", "train", "--debug",
                "--output-dir", out.toString()));
        for (String s : new String[] {"train.max_steps=4", "train.log_every=2", "model.hidden=32", "model.attention.heads=2",
                "model.lmu.memory_order=8", "data.feature_cache=none"}) {
            cmd.add("--set");
            cmd.add(s);
        }
        return cmd;
    }

    private static String run(List<String> cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("SLURM_JOB_ID");
        Process p = pb.start();
        p.getOutputStream().close();
        byte[] bytes = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "train did not finish");
        String out = new String(bytes, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    @Test
    void liveLineOnATerminalPlainLinesInAPipe() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")), "util-linux script(1) is not installed: no pseudo-terminal to test with");
        // script -q -e -c CMD /dev/null: runs CMD with a pseudo-terminal as its stdin and stdout
        String cmdLine = String.join(" ", trainCommand(dir.resolve("tty")).stream().map(ProgressTerminalIT::quote).toList());
        String tty = run(List.of("/usr/bin/script", "-q", "-e", "-c", cmdLine, "/dev/null"));
        for (int step = 1; step <= 4; step++) {
            assertTrue(tty.contains("\repoch 1/1 step " + step + "/"), "a terminal's line is redrawn every step: " + tty);
        }
        assertFalse(tty.substring(tty.indexOf("step 2/"), tty.indexOf("step 4/")).contains("\n"), "a live line does not scroll: " + tty);

        String piped = run(trainCommand(dir.resolve("pipe")));
        assertFalse(piped.contains("\r"), piped);
        assertTrue(piped.contains("\nepoch 1/1 step 2/"), piped);
        assertTrue(piped.contains("\nepoch 1/1 step 4/"), piped);
        assertFalse(piped.contains("step 1/") || piped.contains("step 3/"), "plain output: every log_every (2) steps only: " + piped);
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
