package lmu.speech.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Opens a dataset named by one string, picking the reader from what the string points at:
 *
 * <ul>
 *   <li>{@code builtin} — the {@link BuiltinCorpus} (part {@code train}, the default, or
 *       {@code test});
 *   <li>a {@code .jsonl} file, or any file whose first line is a JSON object with {@code
 *       audio_filepath} — a {@link JsonlManifest};
 *   <li>a folder holding {@code GigaSpeech.json}, or a JSON file with an {@code audios} array —
 *       a {@link GigaSpeech} release (part: {@code xs} (default), {@code s}, {@code m}, {@code
 *       l}, {@code xl}, {@code dev}, {@code test});
 *   <li>a folder with {@code <part>.jsonl} in it (what {@code prepare} writes) — that manifest
 *       (part default {@code train});
 *   <li>a folder with {@code *.trans.txt} files up to 4 levels down — {@link LibriSpeech}.
 * </ul>
 *
 * <pre>
 * jshell> Datasets.open("builtin", "test").utterances().size()
 * $1 ==> 160
 * </pre>
 */
public final class Datasets {
    private Datasets() {}

    /** {@link #open(String, String)} with the default part. */
    public static DatasetListing open(String spec) {
        return open(spec, null);
    }

    /**
     * @param spec {@code builtin} or a path, as listed in the class description
     * @param part split or subset where the format has several, or null for its default
     * @throws IllegalArgumentException when the spec points at nothing recognisable, or the part
     *     does not apply (the message lists what is accepted)
     * @throws UncheckedIOException when a file cannot be read
     */
    public static DatasetListing open(String spec, String part) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("Datasets: spec must be 'builtin' or a path, got " + (spec == null ? "null" : "'" + spec + "'"));
        }
        if (spec.equals("builtin")) return BuiltinCorpus.read(part == null ? "train" : part.toLowerCase(Locale.ROOT));
        Path p = Path.of(spec);
        if (Files.isDirectory(p)) {
            if (Files.isRegularFile(p.resolve("GigaSpeech.json"))) return GigaSpeech.read(p, part == null ? "xs" : part);
            String name = (part == null ? "train" : part) + ".jsonl";
            if (Files.isRegularFile(p.resolve(name))) return JsonlManifest.read(p.resolve(name));
            if (LibriSpeech.looksLike(p)) {
                noPart(spec, part, "LibriSpeech folder (give the subset folder itself)");
                return LibriSpeech.read(p);
            }
            throw unrecognised(spec, "a folder without GigaSpeech.json, " + name + " or LibriSpeech *.trans.txt files");
        }
        if (Files.isRegularFile(p)) {
            String kind = sniff(p);
            if (kind.equals("jsonl")) {
                noPart(spec, part, "JSON-lines manifest");
                return JsonlManifest.read(p);
            }
            if (kind.equals("gigaspeech")) return GigaSpeech.read(p, part == null ? "xs" : part);
            throw unrecognised(spec, "a file that is neither a JSON-lines manifest nor a GigaSpeech JSON");
        }
        throw unrecognised(spec, "no such file or folder");
    }

    private static void noPart(String spec, String part, String what) {
        if (part != null) {
            throw new IllegalArgumentException("Datasets: " + spec + " is a " + what + ", which has no part '" + part + "'");
        }
    }

    private static IllegalArgumentException unrecognised(String spec, String found) {
        return new IllegalArgumentException("Datasets: cannot open '" + spec + "': " + found + ". Expected 'builtin',"
                + " a .jsonl manifest (audio_filepath, duration, text), a GigaSpeech release folder or GigaSpeech.json,"
                + " a folder with train.jsonl, or a LibriSpeech folder (<speaker>/<chapter>/*.trans.txt)");
    }

    /** "jsonl", "gigaspeech" or "unknown", from the name and the first bytes of the file. */
    static String sniff(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.equals("gigaspeech.json")) return "gigaspeech";
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            char[] buf = new char[1 << 16];
            int n = r.read(buf);
            if (n <= 0) return name.endsWith(".jsonl") ? "jsonl" : "unknown";
            String head = new String(buf, 0, n);
            if (name.endsWith(".jsonl")) return "jsonl";
            int nl = head.indexOf('\n');
            String first = (nl >= 0 ? head.substring(0, nl) : head).strip();
            if (first.startsWith("{") && first.endsWith("}") && first.contains("\"audio_filepath\"")) return "jsonl";
            if (head.stripLeading().startsWith("{") && head.contains("\"audios\"")) return "gigaspeech";
            return "unknown";
        } catch (java.nio.charset.MalformedInputException e) {
            return "unknown";
        } catch (IOException e) {
            throw new UncheckedIOException("Datasets: cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
