package lmu.speech.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import lmu.speech.text.TextNormalizer;

/**
 * The work behind the {@code prepare} command: turns a dataset into JSON-lines manifests
 * ({@link JsonlManifest}) that training reads quickly. One static method per source; each
 * returns what it wrote, by manifest name, so the caller can print the summaries.
 *
 * <pre>
 * jshell> Prepare.asterisk(Path.of("data/asterisk")).get("test").utterances().size()
 * </pre>
 */
public final class Prepare {
    /** Where Debian's {@code asterisk-core-sounds-en-g722} puts the prompts. */
    public static final Path ASTERISK_SOUNDS = Path.of("/usr/share/asterisk/sounds/en");
    /** Where Debian's {@code asterisk-core-sounds-en} puts the transcripts. */
    public static final Path ASTERISK_TRANSCRIPTS = Path.of("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz");

    private static final Pattern ANNOTATION = Pattern.compile("\\[[^\\]]*\\]|\\([^)]*\\)");

    private Prepare() {}

    /**
     * GigaSpeech: one pass over the release JSON writes {@code train.jsonl} (the training subset),
     * {@code dev.jsonl} and {@code test.jsonl} into {@code outDir}; audio stays where it is
     * (absolute paths unless it lies inside {@code outDir}).
     *
     * @param release release folder or {@code GigaSpeech.json}
     * @param subset {@code xs}, {@code s}, {@code m}, {@code l} or {@code xl}
     * @return listings by manifest name: train, dev, test
     * @throws IllegalArgumentException for a bad subset or release (see {@link GigaSpeech})
     * @throws UncheckedIOException when reading or writing fails
     */
    public static Map<String, DatasetListing> gigaspeech(Path release, String subset, Path outDir) {
        String s = subset.toLowerCase(java.util.Locale.ROOT);
        if (!GigaSpeech.SUBSETS.subList(0, 5).contains(s)) {
            throw new IllegalArgumentException("Prepare.gigaspeech: subset must be one of " + GigaSpeech.SUBSETS.subList(0, 5)
                    + ", got '" + subset + "'");
        }
        Map<String, DatasetListing> read = GigaSpeech.readSplits(release, List.of(s, "dev", "test"), true);
        Map<String, DatasetListing> out = new LinkedHashMap<>();
        out.put("train", read.get(s));
        out.put("dev", read.get("dev"));
        out.put("test", read.get("test"));
        out.forEach((name, l) -> JsonlManifest.write(outDir.resolve(name + ".jsonl"), l.utterances()));
        return out;
    }

    /**
     * LibriSpeech subset folder to one manifest.
     *
     * @param root e.g. {@code LibriSpeech/train-clean-100}
     * @param manifest the .jsonl file to write
     * @throws IllegalArgumentException when {@code root} holds no LibriSpeech transcripts
     * @throws UncheckedIOException when reading or writing fails
     */
    public static DatasetListing librispeech(Path root, Path manifest) {
        DatasetListing l = LibriSpeech.read(root);
        JsonlManifest.write(manifest, l.utterances());
        return l;
    }

    /**
     * Any dataset {@link Datasets#open(String, String)} understands, written as one manifest
     * (for example the built-in corpus, to inspect it or to copy its list).
     *
     * @throws IllegalArgumentException when the spec is not recognised
     * @throws UncheckedIOException when reading or writing fails
     */
    public static DatasetListing manifest(String spec, String part, Path manifest) {
        DatasetListing l = Datasets.open(spec, part);
        JsonlManifest.write(manifest, l.utterances());
        return l;
    }

    /** {@link #asterisk(Path, Path, Path, String)} with the Debian locations and {@code ffmpeg}. */
    public static Map<String, DatasetListing> asterisk(Path outDir) {
        return asterisk(ASTERISK_SOUNDS, ASTERISK_TRANSCRIPTS, outDir, "ffmpeg");
    }

    /**
     * Asterisk prompts (one speaker, CC-BY-SA, Debian {@code asterisk-core-sounds-en-g722}):
     * each prompt {@code <name>: <transcript>} of the transcript file whose {@code <name>.g722}
     * exists is decoded by ffmpeg to 16 kHz mono 16-bit WAV under {@code outDir/wav/}, and listed
     * in {@code outDir/train.jsonl} or {@code outDir/test.jsonl}.
     *
     * <p>Transcripts: bracketed notes ({@code [beep tone]}, {@code (10 seconds of silence)}) are
     * removed, {@code *} and {@code #} read as "star" and "pound", numbers are spelled out
     * ({@link TextNormalizer#spellingNumbers()}); prompts left with no text are skipped and
     * reported. Test split: every 10th prompt in sorted name order, plus any other prompt with
     * the same text as one of those, so train and test share no transcript.
     *
     * @param sounds folder with the {@code .g722} files (sub-folders such as {@code digits/})
     * @param transcripts {@code core-sounds-en.txt} or {@code .txt.gz}
     * @param outDir where {@code wav/}, {@code train.jsonl} and {@code test.jsonl} go
     * @param ffmpeg the ffmpeg executable
     * @return listings by manifest name: train, test
     * @throws IllegalStateException when ffmpeg cannot be run
     * @throws IllegalArgumentException when the transcript file does not exist
     * @throws UncheckedIOException when reading or writing fails
     */
    public static Map<String, DatasetListing> asterisk(Path sounds, Path transcripts, Path outDir, String ffmpeg) {
        return asterisk(sounds, transcripts, outDir, ffmpeg, 10);
    }

