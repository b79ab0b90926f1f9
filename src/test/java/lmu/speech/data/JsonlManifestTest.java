package lmu.speech.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonlManifestTest {
    @TempDir
    Path dir;

    private Path audio(String rel) throws IOException {
        Path p = dir.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.write(p, new byte[] {1});
        return p;
    }

    @Test
    void readsGoodLinesAndReportsBadOnesWithLineNumbers() throws IOException {
        audio("data/audio/a.wav");
        audio("data/audio/b.flac");
        Path other = audio("elsewhere/c.opus");
        Path manifest = dir.resolve("data/train.jsonl");
        Files.writeString(manifest, String.join("\n",
                "{\"audio_filepath\": \"audio/a.wav\", \"duration\": 1.5, \"text\": \"Hello, World!\"}",   // 1 ok
                "",                                                                                         // 2 blank
                "{\"audio_filepath\": \"audio/b.flac\", \"duration\": 2, \"text\": \"b\", \"offset\": 0.25}", // 3 ok
                "{\"audio_filepath\": \"audio/a.wav\", \"duration\": 1.5, \"text\": \"missing brace\"",   // 4 bad JSON
                "{\"audio_filepath\": \"audio/a.wav\", \"text\": \"no duration\"}",                          // 5 missing
                "{\"audio_filepath\": \"audio/a.wav\", \"duration\": \"1.5\", \"text\": \"x\"}",             // 6 type
                "{\"audio_filepath\": \"audio/nope.wav\", \"duration\": 1.0, \"text\": \"x\"}",              // 7 no file
                "{\"audio_filepath\": \"audio/a.wav\", \"duration\": 1.0, \"text\": \"123 !!\"}",            // 8 empty text
                "{\"audio_filepath\": \"audio/a.wav\", \"duration\": -1, \"text\": \"x\"}",                  // 9 duration
                "[1, 2]",                                                                                   // 10 not object
                "{\"audio_filepath\": \"" + other + "\", \"duration\": 3.25, \"text\": \"c\", \"id\": \"cee\"}", // 11 absolute
                "{\"audio_filepath\": \"audio/a.wav\", \"duration\": 1.0, \"text\": \"again\"}",             // 12 ok, id dup
                "{audio_filepath: \"audio/a.wav\", \"duration\": 1.0, \"text\": \"lenient\"}",               // 13 not strict JSON
                "{\"audio_filepath\": \"audio/a.wav\", \"duration\": 1.0, \"text\": \"x\"} trailing"));      // 14 trailing

        DatasetListing l = JsonlManifest.read(manifest);
        List<Utterance> u = l.utterances();
        assertEquals(4, u.size());
        assertEquals(new Utterance("a", dir.resolve("data/audio/a.wav").toAbsolutePath(), 0, 1.5, "hello world"), u.get(0));
        assertEquals(new Utterance("b", dir.resolve("data/audio/b.flac").toAbsolutePath(), 0.25, 2.0, "b"), u.get(1));
        assertEquals(new Utterance("cee", other.toAbsolutePath(), 0, 3.25, "c"), u.get(2));
        assertEquals("a#12", u.get(3).id());

        List<DatasetListing.Skipped> s = l.skipped();
        assertEquals(List.of(4L, 5L, 6L, 7L, 8L, 9L, 10L, 13L, 14L), s.stream().map(DatasetListing.Skipped::line).toList());
        assertTrue(s.get(0).reason().startsWith("bad JSON"), s.get(0).reason());
        assertEquals("missing field 'duration'", s.get(1).reason());
        assertEquals("field 'duration' must be a number, got \"1.5\"", s.get(2).reason());
        assertTrue(s.get(3).reason().startsWith("audio file not found"), s.get(3).reason());
        assertTrue(s.get(4).reason().startsWith("empty transcript"), s.get(4).reason());
        assertTrue(s.get(5).reason().contains("'duration' must be > 0"), s.get(5).reason());
        assertTrue(s.get(6).reason().startsWith("expected a JSON object"), s.get(6).reason());
        assertTrue(s.get(7).reason().startsWith("bad JSON"), s.get(7).reason());
        assertTrue(s.get(8).reason().startsWith("bad JSON"), s.get(8).reason());
        assertEquals(manifest, s.get(0).file());
        assertTrue(s.get(0).toString().startsWith(manifest + ":4: "), s.get(0).toString());

        assertEquals(1, l.text().dropped(','));
        assertEquals(1, l.text().dropped('1'));
        assertEquals(1.5 + 2 + 3.25 + 1.0, l.totalSeconds(), 1e-12);
    }

    @Test
    void withoutFileChecksMissingAudioIsKept() throws IOException {
        Path manifest = dir.resolve("m.jsonl");
        Files.writeString(manifest, "{\"audio_filepath\": \"x/y.wav\", \"duration\": 1.0, \"text\": \"yes\"}\n");
        DatasetListing l = JsonlManifest.read(manifest, lmu.speech.text.TextNormalizer.plain(), false);
        assertEquals(dir.resolve("x/y.wav").toAbsolutePath(), l.utterances().get(0).audio());
        assertEquals(0, l.skipped().size());
    }

    @Test
    void writeThenReadRoundTrips() throws IOException {
        Path a = audio("out/audio/one.wav");
        Path b = audio("far/two.wav");
        List<Utterance> in = List.of(
                new Utterance("u1", a, 0, 1.25, "first one"),
                new Utterance("u2", b, 3.5, 0.75, "it's second"));
        Path manifest = dir.resolve("out/train.jsonl");
        JsonlManifest.write(manifest, in);
        List<String> lines = Files.readAllLines(manifest);
        assertEquals("{\"id\":\"u1\",\"audio_filepath\":\"audio/one.wav\",\"duration\":1.25,\"text\":\"first one\"}", lines.get(0));
        assertTrue(lines.get(1).contains("\"audio_filepath\":\"" + b.toAbsolutePath() + "\""), lines.get(1));
        assertTrue(lines.get(1).contains("\"offset\":3.5"), lines.get(1));
        DatasetListing back = JsonlManifest.read(manifest);
        assertEquals(0, back.skipped().size());
        assertEquals(List.of(
                new Utterance("u1", a.toAbsolutePath(), 0, 1.25, "first one"),
                new Utterance("u2", b.toAbsolutePath(), 3.5, 0.75, "it's second")), back.utterances());
    }

    @Test
    void writeRejectsUnknownDuration() {
        Path m = dir.resolve("bad.jsonl");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> JsonlManifest.write(m, List.of(new Utterance("x", dir.resolve("x.wav"), 0, -1, "x"))));
        assertTrue(e.getMessage().contains("duration > 0"), e.getMessage());
        assertTrue(!Files.exists(m));
    }

    @Test
    void duplicateExplicitIdsAreSkipped() throws IOException {
        audio("a.wav");
        Path manifest = dir.resolve("d.jsonl");
        Files.writeString(manifest,
                "{\"id\": \"k\", \"audio_filepath\": \"a.wav\", \"duration\": 1.0, \"text\": \"one\"}\n"
                        + "{\"id\": \"k\", \"audio_filepath\": \"a.wav\", \"duration\": 1.0, \"text\": \"two\"}\n");
        DatasetListing l = JsonlManifest.read(manifest);
        assertEquals(1, l.utterances().size());
        assertEquals(2, l.skipped().get(0).line());
        assertEquals("duplicate id 'k'", l.skipped().get(0).reason());
    }
}
