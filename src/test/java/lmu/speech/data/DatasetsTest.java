package lmu.speech.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {
    @TempDir
    Path dir;

    @Test
    void picksTheReaderFromThePath() throws Exception {
        Path giga = GigaSpeechTest.release();
        assertEquals(GigaSpeech.read(giga, "xs").utterances(), Datasets.open(giga.toString()).utterances());
        assertEquals(GigaSpeech.read(giga, "m").utterances(), Datasets.open(giga.resolve("GigaSpeech.json").toString(), "m").utterances());
        Path libri = LibriSpeechTest.fixture();
        assertEquals(LibriSpeech.read(libri).utterances(), Datasets.open(libri.toString()).utterances());

        Files.createFile(dir.resolve("a.wav"));
        String line = "{\"audio_filepath\": \"a.wav\", \"duration\": 1.0, \"text\": \"hi\"}\n";
        Files.writeString(dir.resolve("train.jsonl"), line);
        Files.writeString(dir.resolve("test.jsonl"), line + line);
        Files.writeString(dir.resolve("manifest.json"), line); // JSON lines under a .json name
        assertEquals(1, Datasets.open(dir.resolve("train.jsonl").toString()).utterances().size());
        assertEquals(1, Datasets.open(dir.resolve("manifest.json").toString()).utterances().size());
        assertEquals(1, Datasets.open(dir.toString()).utterances().size());          // folder: train.jsonl
        assertEquals(2, Datasets.open(dir.toString(), "test").utterances().size()); // folder: test.jsonl
    }

    @Test
    void clearErrorsForAnythingElse() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Datasets.open(dir.resolve("nope").toString()));
        assertTrue(e.getMessage().contains("no such file or folder"), e.getMessage());
        assertTrue(e.getMessage().contains("Expected 'builtin'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Datasets.open(dir.toString()));
        assertTrue(e.getMessage().contains("a folder without GigaSpeech.json"), e.getMessage());
        Path txt = dir.resolve("notes.txt");
        Files.writeString(txt, "hello\n");
        e = assertThrows(IllegalArgumentException.class, () -> Datasets.open(txt.toString()));
        assertTrue(e.getMessage().contains("neither a JSON-lines manifest nor a GigaSpeech JSON"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Datasets.open(LibriSpeechTest.fixture().toString(), "dev"));
        assertTrue(e.getMessage().contains("has no part 'dev'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Datasets.open(" "));
        assertTrue(e.getMessage().contains("spec must be"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Datasets.open("builtin", "validation"));
        assertTrue(e.getMessage().contains("got 'validation'"), e.getMessage());
    }
}
