package lmu.speech.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrepareTest {
    @TempDir
    Path out;

    static Path asteriskFixture() throws Exception {
        return Path.of(PrepareTest.class.getResource("/fixtures/asterisk").toURI());
    }

    static boolean hasFfmpeg() {
        try {
            Process p = new ProcessBuilder("ffmpeg", "-version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    @Test
    void asteriskDecodesNormalisesAndSplits() throws Exception {
        assumeTrue(hasFfmpeg(), "ffmpeg is not installed; skipping the Asterisk preparation test");
        Path fx = asteriskFixture();
        Path transcripts = fx.resolve("core-sounds-en.txt");
        Map<String, DatasetListing> r = Prepare.asterisk(fx.resolve("sounds"), transcripts, out, "ffmpeg", 2);
        // sorted prompt names: digits/5, hello, press-one; every 2nd goes to test
        List<Utterance> train = r.get("train").utterances();
        List<Utterance> test = r.get("test").utterances();
        assertEquals(List.of("asterisk-digits_5", "asterisk-press-one"), train.stream().map(Utterance::id).toList());
        assertEquals(List.of("asterisk-hello"), test.stream().map(Utterance::id).toList());
        assertEquals("five", train.get(0).text());
        assertEquals("press one then pound or star", train.get(1).text());
        assertEquals("hello there", test.get(0).text());
        assertEquals(1.0, train.get(0).duration(), 1e-3);
        assertEquals(0.75, train.get(1).duration(), 1e-3);
        assertEquals(0.5, test.get(0).duration(), 1e-3);
        assertTrue(Files.isRegularFile(out.resolve("wav/asterisk-hello.wav")));
        List<DatasetListing.Skipped> skipped = r.get("train").skipped();
        assertEquals(List.of(5L, 6L), skipped.stream().map(DatasetListing.Skipped::line).toList());
        assertTrue(skipped.get(0).reason().startsWith("empty transcript"), skipped.get(0).reason());
        assertTrue(skipped.get(1).reason().startsWith("audio file not found"), skipped.get(1).reason());
        // the manifests read back to the same utterances
        assertEquals(train, JsonlManifest.read(out.resolve("train.jsonl")).utterances());
        assertEquals(test, JsonlManifest.read(out.resolve("test.jsonl")).utterances());
    }

    @Test
    void missingFfmpegIsAClearError() throws Exception {
        Path fx = asteriskFixture();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Prepare.asterisk(
                fx.resolve("sounds"), fx.resolve("core-sounds-en.txt"), out, "/nonexistent/ffmpeg-missing"));
        assertTrue(e.getMessage().contains("install ffmpeg"), e.getMessage());
    }

    @Test
    void gigaspeechWritesTrainDevTest() throws Exception {
        Map<String, DatasetListing> r = Prepare.gigaspeech(GigaSpeechTest.release(), "s", out);
        assertEquals(2, r.get("train").utterances().size());
        assertEquals(1, r.get("dev").utterances().size());
        assertEquals(1, r.get("test").utterances().size());
        for (String name : List.of("train", "dev", "test")) {
            assertEquals(r.get(name).utterances(), JsonlManifest.read(out.resolve(name + ".jsonl")).utterances());
        }
        assertThrows(IllegalArgumentException.class, () -> Prepare.gigaspeech(GigaSpeechTest.release(), "dev", out));
    }

    @Test
    void librispeechAndGenericManifest() throws Exception {
        DatasetListing l = Prepare.librispeech(LibriSpeechTest.fixture(), out.resolve("libri.jsonl"));
        assertEquals(l.utterances(), JsonlManifest.read(out.resolve("libri.jsonl")).utterances());
        DatasetListing m = Prepare.manifest(out.resolve("libri.jsonl").toString(), null, out.resolve("copy.jsonl"));
        assertEquals(l.utterances(), m.utterances());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Prepare.main(new String[] {"nope"}));
        assertTrue(e.getMessage().contains("unknown command 'nope'"), e.getMessage());
    }

    @Test
    void wavDurationReadsChunks() throws Exception {
        // RIFF header, a LIST chunk of odd size 3 (padded to 4), fmt (16 kHz mono 16 bit), data of 3200 bytes
        ByteBuffer b = ByteBuffer.allocate(12 + 8 + 4 + 8 + 16 + 8 + 3200).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes()).putInt(b.capacity() - 8).put("WAVE".getBytes());
        b.put("LIST".getBytes()).putInt(3).put(new byte[] {1, 2, 3, 0});
        b.put("fmt ".getBytes()).putInt(16).putShort((short) 1).putShort((short) 1).putInt(16000).putInt(32000)
                .putShort((short) 2).putShort((short) 16);
        b.put("data".getBytes()).putInt(3200);
        Path wav = out.resolve("x.wav");
        Files.write(wav, b.array());
        assertEquals(0.1, Prepare.wavDuration(wav), 1e-12);
        Files.write(wav, new byte[] {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'A', 'V', 'I', ' '});
        assertThrows(IllegalArgumentException.class, () -> Prepare.wavDuration(wav));
    }
}
