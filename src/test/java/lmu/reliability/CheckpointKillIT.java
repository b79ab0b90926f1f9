package lmu.reliability;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import lmu.tensor.Tensor;
import lmu.train.Checkpoints;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A process killed with SIGKILL at random moments while writing checkpoints always leaves a loadable last-good one. */
class CheckpointKillIT {
    @TempDir Path dir;

    /** Writes checkpoints of a ~4 MB model in a loop, forever (the test kills it). */
    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        Map<String, Tensor> weights = new LinkedHashMap<>();
        for (int i = 0; i < 4; i++) weights.put("w" + i, Tensor.ones(256, 1024));
        for (long step = 1; ; step++) {
            Map<String, Object> state = new LinkedHashMap<>();
            state.put("step", step);
            state.put("epoch", 1);
            Checkpoints.save(out, Checkpoints.stepName(1, step), weights, Map.of("m", new float[1 << 18]),
                    Map.of("m", new int[] {1 << 18}), state, Map.of());
            Checkpoints.prune(out, 2);
            System.out.println("saved " + step);
        }
    }

    @Test
    void sigkillDuringWritesNeverLosesTheLastGoodCheckpoint() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Rng rng = new Rng(42);
        long lastStep = 0;
        for (int round = 0; round < 4; round++) {
            Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), CheckpointKillIT.class.getName(),
                    dir.toString()).redirectErrorStream(true).start();
            // wait for the first save (JVM start takes long on a loaded machine), then kill at a random point of later writes
            java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()));
            String first = r.readLine();
            assertTrue(first != null && first.startsWith("saved"), "round " + round + ": the writer started: " + first);
            Thread drain = new Thread(() -> {
                try {
                    while (r.readLine() != null) {
                        // keep the pipe empty so the writer never blocks on output
                    }
                } catch (java.io.IOException ignored) {
                    // the process was killed
                }
            });
            drain.setDaemon(true);
            drain.start();
            Thread.sleep(rng.nextInt(1500));
            p.destroyForcibly(); // SIGKILL
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            List<String> skipped = new ArrayList<>();
            Checkpoints.Loaded good = Checkpoints.latestGood(dir, skipped);
            assertNotNull(good, "round " + round + ": a loadable checkpoint remains (skipped: " + skipped + ")");
            assertEquals(4, good.model().arrays().size());
            long step = good.state().get("step").getAsLong();
            assertTrue(step >= 1, "round " + round);
            lastStep = step;
        }
        assertTrue(lastStep >= 1);
    }
}
