package lmu.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import lmu.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointsTest {
    @TempDir Path out;

    private Path save(String name, long step, float w) throws IOException {
        return Checkpoints.save(out, name, Map.of("w", Tensor.of(new float[] {w, w}, 2)), Map.of("w.exp_avg", new float[] {0.5f, 0.25f}),
                Map.of("w.exp_avg", new int[] {2}), Map.of("step", step, "epoch", 1), Map.of("vocabulary", "ab"));
    }

    @Test
    void savesAndLoadsWithChecksums() throws IOException {
        Path dir = save(Checkpoints.epochName(1, false), 10, 3f);
        assertEquals("checkpoint_epoch_1", dir.getFileName().toString());
        Checkpoints.Loaded l = Checkpoints.load(dir);
        assertArrayEquals(new float[] {3, 3}, l.model().arrays().get("w"));
        assertArrayEquals(new float[] {0.5f, 0.25f}, l.optimizer().arrays().get("w.exp_avg"));
        assertEquals(10, l.state().get("step").getAsLong());
        assertEquals("ab", l.model().metadata().get("vocabulary"));
        try (var s = Files.list(out)) {
            assertEquals(1, s.count(), "no temporary directory left behind");
        }
    }

    @Test
    void damagedNewestCheckpointFallsBackToThePreviousGoodOne() throws IOException {
        save(Checkpoints.epochName(1, false), 10, 1f);
        Path newest = save(Checkpoints.epochName(2, false), 20, 2f);
        byte[] b = Files.readAllBytes(newest.resolve(Checkpoints.MODEL));
        b[b.length - 1] ^= 0x55;
        Files.write(newest.resolve(Checkpoints.MODEL), b);
        IOException e = assertThrows(IOException.class, () -> Checkpoints.load(newest));
        assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
        List<String> skipped = new ArrayList<>();
        Checkpoints.Loaded l = Checkpoints.latestGood(out, skipped);
        assertEquals("checkpoint_epoch_1", l.dir().getFileName().toString());
        assertEquals(1, skipped.size());
        assertTrue(skipped.get(0).startsWith("checkpoint_epoch_2"), skipped.toString());
    }

    @Test
    void interruptedWriteLeavesOnlyIgnoredTemporaryState() throws IOException {
        save(Checkpoints.epochName(1, false), 10, 1f);
        // what a kill between the first file and the rename leaves behind
        Path tmp = Files.createDirectory(out.resolve(".checkpoint_epoch_2.tmp-123"));
        Files.write(tmp.resolve(Checkpoints.MODEL), new byte[] {1, 2, 3});
        // a final-named directory without state.json (never produced by save, but a user may copy one half-way)
        Files.createDirectory(out.resolve("checkpoint_epoch_3"));
        List<String> skipped = new ArrayList<>();
        assertEquals("checkpoint_epoch_1", Checkpoints.latestGood(out, skipped).dir().getFileName().toString());
        IOException e = assertThrows(IOException.class, () -> Checkpoints.load(out.resolve("checkpoint_epoch_3")));
        assertTrue(e.getMessage().contains("no state.json"), e.getMessage());
    }

    @Test
    void overwritingTheSameNameReplacesItAtomically() throws IOException {
        save("checkpoint_epoch_1", 10, 1f);
        save("checkpoint_epoch_1", 11, 5f);
        assertArrayEquals(new float[] {5, 5}, Checkpoints.load(out.resolve("checkpoint_epoch_1")).model().arrays().get("w"));
        try (var s = Files.list(out)) {
            assertEquals(1, s.count());
        }
    }

    @Test
    void pruneKeepsLastKAndNewestBest() throws IOException {
        for (int e = 1; e <= 5; e++) save(Checkpoints.epochName(e, false), e * 10L, e);
        save(Checkpoints.epochName(2, true), 20, 2f);
        save(Checkpoints.epochName(4, true), 40, 4f);
        Checkpoints.prune(out, 2);
        List<String> names = Checkpoints.list(out).stream().map(x -> x.dir().getFileName().toString()).sorted().toList();
        assertEquals(List.of("checkpoint_epoch_4", "checkpoint_epoch_4_best", "checkpoint_epoch_5"), names);
    }

    @Test
    void unwritableOutputDirectoryIsReportedBeforeTraining() throws IOException {
        Path file = Files.writeString(out.resolve("not-a-dir"), "x");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.ensureWritable(file.resolve("sub")));
        assertTrue(e.getMessage().contains("not writable"), e.getMessage());
    }

    @Test
    void stateNumbersAreReadOrNamedWhenMissing() {
        com.google.gson.JsonObject state = com.google.gson.JsonParser.parseString(
                "{\"step\": 12, \"best_wer\": Infinity, \"epoch\": \"two\"}").getAsJsonObject();
        Checkpoints.Loaded ck = new Checkpoints.Loaded(Path.of("runs", "checkpoint_epoch_2"), null, null, state);
        assertEquals(12, ck.number("step"));
        assertEquals(Double.POSITIVE_INFINITY, ck.number("best_wer"));
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> ck.number("batch_in_epoch"));
        assertTrue(missing.getMessage().contains("checkpoint_epoch_2") && missing.getMessage().contains("'batch_in_epoch'"),
                missing.getMessage());
        IllegalArgumentException text = assertThrows(IllegalArgumentException.class, () -> ck.number("epoch"));
        assertTrue(text.getMessage().contains("'epoch'") && text.getMessage().contains("\"two\""), text.getMessage());
    }
}
