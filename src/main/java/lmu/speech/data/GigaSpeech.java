package lmu.speech.data;

import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import lmu.speech.text.TextNormalizer;

/**
 * GigaSpeech releases: {@code GigaSpeech.json} (streamed, the real file is gigabytes) and the
 * Opus files it lists. The JSON holds {@code audios[]}, each with {@code path} (relative to the
 * JSON's folder), optional {@code duration} and {@code segments[]}, each with {@code sid},
 * {@code begin_time}, {@code end_time}, {@code text_tn} and {@code subsets} tags such as
 * {@code "{XS}"}, {@code "{M}"}, {@code "{DEV}"}.
 *
 * <p>Subsets: {@code xs, s, m, l, xl} for training, {@code dev} and {@code test}. A segment
 * belongs to a subset exactly when its {@code subsets} list carries that tag; in the release a
 * segment of XS also carries {@code {S} {M} {L} {XL}}, which is how a larger subset includes the
 * smaller ones. Text is normalised with GigaSpeech rules ({@link TextNormalizer#gigaSpeech()});
 * segments of garbage tags only ({@code <SIL> <MUSIC> <NOISE> <OTHER>}) are dropped and counted
 * in {@link TextNormalizer.Stats#garbageOnly()}. Segments with missing or mistyped fields, bad
 * times, duplicate ids, missing audio files or empty text are skipped and reported with their
 * JSON line.
 */
public final class GigaSpeech {
    /** Subset names accepted by {@link #read}, smallest training subset first. */
    public static final List<String> SUBSETS = List.of("xs", "s", "m", "l", "xl", "dev", "test");

    private static final Pattern LINE = Pattern.compile("at line (\\d+)");

    private GigaSpeech() {}

    /**
     * Reads one subset with audio-file checks.
     *
     * @param release the release folder (holding {@code GigaSpeech.json}) or the JSON file
     * @param subset one of {@link #SUBSETS} (case ignored)
     * @throws IllegalArgumentException for an unknown subset, a missing JSON file or JSON that
     *     is not a GigaSpeech release (the message names the line)
     * @throws UncheckedIOException when the JSON cannot be read
     */
    public static DatasetListing read(Path release, String subset) {
        return readSplits(release, List.of(subset), true).values().iterator().next();
    }

    /**
     * Reads several subsets in one pass over the JSON.
     *
     * @param release the release folder (holding {@code GigaSpeech.json}) or the JSON file
     * @param subsets names from {@link #SUBSETS} (case ignored), e.g. {@code [xs, dev, test]}
     * @param checkFiles whether to skip segments whose audio file does not exist
     * @return one listing per requested subset, in the order given, keyed by lower-case name
     * @throws IllegalArgumentException for an unknown subset, a missing JSON file or JSON that
     *     is not a GigaSpeech release (the message names the line)
     * @throws UncheckedIOException when the JSON cannot be read
     */
    public static Map<String, DatasetListing> readSplits(Path release, Collection<String> subsets, boolean checkFiles) {
        Path json = jsonOf(release);
        Map<String, String> tagToName = new LinkedHashMap<>();
        for (String s : subsets) {
            String name = s.toLowerCase(Locale.ROOT);
            if (!SUBSETS.contains(name)) {
                throw new IllegalArgumentException("GigaSpeech: subset must be one of " + SUBSETS + ", got '" + s + "'");
            }
            tagToName.put("{" + name.toUpperCase(Locale.ROOT) + "}", name);
        }
        if (tagToName.isEmpty()) throw new IllegalArgumentException("GigaSpeech: no subset requested");
        Map<String, Split> splits = new LinkedHashMap<>();
        for (String name : tagToName.values()) splits.put(name, new Split());
        Path base = json.toAbsolutePath().normalize().getParent();
        TextNormalizer normalizer = TextNormalizer.gigaSpeech();

        try (Reader in = Files.newBufferedReader(json, StandardCharsets.UTF_8);
                JsonReader r = new JsonReader(in)) {
            boolean sawAudios = false;
            expect(r, JsonToken.BEGIN_OBJECT, json);
            r.beginObject();
            while (r.hasNext()) {
                if (!r.nextName().equals("audios")) {
                    r.skipValue();
                    continue;
                }
                sawAudios = true;
                expect(r, JsonToken.BEGIN_ARRAY, json);
                r.beginArray();
                while (r.hasNext()) {
                    readAudio(r, json, base, tagToName, splits, normalizer, checkFiles);
                }
                r.endArray();
            }
            r.endObject();
            if (!sawAudios) throw new IllegalArgumentException("GigaSpeech: " + json + " has no \"audios\" array");
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new IllegalArgumentException("GigaSpeech: " + json + " is not valid UTF-8 text (" + e.getMessage() + ")", e);
        } catch (IOException | IllegalStateException | NumberFormatException e) {
            if (e instanceof IOException io && !(e instanceof com.google.gson.stream.MalformedJsonException)
                    && !(e instanceof java.io.EOFException)) {
                throw new UncheckedIOException("GigaSpeech: cannot read " + json + ": " + e.getMessage(), io);
            }
            throw new IllegalArgumentException("GigaSpeech: " + json + " is not a valid release JSON: " + e.getMessage(), e);
        }
        Map<String, DatasetListing> out = new LinkedHashMap<>();
        splits.forEach((name, s) -> out.put(name, new DatasetListing(s.utterances, s.skipped, s.stats)));
        return out;
    }

