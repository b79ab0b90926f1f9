package lmu.speech.data;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.BufferedInputStream;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import lmu.speech.text.TextNormalizer;

/**
 * JSON-lines manifests: one JSON object per line with {@code audio_filepath} (string; a relative
 * path is resolved against the manifest's folder), {@code duration} (number, seconds, &gt; 0),
 * {@code text} (string) and optionally {@code offset} (number, seconds, &ge; 0) and {@code id}
 * (string; default: the audio file name without extension, made unique with {@code #<line>}).
 * Other fields are ignored; blank lines are allowed.
 *
 * <p>A line with bad JSON, a missing field, a field of the wrong type or value, a missing audio
 * file or a transcript that is empty after normalisation is skipped and reported with its line
 * number; reading goes on.
 *
 * <pre>
 * {"audio_filepath": "audio/a1.opus", "duration": 2.45, "text": "the quick fox"}
 * {"audio_filepath": "/data/long.wav", "offset": 12.5, "duration": 3.0, "text": "hello there"}
 * </pre>
 */
public final class JsonlManifest {
    private JsonlManifest() {}

    /**
     * Reads a manifest with {@link TextNormalizer#plain()} and audio-file checks.
     *
     * @throws UncheckedIOException when the manifest itself cannot be read
     */
    public static DatasetListing read(Path manifest) {
        return read(manifest, TextNormalizer.plain(), true);
    }

    /**
     * @param manifest the .jsonl file
     * @param normalizer applied to every {@code text}
     * @param checkFiles whether to skip entries whose audio file does not exist
     * @throws UncheckedIOException when the manifest itself cannot be read
     */
    public static DatasetListing read(Path manifest, TextNormalizer normalizer, boolean checkFiles) {
        Path base = manifest.toAbsolutePath().normalize().getParent();
        List<Utterance> out = new ArrayList<>();
        List<DatasetListing.Skipped> skipped = new ArrayList<>();
        TextNormalizer.Stats stats = new TextNormalizer.Stats();
        Set<String> ids = new HashSet<>();
        try (InputStream in = new BufferedInputStream(Files.newInputStream(manifest), 1 << 16)) {
            LineReader r = new LineReader(in);
            String line;
            long no = 0;
            while ((line = r.next()) != null) {
                no++;
                if (line == LineReader.NOT_UTF8) {
                    skipped.add(new DatasetListing.Skipped(manifest, no, "not valid UTF-8 text"));
                    continue;
                }
                if (no == 1 && line.startsWith("\uFEFF")) line = line.substring(1);
                if (line.isBlank()) continue;
                try {
                    Utterance u = parse(line, no, base, normalizer, stats, checkFiles, ids);
                    out.add(u);
                } catch (BadEntry e) {
                    skipped.add(new DatasetListing.Skipped(manifest, no, e.getMessage()));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("JsonlManifest: cannot read " + manifest + ": " + e.getMessage(), e);
        }
        return new DatasetListing(out, skipped, stats);
    }

    private static Utterance parse(String line, long no, Path base, TextNormalizer normalizer, TextNormalizer.Stats stats,
            boolean checkFiles, Set<String> ids) throws BadEntry {
        JsonObject o = parseObject(line);
        String audio = string(o, "audio_filepath", true);
        double duration = number(o, "duration", true, Double.NaN);
        String text = string(o, "text", true);
        double offset = number(o, "offset", false, 0.0);
        String id = string(o, "id", false);
        if (!(duration > 0)) throw new BadEntry("field 'duration' must be > 0 seconds, got " + o.get("duration"));
        if (!(offset >= 0)) throw new BadEntry("field 'offset' must be >= 0 seconds, got " + o.get("offset"));
        if (audio.isBlank()) throw new BadEntry("field 'audio_filepath' is empty");
        Path path;
        try {
            path = base.resolve(audio).normalize();
        } catch (java.nio.file.InvalidPathException e) {
            throw new BadEntry("field 'audio_filepath' is not a valid path: " + audio);
        }
        if (checkFiles && !Files.isRegularFile(path)) throw new BadEntry("audio file not found: " + path);
        String normalized = normalizer.normalize(text, stats);
        if (normalized.isEmpty()) throw new BadEntry("empty transcript after normalisation: " + o.get("text"));
        if (id == null) {
            String name = path.getFileName().toString();
            int dot = name.lastIndexOf('.');
            id = dot > 0 ? name.substring(0, dot) : name;
            if (ids.contains(id)) id = id + "#" + no;
        } else if (ids.contains(id)) {
            throw new BadEntry("duplicate id '" + id + "'");
        }
        ids.add(id);
        return new Utterance(id, path, offset, duration, normalized);
    }

    private static JsonObject parseObject(String line) throws BadEntry {
        try {
            JsonReader reader = new JsonReader(new StringReader(line));
            reader.setStrictness(Strictness.STRICT);
            JsonElement e = JsonParser.parseReader(reader);
            if (reader.peek() != JsonToken.END_DOCUMENT) throw new BadEntry("bad JSON: text after the object");
            if (!e.isJsonObject()) throw new BadEntry("expected a JSON object, got " + shorten(line));
            return e.getAsJsonObject();
        } catch (JsonParseException | IOException | IllegalStateException e) {
            String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            int cut = msg.indexOf("\nSee ");
            throw new BadEntry("bad JSON: " + (cut > 0 ? msg.substring(0, cut) : msg));
        }
    }

    private static String string(JsonObject o, String key, boolean required) throws BadEntry {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            if (required) throw new BadEntry("missing field '" + key + "'");
            return null;
        }
        if (!(e.isJsonPrimitive() && e.getAsJsonPrimitive().isString())) {
            throw new BadEntry("field '" + key + "' must be a string, got " + shorten(e.toString()));
        }
        return e.getAsString();
    }

    private static double number(JsonObject o, String key, boolean required, double absent) throws BadEntry {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            if (required) throw new BadEntry("missing field '" + key + "'");
            return absent;
        }
        if (!(e.isJsonPrimitive() && ((JsonPrimitive) e).isNumber())) {
            throw new BadEntry("field '" + key + "' must be a number, got " + shorten(e.toString()));
        }
        return e.getAsDouble();
    }

