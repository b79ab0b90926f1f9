package lmu.speech.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LibriSpeechTest {
    static Path fixture() throws URISyntaxException {
        return Path.of(LibriSpeechTest.class.getResource("/fixtures/librispeech/train-mini").toURI());
    }

    @Test
    void readsSubsetAndReportsProblems() throws Exception {
        Path root = fixture();
        DatasetListing l = LibriSpeech.read(root);
        List<Utterance> u = l.utterances();
        assertEquals(List.of("19-198-0000", "19-198-0001", "26-496-0000"), u.stream().map(Utterance::id).toList());
        assertEquals(new Utterance("19-198-0000", root.resolve("19/198/19-198-0000.flac"), 0, 1.0, "northanger abbey"), u.get(0));
        assertEquals("it's the dogs' bowl", u.get(1).text());
        assertEquals(0.5, u.get(1).duration(), 1e-9);
        assertEquals(0.25, u.get(2).duration(), 1e-9); // 2000 samples at 8 kHz
        Path trans = root.resolve("19/198/19-198.trans.txt");
        assertEquals(2, l.skipped().size());
        assertEquals(new DatasetListing.Skipped(trans, 3, "audio file not found: " + root.resolve("19/198/19-198-0002.flac")),
                l.skipped().get(0));
        assertEquals(trans, l.skipped().get(1).file());
        assertEquals(4, l.skipped().get(1).line());
        assertTrue(l.skipped().get(1).reason().startsWith("no transcript"), l.skipped().get(1).reason());
    }

    @Test
    void speakerFolderAndParentFolderWork() throws Exception {
        assertEquals(2, LibriSpeech.read(fixture().resolve("19")).utterances().size());
        assertEquals(3, LibriSpeech.read(fixture().getParent()).utterances().size());
        assertTrue(LibriSpeech.looksLike(fixture().getParent()));
    }

    @Test
    void flacDurationFromHandMadeHeader(@TempDir Path dir) throws Exception {
        // STREAMINFO with sample rate 44100 and 2^32 + 5 total samples (uses the 36-bit field)
        byte[] b = new byte[4 + 4 + 34];
        b[0] = 'f'; b[1] = 'L'; b[2] = 'a'; b[3] = 'C';
        b[4] = (byte) 0x80; // last block, type 0
        b[7] = 34;
        int si = 8;
        int rate = 44100;
        long total = (1L << 32) + 5;
        b[si + 10] = (byte) (rate >>> 12);
        b[si + 11] = (byte) (rate >>> 4);
        b[si + 12] = (byte) (((rate & 0xF) << 4) | (0 << 1) | 0); // channels-1 = 0, bps high bit 0
        b[si + 13] = (byte) ((15 << 4) | (int) (total >>> 32));  // bps low bits, total bits 35..32
        b[si + 14] = (byte) (total >>> 24);
        b[si + 15] = (byte) (total >>> 16);
        b[si + 16] = (byte) (total >>> 8);
        b[si + 17] = (byte) total;
        Path f = dir.resolve("x.flac");
        Files.write(f, b);
        assertEquals((double) total / rate, LibriSpeech.flacDuration(f), 1e-9);
        Files.write(f, new byte[] {'R', 'I', 'F', 'F', 0, 0, 0, 0});
        assertThrows(IllegalArgumentException.class, () -> LibriSpeech.flacDuration(f));
    }

    @Test
    void rejectsFolderWithoutTranscripts(@TempDir Path dir) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LibriSpeech.read(dir));
        assertTrue(e.getMessage().contains("no <speaker>-<chapter>.trans.txt"), e.getMessage());
    }
}
