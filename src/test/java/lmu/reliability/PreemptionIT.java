package lmu.reliability;

import static org.junit.jupiter.api.Assertions.*;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import lmu.train.Checkpoints;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SIGTERM, as SLURM sends before a time limit, makes a training process save a checkpoint and exit cleanly. */
class PreemptionIT {
    @TempDir Path dir;

    private List<String> train(String... extra) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new java.util.ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"), "lmu.cli.Main", "train",
                "--epochs", "1", "--output-dir", dir.toString(), "--set", "train.log_every=1", "--set", "model.hidden=32", "--set",
                "model.attention.heads=2", "--set", "model.lmu.memory_order=8", "--set", "data.feature_cache=none"));
        cmd.addAll(List.of(extra));
        return cmd;
    }

    /** Runs a training process, sends {@code signal} after its first logged step (if not null); returns its output. */
    private String run(List<String> cmd, String signal) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        StringBuilder out = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            boolean signalled = signal == null;
            while ((line = r.readLine()) != null) {
                out.append(line).append('\n');
                if (!signalled && line.startsWith("epoch 1/1 step ")) {
                    new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start().waitFor();
                    signalled = true;
                }
            }
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "process ended");
        assertEquals(0, p.exitValue(), out.toString());
        return out.toString();
    }

    @Test
    void sigusr1SavesAndResumeAutoContinuesFromThatStep() throws Exception {
        String first = run(train(), "USR1");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("received SIGUSR1: saved (\\S+checkpoint_epoch_1_step_(\\d+));")
                .matcher(first);
        assertTrue(m.find(), first);
        long step = Long.parseLong(m.group(2));
        String second = run(train("--resume", "auto", "--set", "train.max_steps=" + (step + 2)), null);
        assertTrue(second.contains("resumed from " + m.group(1) + ": epoch 1, batch "), second);
        assertTrue(second.contains("step " + step + "\n"), "resumed at the saved step: " + second);
        assertTrue(second.contains("epoch 1/1 step " + (step + 1) + "/"), "the next step is the one after: " + second);
        assertTrue(second.contains("reached max_steps " + (step + 2) + ": saved " + dir.resolve(Checkpoints.stepName(1, step + 2))), second);
    }

    @Test
    void sigtermSavesACheckpointAndExitsCleanly() throws Exception {
        List<String> cmd = train();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        StringBuilder out = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            boolean signalled = false;
            while ((line = r.readLine()) != null) {
                out.append(line).append('\n');
                if (!signalled && line.startsWith("epoch 1/1 step 1")) {
                    new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start().waitFor(); // what SLURM sends
                    signalled = true;
                }
            }
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "process ended");
        assertEquals(0, p.exitValue(), out.toString());
        assertTrue(out.toString().contains("received SIGTERM"), out.toString());
        try (Stream<Path> s = Files.list(dir)) {
            Path ck = s.filter(x -> x.getFileName().toString().startsWith("checkpoint_epoch_1")).findFirst().orElseThrow();
            assertNotNull(Checkpoints.load(ck), "the pre-emption checkpoint verifies");
        }
    }
}