    private static String shorten(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }

    /**
     * Writes utterances as a manifest (UTF-8, one object per line with {@code id},
     * {@code audio_filepath}, {@code offset} when &gt; 0, {@code duration}, {@code text}). Audio
     * paths inside the manifest's folder are written relative to it, others absolute. The file is
     * written to a temporary name and moved into place.
     *
     * @throws IllegalArgumentException when an utterance has no known duration (negative)
     * @throws UncheckedIOException when the file cannot be written
     */
    public static void write(Path manifest, List<Utterance> utterances) {
        Path abs = manifest.toAbsolutePath().normalize();
        Path dir = abs.getParent();
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, abs.getFileName().toString(), ".tmp");
            try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                for (Utterance u : utterances) {
                    if (!(u.duration() > 0)) {
                        throw new IllegalArgumentException("JsonlManifest.write: utterance " + u.id()
                                + " must have a duration > 0 seconds, got " + u.duration());
                    }
                    Path audio = u.audio().toAbsolutePath().normalize();
                    String shown = audio.startsWith(dir) ? dir.relativize(audio).toString() : audio.toString();
                    JsonObject o = new JsonObject();
                    o.addProperty("id", u.id());
                    o.addProperty("audio_filepath", shown);
                    if (u.offset() > 0) o.addProperty("offset", round(u.offset()));
                    o.addProperty("duration", round(u.duration()));
                    o.addProperty("text", u.text());
                    w.write(o.toString());
                    w.write('\n');
                }
            } catch (RuntimeException | IOException e) {
                Files.deleteIfExists(tmp);
                throw e;
            }
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("JsonlManifest: cannot write " + manifest + ": " + e.getMessage(), e);
        }
    }

    /** Seconds to microseconds precision, so manifests stay short and readable. */
    private static double round(double seconds) {
        return Double.parseDouble(String.format(Locale.ROOT, "%.6f", seconds));
    }

    /**
     * Lines of UTF-8 text ended by LF or CRLF; a line that is not valid UTF-8 comes back as
     * {@link #NOT_UTF8} so that one damaged line is skipped, not the whole manifest.
     */
    private static final class LineReader {
        static final String NOT_UTF8 = new String("\uFFFD<not UTF-8>");
        private final InputStream in;
        private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        private byte[] buf = new byte[256];

        LineReader(InputStream in) {
            this.in = in;
        }

        String next() throws IOException {
            int n = 0, c;
            while ((c = in.read()) >= 0 && c != '\n') {
                if (n == buf.length) buf = Arrays.copyOf(buf, 2 * n);
                buf[n++] = (byte) c;
            }
            if (c < 0 && n == 0) return null;
            if (n > 0 && buf[n - 1] == '\r') n--;
            try {
                return decoder.reset().decode(ByteBuffer.wrap(buf, 0, n)).toString();
            } catch (CharacterCodingException e) {
                return NOT_UTF8;
            }
        }
    }

    /** A manifest entry that cannot be used; the message is the reason. */
    static final class BadEntry extends Exception {
        BadEntry(String reason) {
            super(reason, null, false, false);
        }
    }
}
