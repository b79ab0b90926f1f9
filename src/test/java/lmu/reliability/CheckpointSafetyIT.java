package lmu.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import lmu.tensor.Tensor;
import lmu.train.Checkpoints;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full disk or a read-only output directory gives a clear error — before training
 * ({@link Checkpoints#ensureWritable(Path, long)}) or at save time — and never a damaged
 * checkpoint: the previous one stays loadable and no partial directory is left behind.
 *
 * <p>Two kinds of file system: an in-memory one with a size limit (Jimfs; always runs), and the
 * kernel's own tmpfs of 1 MiB, remounted read-only, in a private user and mount namespace
 * ({@code unshare -rm}; skipped with the reason where unprivileged namespaces are not allowed).
 */
class CheckpointSafetyIT {
    @TempDir Path dir;

    /** A checkpoint of about 2 x 256 KiB (weights and optimizer state). */
    static Path save(Path out, String name, long step) throws IOException {
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("step", step);
        state.put("epoch", 1);
        float[] moments = new float[1 << 16];
        java.util.Arrays.fill(moments, step);
        return Checkpoints.save(out, name, Map.of("w", Tensor.full(lmu.tensor.DType.F32, step, 256, 256)), Map.of("m", moments),
                Map.of("m", new int[] {1 << 16}), state, Map.of());
    }

    private static List<String> names(Path out) throws IOException {
        try (Stream<Path> s = Files.list(out)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void diskFullAtSaveTimeKeepsThePreviousCheckpointAndLeavesNothingPartial() throws Exception {
        try (FileSystem fs = Jimfs.newFileSystem(Configuration.unix().toBuilder().setMaxSize(800 << 10).build())) {
            Path out = fs.getPath("/run");
            save(out, "checkpoint_epoch_1", 1);
            long freeAfterFirst = Files.getFileStore(out).getUnallocatedSpace();

            IOException e = assertThrows(IOException.class, () -> save(out, "checkpoint_epoch_2", 2));
            assertTrue(e.getMessage().contains("checkpoint checkpoint_epoch_2 could not be written to /run")
                    && e.getMessage().contains("out of disk space") && e.getMessage().contains("earlier checkpoints are intact"),
                    e.getMessage());
            assertEquals(List.of("checkpoint_epoch_1"), names(out), "the partial checkpoint was removed");
            assertEquals(freeAfterFirst, Files.getFileStore(out).getUnallocatedSpace(), "its space was given back");
            Checkpoints.Loaded good = Checkpoints.latestGood(out, new ArrayList<>());
            assertNotNull(good);
            assertEquals(1, good.state().get("step").getAsLong());

            // replacing a checkpoint of the same name on a full disk keeps the old one
            assertThrows(IOException.class, () -> save(out, "checkpoint_epoch_1", 3));
            assertEquals(List.of("checkpoint_epoch_1"), names(out));
            assertEquals(1, Checkpoints.load(out.resolve("checkpoint_epoch_1")).state().get("step").getAsLong());

            // and the check before training says so, with the numbers
            IllegalArgumentException pre = assertThrows(IllegalArgumentException.class,
                    () -> Checkpoints.ensureWritable(out, 600 << 10));
            assertTrue(pre.getMessage().contains("--output-dir /run has") && pre.getMessage().contains("MiB free, less than the 1.2 MiB"),
                    pre.getMessage());
            Checkpoints.ensureWritable(out, 1 << 10); // small enough
        }
    }

    @Test
    void everyFileOfACheckpointIsChecksummedStateIncluded() throws Exception {
        Path out = dir.resolve("run");
        save(out, "checkpoint_epoch_1", 1);
        Path second = save(out, "checkpoint_epoch_2", 2);
        // the checksum file is in sha256sum's format
        Process p = new ProcessBuilder("sha256sum", "--check", "--strict", Checkpoints.CHECKSUMS).directory(second.toFile())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, log);
        assertTrue(log.contains("state.json: OK") && log.contains("model.safetensors: OK"), log);

        // one changed digit in state.json (still valid JSON: a step of 3 instead of 2) is caught
        Path state = second.resolve(Checkpoints.STATE);
        Files.writeString(state, Files.readString(state).replace("\"step\": 2", "\"step\": 3"));
        lmu.train.CorruptFileException e = assertThrows(lmu.train.CorruptFileException.class, () -> Checkpoints.load(second));
        assertTrue(e.getMessage().startsWith(state + ": checksum mismatch"), e.getMessage());
        List<String> skipped = new ArrayList<>();
        assertEquals(1, Checkpoints.latestGood(out, skipped).state().get("step").getAsLong(), "falls back to the previous one");
        assertEquals(1, skipped.size(), skipped.toString());
    }

    @Test
    void outputDirectoryThatCannotBeCreatedIsReportedBeforeTraining() throws IOException {
        Path file = Files.writeString(dir.resolve("not-a-dir"), "x");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.ensureWritable(file.resolve("sub"), 1));
        assertTrue(e.getMessage().contains("--output-dir " + file.resolve("sub") + " is not writable")
                && e.getMessage().contains("choose another directory"), e.getMessage());
    }

    // ------------------------------------------------------------------ the kernel's file systems

    /** Runs in a child JVM inside the namespace: {@code fill DIR} or {@code readonly DIR}; prints what it saw. */
    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[1]);
        if (args[0].equals("fill")) {
            long step = 1;
            try {
                for (; step < 100; step++) {
                    save(out, "checkpoint_epoch_" + step, step); // no pruning: the disk fills up
                    System.out.println("saved " + step);
                }
            } catch (IOException e) {
                System.out.println("save failed: " + e.getMessage());
            }
            for (String n : names(out)) System.out.println("entry " + n);
            Checkpoints.Loaded good = Checkpoints.latestGood(out, new ArrayList<>());
            System.out.println("latest good step " + good.state().get("step").getAsLong());
            try {
                Checkpoints.ensureWritable(out, 512 << 10);
                System.out.println("pre-check passed");
            } catch (IllegalArgumentException e) {
                System.out.println("pre-check: " + e.getMessage());
            }
        } else {
            try {
                Checkpoints.ensureWritable(out, 1);
                System.out.println("pre-check passed");
            } catch (IllegalArgumentException e) {
                System.out.println("pre-check: " + e.getMessage());
            }
            try {
                save(out, "checkpoint_epoch_9", 9);
                System.out.println("saved 9");
            } catch (IOException e) {
                System.out.println("save failed: " + e.getMessage());
            }
            System.out.println("latest good step " + Checkpoints.latestGood(out, new ArrayList<>()).state().get("step").getAsLong());
        }
    }

    private static String sh(String script) throws Exception {
        Process p = new ProcessBuilder("unshare", "-rm", "sh", "-c", script).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        return p.exitValue() + "\n" + out;
    }

    private boolean namespacesWork(Path mnt) {
        try {
            return sh("mount -t tmpfs -o size=64k tmpfs '" + mnt + "'").startsWith("0\n");
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void realFullAndReadOnlyFileSystems() throws Exception {
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        assumeTrue(namespacesWork(mnt), "unshare -rm (an unprivileged user and mount namespace) is not available here");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String child = "'" + java + "' -cp '" + System.getProperty("java.class.path") + "' " + CheckpointSafetyIT.class.getName();
        String out = sh("set -e; mount -t tmpfs -o size=1m tmpfs '" + mnt + "'; " + child + " fill '" + mnt + "/run'; mount -o remount,ro '"
                + mnt + "'; " + child + " readonly '" + mnt + "/run'");
        assertTrue(out.startsWith("0\n"), out);
        // 1 MiB holds one checkpoint of ~520 KiB, not two
        assertTrue(out.contains("saved 1\n") && !out.contains("saved 2\n"), out);
        assertTrue(out.contains("save failed: checkpoint checkpoint_epoch_2 could not be written to " + mnt + "/run (No space left on device")
                && out.contains("earlier checkpoints are intact"), out);
        assertTrue(out.contains("entry checkpoint_epoch_1\n") && !out.contains("entry .checkpoint"), "no partial directory left: " + out);
        assertTrue(out.contains("pre-check: --output-dir " + mnt + "/run has"), out);
        // read-only: refused before training, refused at save time, the old checkpoint still loads
        assertTrue(out.contains("pre-check: --output-dir " + mnt + "/run is not writable (Read-only file system"), out);
        assertTrue(out.contains("save failed: checkpoint checkpoint_epoch_9 could not be written to " + mnt + "/run (Read-only file system"),
                out);
        assertEquals(2, out.split("latest good step 1\n", -1).length - 1, out);
    }
}
