package lmu.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import lmu.train.DataPipeline;
import lmu.train.TrainConfig;
import lmu.train.TrainSession;
import lmu.train.Trainer;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training on a manifest that mixes good utterances with every common kind of broken one runs to
 * the end and writes {@code skipped.txt} (file and reason per item) into the output directory, with
 * a summary on stdout; a dataset where nothing is usable stops with an error that gives the reasons.
 */
class CorruptDataTrainingIT {
    static final String CONFIG = """
            model:
              input_dim: 80
              hidden: 16
              blocks: 1
              dropout: 0.0
              max_frames: 400
              attention: {heads: 2, dropout: 0.0}
              lmu: {memory_order: 4, theta: 8}
              downsample: {after: [1]}
            optim: {warmup: 1, schedule: constant}
            train: {batch_size: 2, epochs: 2, log_every: 1, patience: 0}
            data: {valid: "", feature_cache: none, loader_threads: 1}
            """;

    @TempDir Path dir;

    private static byte[] tone(int frames, double freq) {
        byte[] b = ParserFuzzTest.wav16(frames);
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < frames; i++) bb.putShort(44 + 2 * i, (short) (8000 * Math.sin(2 * Math.PI * freq * i / 16000)));
        return b;
    }

    private static String line(String file, double duration, String text) {
        return "{\"audio_filepath\": \"" + file + "\", \"duration\": " + duration + ", \"text\": \"" + text + "\"}\n";
    }

    private record Result(Trainer.Summary summary, String stdout) {}

    private Result train(Path manifest, Path out) throws Exception {
        Map<String, Object> root = TrainConfig.parseYaml(new StringReader(CONFIG), "test");
        TrainConfig.override(root, "data.train", manifest.toString());
        TrainConfig cfg = TrainConfig.resolve(root);
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(text, true, StandardCharsets.UTF_8);
        try {
            return new Result(TrainSession.run(cfg, new TrainSession.Options(out, "none", false, false, null), ps),
                    text.toString(StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            throw new AssertionError(e.getMessage() + "\n--- stdout:\n" + text.toString(StandardCharsets.UTF_8), e);
        }
    }

    /** Writes the broken files; returns their manifest lines. */
    private String brokenEntries() throws Exception {
        byte[] good = tone(4800, 300);
        Files.write(dir.resolve("truncated.wav"), Arrays.copyOf(good, good.length / 2)); // header promises 0.3 s
        byte[] garbage = new byte[4000];
        Rng rng = new Rng(5);
        for (int i = 0; i < garbage.length; i++) garbage[i] = (byte) rng.nextInt(256);
        Files.write(dir.resolve("garbage.wav"), garbage);
        Files.write(dir.resolve("empty.wav"), new byte[0]);
        byte[] nan = ParserFuzzTest.wav(3, 32, 1, 4800, false, false); // float WAV with a NaN sample
        java.nio.ByteBuffer.wrap(nan).order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(44 + 4 * 100, Float.NaN);
        Files.write(dir.resolve("nan.wav"), nan);
        Files.write(dir.resolve("fine.wav"), good);
        return line("truncated.wav", 0.3, "cut short")
                + line("garbage.wav", 0.3, "random bytes")
                + line("empty.wav", 0.3, "no bytes at all")
                + line("nan.wav", 0.3, "not a number")
                + line("missing.wav", 0.3, "nowhere")
                + "{\"audio_filepath\": \"fine.wav\", \"duration\": \n" // a line cut in the middle
                + line("fine.wav", 0.3, "");
    }

    @Test
    void brokenFilesAreSkippedReportedAndTrainingRunsToTheEnd() throws Exception {
        StringBuilder manifest = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            Files.write(dir.resolve("good" + i + ".wav"), tone(4800, 200 + 50 * i));
            manifest.append(line("good" + i + ".wav", 0.3, i % 2 == 0 ? "abc" : "bad cab"));
        }
        manifest.append(brokenEntries());
        Path m = Files.writeString(dir.resolve("train.jsonl"), manifest.toString());
        Path out = dir.resolve("run");
        Result r = train(m, out);
        assertEquals(Trainer.Stop.COMPLETED, r.summary.stop(), r.stdout);
        assertTrue(r.summary.step() >= 4, "the six good utterances were trained on for two epochs: " + r.stdout);

        String report = Files.readString(out.resolve(DataPipeline.SKIP_REPORT));
        assertTrue(report.startsWith("7 training item(s) skipped"), report);
        String[][] expected = {
            {"truncated.wav", "truncated WAV"},
            {"garbage.wav", "unknown audio format"},
            {"empty.wav", "file too short to be audio"},
            {"nan.wav", "not a finite number"},
            {"missing.wav", "audio file not found"},
            {"train.jsonl:12", "bad JSON"},
            {"train.jsonl:13", "empty transcript"},
        };
        for (String[] e : expected) {
            assertTrue(report.lines().anyMatch(l -> l.contains(e[0]) && l.contains(e[1])), e[0] + " / " + e[1] + " in:\n" + report);
        }
        assertFalse(report.contains("good"), "no good file is reported: " + report);
        assertTrue(r.stdout.contains("7 training item(s) skipped (full list in " + out.resolve(DataPipeline.SKIP_REPORT) + ")"), r.stdout);
    }

    @Test
    void aDatasetWithNothingUsableStopsWithTheReasons() throws Exception {
        Path m = Files.writeString(dir.resolve("broken.jsonl"), brokenEntries());
        Path out = dir.resolve("run");
        AssertionError e = assertThrows(AssertionError.class, () -> train(m, out));
        String msg = e.getCause().getMessage();
        assertTrue(msg.contains("no utterance of epoch 1 could be loaded") && msg.contains("truncated WAV")
                && msg.contains("unknown audio format"), msg);
        String report = Files.readString(out.resolve(DataPipeline.SKIP_REPORT));
        assertTrue(report.contains("garbage.wav") && report.contains("missing.wav") && report.contains("broken.jsonl:6"), report);

        Path noLines = Files.writeString(dir.resolve("nothing.jsonl"), "{\"audio_filepath\": 3}\nnot json\n");
        AssertionError e2 = assertThrows(AssertionError.class, () -> train(noLines, dir.resolve("run2")));
        String msg2 = e2.getCause().getMessage();
        assertTrue(msg2.contains("no usable training utterances in " + noLines) && msg2.contains("nothing.jsonl:2: bad JSON"), msg2);
    }
}