    /** {@link #asterisk(Path, Path, Path, String)} with every {@code testEvery}-th prompt in test. */
    static Map<String, DatasetListing> asterisk(Path sounds, Path transcripts, Path outDir, String ffmpeg, int testEvery) {
        lmu.util.Checks.positive("testEvery", testEvery);
        if (!Files.isRegularFile(transcripts)) {
            throw new IllegalArgumentException("Prepare.asterisk: transcript file not found: " + transcripts
                    + " (Debian package asterisk-core-sounds-en)");
        }
        checkFfmpeg(ffmpeg);
        TextNormalizer normalizer = TextNormalizer.plain().spellingNumbers();
        TextNormalizer.Stats stats = new TextNormalizer.Stats();
        List<DatasetListing.Skipped> skipped = new ArrayList<>();
        TreeMap<String, String[]> prompts = new TreeMap<>(); // name -> {text, line}
        try (BufferedReader r = new BufferedReader(new InputStreamReader(open(transcripts), StandardCharsets.UTF_8))) {
            String line;
            long no = 0;
            while ((line = r.readLine()) != null) {
                no++;
                String s = line.strip();
                if (s.isEmpty() || s.startsWith(";")) continue;
                int colon = s.indexOf(':');
                if (colon <= 0) {
                    skipped.add(new DatasetListing.Skipped(transcripts, no, "expected '<name>: <transcript>'"));
                    continue;
                }
                String name = s.substring(0, colon).strip();
                Path g722 = sounds.resolve(name + ".g722");
                if (!Files.isRegularFile(g722)) {
                    skipped.add(new DatasetListing.Skipped(transcripts, no, "audio file not found: " + g722));
                    continue;
                }
                String raw = ANNOTATION.matcher(s.substring(colon + 1)).replaceAll(" ")
                        .replace("*", " star ").replace("#", " pound ");
                String text = normalizer.normalize(raw, stats);
                if (text.isEmpty()) {
                    skipped.add(new DatasetListing.Skipped(transcripts, no, "empty transcript after normalisation: "
                            + s.substring(colon + 1).strip()));
                    continue;
                }
                if (prompts.containsKey(name)) {
                    skipped.add(new DatasetListing.Skipped(transcripts, no, "prompt '" + name + "' listed twice"));
                    continue;
                }
                prompts.put(name, new String[] {text, Long.toString(no)});
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Prepare.asterisk: cannot read " + transcripts + ": " + e.getMessage(), e);
        }

        List<String> names = new ArrayList<>(prompts.keySet());
        Set<String> testTexts = new HashSet<>();
        for (int i = testEvery - 1; i < names.size(); i += testEvery) testTexts.add(prompts.get(names.get(i))[0]);

        Path wavDir = outDir.resolve("wav");
        Utterance[] decoded = new Utterance[names.size()];
        String[] errors = new String[names.size()];
        java.util.stream.IntStream.range(0, names.size()).parallel().forEach(i -> {
            String name = names.get(i);
            String id = "asterisk-" + name.replace('/', '_');
            Path wav = wavDir.resolve(id + ".wav");
            try {
                Files.createDirectories(wavDir);
                decode(ffmpeg, sounds.resolve(name + ".g722"), wav);
                decoded[i] = new Utterance(id, wav.toAbsolutePath(), 0, wavDuration(wav), prompts.get(name)[0]);
            } catch (IOException | IllegalArgumentException | IllegalStateException e) {
                errors[i] = "cannot decode " + sounds.resolve(name + ".g722") + ": " + e.getMessage();
            }
        });
        List<Utterance> train = new ArrayList<>();
        List<Utterance> test = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            if (errors[i] != null) {
                skipped.add(new DatasetListing.Skipped(transcripts, Long.parseLong(prompts.get(names.get(i))[1]), errors[i]));
            } else if (testTexts.contains(decoded[i].text())) {
                test.add(decoded[i]);
            } else {
                train.add(decoded[i]);
            }
        }
        JsonlManifest.write(outDir.resolve("train.jsonl"), train);
        JsonlManifest.write(outDir.resolve("test.jsonl"), test);
        Map<String, DatasetListing> out = new LinkedHashMap<>();
        out.put("train", new DatasetListing(train, skipped, stats));
        out.put("test", new DatasetListing(test, List.of(), new TextNormalizer.Stats()));
        return out;
    }

