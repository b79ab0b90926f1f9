package lmu.speech.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GigaSpeechTest {
    static Path release() throws Exception {
        return Path.of(GigaSpeechTest.class.getResource("/fixtures/gigaspeech").toURI());
    }

    private static List<String> ids(DatasetListing l) {
        return l.utterances().stream().map(Utterance::id).toList();
    }

    @Test
    void subsetsFollowTheTags() throws Exception {
        Map<String, DatasetListing> all = GigaSpeech.readSplits(release(), GigaSpeech.SUBSETS, true);
        String p = "POD0000000001_S000000";
        assertEquals(List.of(p + "0"), ids(all.get("xs")));
        assertEquals(List.of(p + "0", p + "2"), ids(all.get("s")));
        assertEquals(List.of(p + "0", p + "2", p + "4"), ids(all.get("m")));
        assertEquals(List.of(p + "0", p + "2", p + "4"), ids(all.get("l")));
        assertEquals(List.of(p + "0", p + "2", p + "4"), ids(all.get("xl")));
        assertEquals(List.of("POD0000000002_S0000000"), ids(all.get("dev")));
        assertEquals(List.of("POD0000000002_S0000001"), ids(all.get("test")));
        // garbage-only segments: <SIL> in xs..xl, <MUSIC> in l and xl, <NOISE> in test
        assertEquals(1, all.get("xs").text().garbageOnly());
        assertEquals(1, all.get("m").text().garbageOnly());
        assertEquals(2, all.get("l").text().garbageOnly());
        assertEquals(2, all.get("xl").text().garbageOnly());
        assertEquals(1, all.get("test").text().garbageOnly());
        assertEquals(0, all.get("dev").text().garbageOnly());
    }

    @Test
    void segmentsCarryTimesPathAndNormalisedText() throws Exception {
        DatasetListing m = GigaSpeech.read(release(), "M");
        Path opus = release().resolve("audio/podcast/P0000/POD0000000001.opus");
        assertEquals(new Utterance("POD0000000001_S0000000", opus, 0.0, 2.0, "hello world"), m.utterances().get(0));
        assertEquals(new Utterance("POD0000000001_S0000002", opus, 3.0, 2.0, "it's a well known fact isn't it"), m.utterances().get(1));
        assertEquals(new Utterance("POD0000000001_S0000004", opus, 6.0, 2.0, "good morning"), m.utterances().get(2));
        assertEquals(1, m.text().tags().get("<PERIOD>"));
        assertEquals(1, m.text().tags().get("<COMMA>"));
        assertEquals(1, m.text().tags().get("<QUESTIONMARK>"));
        assertEquals(1, m.text().tags().get("<EXCLAMATIONPOINT>"));
        assertEquals(0, m.text().droppedTotal());
        assertEquals(6.0, m.totalSeconds(), 1e-12);
    }

    @Test
    void brokenSegmentsAreSkippedWithLines() throws Exception {
        Path json = release().resolve("GigaSpeech.json");
        List<String> lines = Files.readAllLines(json);
        int s5 = lineOf(lines, "POD0000000001_S0000005");
        int s6 = lineOf(lines, "POD0000000001_S0000006");
        int y0 = lineOf(lines, "YOU0000000003_S0000000");
        DatasetListing xs = GigaSpeech.read(json, "xs");
        assertEquals(1, xs.skipped().size());
        assertEquals(json, xs.skipped().get(0).file());
        assertEquals(s5, xs.skipped().get(0).line());
        assertEquals("segment POD0000000001_S0000005: field 'begin_time' must be a number, got STRING", xs.skipped().get(0).reason());

        DatasetListing xl = GigaSpeech.read(json, "xl");
        assertEquals(List.of((long) s5, (long) s6, (long) y0), xl.skipped().stream().map(DatasetListing.Skipped::line).toList());
        assertTrue(xl.skipped().get(1).reason().contains("begin_time < end_time"), xl.skipped().get(1).reason());
        assertTrue(xl.skipped().get(2).reason().startsWith("audio file not found"), xl.skipped().get(2).reason());
        // without file checks the missing audio is listed
        assertEquals(4, GigaSpeech.readSplits(json, List.of("xl"), false).get("xl").utterances().size());
    }

    private static int lineOf(List<String> lines, String needle) {
        for (int i = 0; i < lines.size(); i++) if (lines.get(i).contains(needle)) return i + 1;
        throw new AssertionError(needle);
    }

    @Test
    void badArguments(@TempDir Path dir) throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GigaSpeech.read(release(), "xxl"));
        assertTrue(e.getMessage().contains("got 'xxl'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GigaSpeech.read(dir, "xs"));
        assertTrue(e.getMessage().contains("no GigaSpeech.json"), e.getMessage());
        Path broken = dir.resolve("GigaSpeech.json");
        Files.writeString(broken, "{\"audios\": [ {\"path\": \"a.opus\", \"segments\": [ {\"sid\": ");
        e = assertThrows(IllegalArgumentException.class, () -> GigaSpeech.read(broken, "xs"));
        assertTrue(e.getMessage().contains("not a valid release JSON"), e.getMessage());
        Files.writeString(broken, "{\"dataset\": \"x\"}");
        e = assertThrows(IllegalArgumentException.class, () -> GigaSpeech.read(broken, "xs"));
        assertTrue(e.getMessage().contains("no \"audios\" array"), e.getMessage());
    }
}
