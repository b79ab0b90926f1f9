package lmu.speech.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import lmu.speech.text.TextNormalizer;

/**
 * LibriSpeech directory layout: {@code <root>/<speaker>/<chapter>/<speaker>-<chapter>.trans.txt},
 * each line {@code <speaker>-<chapter>-<utterance> TRANSCRIPT}, next to {@code
 * <speaker>-<chapter>-<utterance>.flac}. {@code root} may be one subset ({@code train-clean-100}),
 * the {@code LibriSpeech} folder holding several, or a single speaker or chapter folder: every
 * {@code *.trans.txt} below it is read.
 *
 * <p>Durations come from each FLAC file's STREAMINFO header (no decoding). Lines without a
 * transcript, missing or unreadable FLAC files and transcripts empty after normalisation are
 * skipped and reported with the transcript file and line.
 */
public final class LibriSpeech {
    private LibriSpeech() {}

    /** Reads with {@link TextNormalizer#plain()}. */
    public static DatasetListing read(Path root) {
        return read(root, TextNormalizer.plain());
    }

    /**
     * @param root a directory with {@code *.trans.txt} files somewhere below it
     * @param normalizer applied to every transcript
     * @return utterances sorted by id
     * @throws IllegalArgumentException when {@code root} is not a directory or holds no transcript
     * @throws UncheckedIOException when a directory or transcript cannot be read
     */
    public static DatasetListing read(Path root, TextNormalizer normalizer) {
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException("LibriSpeech: root must be a directory, got " + root);
        }
        List<Path> transcripts = transcripts(root, Integer.MAX_VALUE);
        if (transcripts.isEmpty()) {
            throw new IllegalArgumentException("LibriSpeech: no <speaker>-<chapter>.trans.txt file below " + root);
        }
        List<Utterance> out = new ArrayList<>();
        List<DatasetListing.Skipped> skipped = new ArrayList<>();
        TextNormalizer.Stats stats = new TextNormalizer.Stats();
        for (Path t : transcripts) {
            try (BufferedReader r = Files.newBufferedReader(t, StandardCharsets.UTF_8)) {
                String line;
                long no = 0;
                while ((line = r.readLine()) != null) {
                    no++;
                    if (line.isBlank()) continue;
                    String s = line.strip();
                    int sp = indexOfSpace(s);
                    if (sp < 0) {
                        skipped.add(new DatasetListing.Skipped(t, no, "no transcript after id '" + s + "'"));
                        continue;
                    }
                    String id = s.substring(0, sp);
                    Path flac = t.resolveSibling(id + ".flac");
                    if (!Files.isRegularFile(flac)) {
                        skipped.add(new DatasetListing.Skipped(t, no, "audio file not found: " + flac));
                        continue;
                    }
                    double duration;
                    try {
                        duration = flacDuration(flac);
                    } catch (IOException | IllegalArgumentException e) {
                        skipped.add(new DatasetListing.Skipped(t, no, "unreadable FLAC header in " + flac + ": " + e.getMessage()));
                        continue;
                    }
                    String text = normalizer.normalize(s.substring(sp + 1), stats);
                    if (text.isEmpty()) {
                        skipped.add(new DatasetListing.Skipped(t, no, "empty transcript after normalisation"));
                        continue;
                    }
                    out.add(new Utterance(id, flac, 0, duration, text));
                }
            } catch (IOException e) {
                throw new UncheckedIOException("LibriSpeech: cannot read " + t + ": " + e.getMessage(), e);
            }
        }
        out.sort(Comparator.comparing(Utterance::id));
        return new DatasetListing(out, skipped, stats);
    }

    /** Whether {@code dir} looks like LibriSpeech: a {@code *.trans.txt} at most 4 levels down. */
    static boolean looksLike(Path dir) {
        return Files.isDirectory(dir) && !transcripts(dir, 4).isEmpty();
    }

    private static List<Path> transcripts(Path root, int depth) {
        try (Stream<Path> s = Files.walk(root, depth, FileVisitOption.FOLLOW_LINKS)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".trans.txt") && Files.isRegularFile(p))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("LibriSpeech: cannot list " + root + ": " + e.getMessage(), e);
        }
    }

    private static int indexOfSpace(String s) {
        for (int i = 0; i < s.length(); i++) if (Character.isWhitespace(s.charAt(i))) return i;
        return -1;
    }

    /**
     * Duration of a FLAC file from its STREAMINFO block: total samples / sample rate, or -1 when
     * the header leaves the total unknown (0). A leading ID3v2 tag is skipped.
     *
     * @throws IllegalArgumentException when the file is not FLAC
     * @throws IOException when it cannot be read
     */
    static double flacDuration(Path flac) throws IOException {
        try (InputStream in = Files.newInputStream(flac)) {
            byte[] head = in.readNBytes(4);
            if (head.length == 4 && head[0] == 'I' && head[1] == 'D' && head[2] == '3') {
                byte[] id3 = in.readNBytes(6); // version (2), flags (1), syncsafe size (4) from byte 3
                if (id3.length < 6) throw new IllegalArgumentException("truncated ID3 tag");
                long size = ((id3[2] & 0x7F) << 21) | ((id3[3] & 0x7F) << 14) | ((id3[4] & 0x7F) << 7) | (id3[5] & 0x7F);
                in.skipNBytes(size);
                head = in.readNBytes(4);
            }
            if (head.length < 4 || head[0] != 'f' || head[1] != 'L' || head[2] != 'a' || head[3] != 'C') {
                throw new IllegalArgumentException("no 'fLaC' signature");
            }
            byte[] block = in.readNBytes(4 + 34);
            if (block.length < 38 || (block[0] & 0x7F) != 0) {
                throw new IllegalArgumentException("first metadata block is not STREAMINFO");
            }
            int b = 4 + 10; // sample rate starts 10 bytes into STREAMINFO
            int rate = ((block[b] & 0xFF) << 12) | ((block[b + 1] & 0xFF) << 4) | ((block[b + 2] & 0xFF) >>> 4);
            long total = ((long) (block[b + 3] & 0x0F) << 32) | ((long) (block[b + 4] & 0xFF) << 24)
                    | ((block[b + 5] & 0xFF) << 16) | ((block[b + 6] & 0xFF) << 8) | (block[b + 7] & 0xFF);
            if (rate == 0) throw new IllegalArgumentException("sample rate 0 in STREAMINFO");
            return total == 0 ? -1 : (double) total / rate;
        }
    }
}