    private static InputStream open(Path file) throws IOException {
        InputStream in = Files.newInputStream(file);
        return file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(in) : in;
    }

    private static void checkFfmpeg(String ffmpeg) {
        try {
            Process p = new ProcessBuilder(ffmpeg, "-version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("Prepare: '" + ffmpeg + " -version' failed");
            }
        } catch (IOException e) {
            throw new IllegalStateException("Prepare: cannot run '" + ffmpeg + "' (" + e.getMessage()
                    + "); install ffmpeg (Debian: apt-get install ffmpeg) or put it on PATH", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Prepare: interrupted while checking ffmpeg", e);
        }
    }

    /** Decodes any ffmpeg-readable file to 16 kHz mono 16-bit PCM WAV (bit-exact, no metadata). */
    static void decode(String ffmpeg, Path in, Path wav) throws IOException {
        Process p = new ProcessBuilder(ffmpeg, "-v", "error", "-nostdin", "-y", "-i", in.toString(),
                "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", "-fflags", "+bitexact", "-flags:a", "+bitexact",
                "-map_metadata", "-1", wav.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("ffmpeg timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (p.exitValue() != 0) throw new IOException("ffmpeg exit " + p.exitValue() + (log.isEmpty() ? "" : ": " + log));
    }

    /**
     * Duration of a PCM WAV file from its {@code fmt } and {@code data} chunks.
     *
     * @throws IllegalArgumentException when the file is not a RIFF/WAVE file with both chunks
     */
    static double wavDuration(Path wav) throws IOException {
        byte[] b = Files.readAllBytes(wav);
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        if (b.length < 12 || !new String(b, 0, 4, StandardCharsets.US_ASCII).equals("RIFF")
                || !new String(b, 8, 4, StandardCharsets.US_ASCII).equals("WAVE")) {
            throw new IllegalArgumentException("not a RIFF/WAVE file: " + wav);
        }
        long byteRate = -1;
        int pos = 12;
        while (pos + 8 <= b.length) {
            String id = new String(b, pos, 4, StandardCharsets.US_ASCII);
            long size = bb.getInt(pos + 4) & 0xFFFFFFFFL;
            if (id.equals("fmt ") && pos + 16 <= b.length) byteRate = bb.getInt(pos + 8 + 8) & 0xFFFFFFFFL;
            if (id.equals("data")) {
                if (byteRate <= 0) throw new IllegalArgumentException("WAV data chunk before a valid fmt chunk: " + wav);
                long data = Math.min(size, b.length - pos - 8L);
                return (double) data / byteRate;
            }
            pos += 8 + (int) size + (int) (size & 1);
        }
        throw new IllegalArgumentException("WAV file without data chunk: " + wav);
    }

    /**
     * Runs one preparation from the command line, for the recipe scripts:
     * {@code asterisk OUT_DIR}, {@code gigaspeech RELEASE SUBSET OUT_DIR},
     * {@code librispeech ROOT OUT.jsonl}, {@code manifest SPEC PART|- OUT.jsonl}.
     *
     * @throws IllegalArgumentException for an unknown command or wrong argument count
     */
    public static void main(String[] args) {
        String usage = "usage: Prepare asterisk OUT_DIR | gigaspeech RELEASE SUBSET OUT_DIR | librispeech ROOT OUT.jsonl"
                + " | manifest SPEC PART|- OUT.jsonl";
        if (args.length == 0) throw new IllegalArgumentException(usage);
        Map<String, DatasetListing> done = new LinkedHashMap<>();
        switch (args[0]) {
            case "asterisk" -> {
                need(args, 2, usage);
                done.putAll(asterisk(Path.of(args[1])));
            }
            case "gigaspeech" -> {
                need(args, 4, usage);
                done.putAll(gigaspeech(Path.of(args[1]), args[2], Path.of(args[3])));
            }
            case "librispeech" -> {
                need(args, 3, usage);
                done.put(args[2], librispeech(Path.of(args[1]), Path.of(args[2])));
            }
            case "manifest" -> {
                need(args, 4, usage);
                done.put(args[3], manifest(args[1], args[2].equals("-") ? null : args[2], Path.of(args[3])));
            }
            default -> throw new IllegalArgumentException("Prepare: unknown command '" + args[0] + "'; " + usage);
        }
        done.forEach((name, l) -> System.out.print(name + ": " + l.summary(20)));
    }

    private static void need(String[] args, int n, String usage) {
        if (args.length != n) {
            throw new IllegalArgumentException("Prepare " + args[0] + ": expected " + (n - 1) + " arguments, got "
                    + (args.length - 1) + "; " + usage);
        }
    }
}