    /** The JSON file of a release given as folder or file. */
    static Path jsonOf(Path release) {
        if (Files.isDirectory(release)) {
            Path j = release.resolve("GigaSpeech.json");
            if (!Files.isRegularFile(j)) {
                throw new IllegalArgumentException("GigaSpeech: no GigaSpeech.json in " + release);
            }
            return j;
        }
        if (!Files.isRegularFile(release)) {
            throw new IllegalArgumentException("GigaSpeech: release must be a folder with GigaSpeech.json or the JSON file, got " + release);
        }
        return release;
    }

    private static final class Split {
        final List<Utterance> utterances = new ArrayList<>();
        final List<DatasetListing.Skipped> skipped = new ArrayList<>();
        final TextNormalizer.Stats stats = new TextNormalizer.Stats();
        final Set<String> ids = new HashSet<>();
    }

    /** A segment as read, before the audio's path is known (it may come after the segments). */
    private record Segment(long line, String sid, double begin, double end, String text, List<String> tags, String error) {}

    private static void readAudio(JsonReader r, Path json, Path base, Map<String, String> tagToName,
            Map<String, Split> splits, TextNormalizer normalizer, boolean checkFiles) throws IOException {
        long audioLine = line(r);
        String path = null;
        String aid = null;
        double duration = -1;
        String audioError = null;
        List<Segment> segments = new ArrayList<>();
        expect(r, JsonToken.BEGIN_OBJECT, json);
        r.beginObject();
        while (r.hasNext()) {
            String name = r.nextName();
            switch (name) {
                case "path" -> {
                    if (r.peek() == JsonToken.STRING) path = r.nextString();
                    else {
                        audioError = "audio field 'path' must be a string, got " + r.peek();
                        r.skipValue();
                    }
                }
                case "aid" -> {
                    if (r.peek() == JsonToken.STRING) aid = r.nextString();
                    else r.skipValue();
                }
                case "duration" -> {
                    if (r.peek() == JsonToken.NUMBER) duration = r.nextDouble();
                    else r.skipValue();
                }
                case "segments" -> {
                    expect(r, JsonToken.BEGIN_ARRAY, json);
                    r.beginArray();
                    while (r.hasNext()) segments.add(readSegment(r, json));
                    r.endArray();
                }
                default -> r.skipValue();
            }
        }
        r.endObject();

        Path audio = null;
        if (audioError == null && path == null) audioError = "audio " + (aid == null ? "at line " + audioLine : aid) + " has no 'path'";
        if (audioError == null) {
            try {
                audio = base.resolve(path).normalize();
                if (checkFiles && !Files.isRegularFile(audio)) audioError = "audio file not found: " + audio;
            } catch (java.nio.file.InvalidPathException e) {
                audioError = "audio field 'path' is not a valid path: " + e.getMessage();
            }
        }
        for (Segment seg : segments) {
            for (String tag : seg.tags) {
                String name = tagToName.get(tag);
                if (name == null) continue;
                Split split = splits.get(name);
                String reason = audioError != null ? audioError : seg.error;
                if (reason == null) reason = checkTimes(seg, duration);
                if (reason == null && split.ids.contains(seg.sid)) reason = "duplicate segment id '" + seg.sid + "'";
                if (reason != null) {
                    split.skipped.add(new DatasetListing.Skipped(json, seg.line, reason));
                    continue;
                }
                String text = normalizer.normalize(seg.text, split.stats);
                if (text.isEmpty()) {
                    if (!TextNormalizer.isGarbageOnly(seg.text)) {
                        split.skipped.add(new DatasetListing.Skipped(json, seg.line,
                                "segment " + seg.sid + ": empty transcript after normalisation: \"" + seg.text + "\""));
                    }
                    continue;
                }
                split.ids.add(seg.sid);
                split.utterances.add(new Utterance(seg.sid, audio, seg.begin, seg.end - seg.begin, text));
            }
        }
    }

    private static String checkTimes(Segment s, double audioDuration) {
        if (!(s.begin >= 0 && s.end > s.begin)) {
            return "segment " + s.sid + ": need 0 <= begin_time < end_time, got " + s.begin + " and " + s.end;
        }
        if (audioDuration > 0 && s.end > audioDuration + 0.05) {
            return "segment " + s.sid + ": end_time " + s.end + " is past the audio's duration " + audioDuration;
        }
        return null;
    }

    private static Segment readSegment(JsonReader r, Path json) throws IOException {
        long line = line(r);
        String sid = null;
        String text = null;
        double begin = Double.NaN;
        double end = Double.NaN;
        List<String> tags = new ArrayList<>();
        String error = null;
        expect(r, JsonToken.BEGIN_OBJECT, json);
        r.beginObject();
        while (r.hasNext()) {
            String name = r.nextName();
            JsonToken t = r.peek();
            switch (name) {
                case "sid", "text_tn" -> {
                    if (t == JsonToken.STRING) {
                        if (name.equals("sid")) sid = r.nextString();
                        else text = r.nextString();
                    } else {
                        if (error == null) error = "field '" + name + "' must be a string, got " + t;
                        r.skipValue();
                    }
                }
                case "begin_time", "end_time" -> {
                    if (t == JsonToken.NUMBER) {
                        if (name.equals("begin_time")) begin = r.nextDouble();
                        else end = r.nextDouble();
                    } else {
                        if (error == null) error = "field '" + name + "' must be a number, got " + t;
                        r.skipValue();
                    }
                }
                case "subsets" -> {
                    if (t == JsonToken.BEGIN_ARRAY) {
                        r.beginArray();
                        while (r.hasNext()) {
                            if (r.peek() == JsonToken.STRING) tags.add(r.nextString().strip().toUpperCase(Locale.ROOT));
                            else r.skipValue();
                        }
                        r.endArray();
                    } else {
                        if (error == null) error = "field 'subsets' must be an array, got " + t;
                        r.skipValue();
                    }
                }
                default -> r.skipValue();
            }
        }
        r.endObject();
        if (error == null) {
            if (sid == null) error = "missing field 'sid'";
            else if (text == null) error = "missing field 'text_tn'";
            else if (Double.isNaN(begin)) error = "missing field 'begin_time'";
            else if (Double.isNaN(end)) error = "missing field 'end_time'";
        }
        if (error != null && sid != null) error = "segment " + sid + ": " + error;
        return new Segment(line, sid, begin, end, text, tags, error);
    }

    private static void expect(JsonReader r, JsonToken token, Path json) throws IOException {
        JsonToken t = r.peek();
        if (t != token) {
            throw new IllegalArgumentException("GigaSpeech: " + json + " line " + line(r) + ": expected " + token + ", got " + t);
        }
    }

    /** The reader's current line (Gson reports it only in its description). */
    private static long line(JsonReader r) {
        Matcher m = LINE.matcher(r.toString());
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }
}
