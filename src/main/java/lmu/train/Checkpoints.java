package lmu.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import lmu.tensor.Tensor;

/**
 * Checkpoint directories ({@code checkpoint_epoch_{N}}, {@code checkpoint_epoch_{N}_best},
 * {@code checkpoint_epoch_{N}_step_{S}} for saves inside an epoch), each holding
 * {@code model.safetensors}, {@code optimizer.safetensors} and {@code state.json}. A save is
 * written to a hidden temporary directory, forced to disk, checksummed (SHA-256 of each file in
 * state.json, and of all three files in {@code checksums.sha256}) and renamed into place, so a
 * crash, a full disk or a write error at any point leaves every earlier checkpoint intact and
 * never leaves a damaged checkpoint under a checkpoint name.
 */
public final class Checkpoints {
    public static final String MODEL = "model.safetensors";
    public static final String OPTIMIZER = "optimizer.safetensors";
    public static final String STATE = "state.json";
    /** SHA-256 of the other three files in {@code sha256sum} format ({@code sha256sum -c checksums.sha256} checks them). */
    public static final String CHECKSUMS = "checksums.sha256";
    private static final Pattern NAME = Pattern.compile("checkpoint_epoch_(\\d+)(?:_step_(\\d+))?(_best)?");
    private static final Pattern SUM_LINE = Pattern.compile("([0-9a-f]{64}) [ *](\\S+)");
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create();

    private Checkpoints() {}

    /** A checkpoint found on disk. */
    public record Entry(Path dir, int epoch, long step, boolean best) {}

    /** What a checkpoint holds. */
    public record Loaded(Path dir, SafeTensors.Contents model, SafeTensors.Contents optimizer, JsonObject state) {
        /**
         * A number of the state file.
         *
         * @throws IllegalArgumentException naming the checkpoint and the field when it is missing or
         *     not a number (a checkpoint written by an older version)
         */
        public double number(String field) {
            com.google.gson.JsonElement e = state.get(field);
            if (e != null && e.isJsonPrimitive() && !e.getAsJsonPrimitive().isBoolean()) {
                try {
                    return e.getAsDouble(); // numbers, and Infinity/NaN, which JSON holds as text
                } catch (NumberFormatException notANumber) {
                    // reported below
                }
            }
            throw new IllegalArgumentException("checkpoint " + dir + ": state.json has no number '" + field + "' (got "
                    + e + "); it was written by another version of lmu-engine; start a new run or use a checkpoint of this version");
        }
    }

    /** Name for the end of epoch {@code epoch} (1-based), optionally the best so far. */
    public static String epochName(int epoch, boolean best) {
        return "checkpoint_epoch_" + epoch + (best ? "_best" : "");
    }

    /** Name for a save inside epoch {@code epoch} after global step {@code step} (pre-emption). */
    public static String stepName(int epoch, long step) {
        return "checkpoint_epoch_" + epoch + "_step_" + step;
    }

    /**
     * Fails early, before training, when checkpoints could not be written to {@code outDir}.
     */
    public static void ensureWritable(Path outDir) {
        ensureWritable(outDir, 0);
    }

    /**
     * Fails early, before training, when checkpoints could not be written to {@code outDir}: it
     * cannot be created, a probe file cannot be written and forced to disk, or the file system has
     * less free space than two checkpoints of {@code checkpointBytes} (the one being written and the
     * one it may replace).
     *
     * @param checkpointBytes expected size of one checkpoint (0 to skip the space check)
     * @throws IllegalArgumentException naming the directory, the cause and what to do
     */
    public static void ensureWritable(Path outDir, long checkpointBytes) {
        try {
            Files.createDirectories(outDir);
            Path probe = Files.createTempFile(outDir, ".write-probe", ".tmp");
            try (FileChannel ch = FileChannel.open(probe, StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap(new byte[] {'o', 'k'}));
                ch.force(true);
            } finally {
                Files.delete(probe);
            }
        } catch (IOException | SecurityException e) {
            throw new IllegalArgumentException("--output-dir " + outDir + " is not writable (" + describe(e)
                    + "): checkpoints could not be saved; choose another directory");
        }
        if (checkpointBytes > 0) {
            long free;
            try {
                free = Files.getFileStore(outDir).getUsableSpace();
            } catch (IOException e) {
                return; // some file systems do not report space; the save itself will say if it runs out
            }
            if (free < 2 * checkpointBytes) {
                throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
                        "--output-dir %s has %.1f MiB free, less than the %.1f MiB two checkpoints of this model need; "
                                + "free some space or choose another directory", outDir, free / 1048576.0, 2 * checkpointBytes / 1048576.0));
            }
        }
    }

    /** An I/O error in words: the exception's message, naming its type where the message alone is unclear. */
    private static String describe(Exception e) {
        String m = e.getMessage();
        String type = e.getClass().getSimpleName();
        if (m == null) return type;
        if (e instanceof java.nio.file.AccessDeniedException) return "permission denied: " + m;
        if (e instanceof java.nio.file.FileSystemException fse && fse.getReason() != null) return fse.getReason() + ": " + fse.getFile();
        return m;
    }

    /**
     * Writes a checkpoint atomically.
     *
     * @param state JSON-serialisable training state (epoch, step, RNG, scheduler, scaler, config…)
     * @return the final directory
     * @throws IOException with the previous checkpoints left intact
     */
    public static Path save(Path outDir, String name, Map<String, Tensor> weights, Map<String, float[]> optimizerState,
            Map<String, int[]> optimizerShapes, Map<String, Object> state, Map<String, String> modelMetadata) throws IOException {
        Path tmp;
        try {
            Files.createDirectories(outDir);
            tmp = Files.createTempDirectory(outDir, "." + name + ".tmp-");
        } catch (IOException e) {
            throw new IOException("checkpoint " + name + " could not be written to " + outDir + " (" + describe(e)
                    + "); earlier checkpoints are intact", e);
        }
        try {
            SafeTensors.write(tmp.resolve(MODEL), weights, modelMetadata);
            SafeTensors.writeArrays(tmp.resolve(OPTIMIZER), optimizerState, optimizerShapes, Map.of());
            JsonObject json = GSON.toJsonTree(state).getAsJsonObject();
            JsonObject sums = new JsonObject();
            sums.addProperty(MODEL, sha256(tmp.resolve(MODEL)));
            sums.addProperty(OPTIMIZER, sha256(tmp.resolve(OPTIMIZER)));
            json.add("sha256", sums);
            Path st = tmp.resolve(STATE);
            Files.writeString(st, GSON.toJson(json), StandardCharsets.UTF_8);
            force(st);
            Path sumFile = tmp.resolve(CHECKSUMS);
            Files.writeString(sumFile, sums.get(MODEL).getAsString() + "  " + MODEL + "\n" + sums.get(OPTIMIZER).getAsString() + "  "
                    + OPTIMIZER + "\n" + sha256(st) + "  " + STATE + "\n", StandardCharsets.US_ASCII);
            force(sumFile);
            force(tmp);
            Path target = outDir.resolve(name);
            Path old = null;
            if (Files.exists(target)) {
                old = outDir.resolve("." + name + ".old-" + System.nanoTime());
                move(target, old);
            }
            move(tmp, target);
            force(outDir);
            if (old != null) deleteTree(old);
            return target;
        } catch (IOException | RuntimeException e) {
            try {
                deleteTree(tmp);
            } catch (IOException ignored) {
                // the temporary directory is hidden and ignored by resume; nothing else to do
            }
            throw new IOException("checkpoint " + name + " could not be written to " + outDir + " (" + describe(e)
                    + "); earlier checkpoints are intact", e);
        }
    }

    /**
     * Loads and verifies a checkpoint directory: every file present, {@code checksums.sha256}
     * (where the checkpoint has one) and the SHA-256 sums in state.json match, the files parse.
     *
     * @throws CorruptFileException naming the file and the defect
     */
    public static Loaded load(Path dir) throws IOException {
        Path st = dir.resolve(STATE);
        if (!Files.isDirectory(dir)) throw new CorruptFileException(dir, "is not a checkpoint directory");
        if (!Files.isRegularFile(st)) throw new CorruptFileException(dir, "has no " + STATE + " (incomplete checkpoint)");
        Path sumFile = dir.resolve(CHECKSUMS);
        if (Files.isRegularFile(sumFile)) verifyChecksumFile(dir, sumFile);
        JsonObject state;
        try {
            JsonElement el = JsonParser.parseString(Files.readString(st, StandardCharsets.UTF_8));
            if (!el.isJsonObject()) throw new CorruptFileException(st, "is not a JSON object");
            state = el.getAsJsonObject();
        } catch (JsonParseException | java.nio.charset.CharacterCodingException e) {
            throw new CorruptFileException(st, "is not valid JSON (" + e.getMessage() + ")");
        }
        JsonElement sums = state.get("sha256");
        if (sums == null || !sums.isJsonObject()) throw new CorruptFileException(st, "has no sha256 checksums");
        for (String f : new String[] {MODEL, OPTIMIZER}) {
            Path p = dir.resolve(f);
            if (!Files.isRegularFile(p)) throw new CorruptFileException(dir, "is missing " + f);
            JsonElement e = sums.getAsJsonObject().get(f);
            String expected = e != null && e.isJsonPrimitive() ? e.getAsString() : "";
            String actual = sha256(p);
            if (!actual.equals(expected)) {
                throw new CorruptFileException(p, "checksum mismatch (expected " + expected + ", file has " + actual
                        + "): the file was modified or damaged");
            }
        }
        return new Loaded(dir, SafeTensors.read(dir.resolve(MODEL)), SafeTensors.read(dir.resolve(OPTIMIZER)), state);
    }

    /** Checks every file listed in {@code checksums.sha256}; the three checkpoint files must all be listed. */
    private static void verifyChecksumFile(Path dir, Path sumFile) throws IOException {
        if (Files.size(sumFile) > 4096) throw new CorruptFileException(sumFile, "is " + Files.size(sumFile) + " bytes, too large");
        Map<String, String> listed = new java.util.HashMap<>();
        for (String line : new String(Files.readAllBytes(sumFile), StandardCharsets.ISO_8859_1).split("\n")) {
            if (line.isBlank()) continue;
            Matcher m = SUM_LINE.matcher(line);
            if (!m.matches()) throw new CorruptFileException(sumFile, "has a malformed line: " + line.strip());
            listed.put(m.group(2), m.group(1));
        }
        for (String f : new String[] {STATE, MODEL, OPTIMIZER}) {
            String expected = listed.get(f);
            if (expected == null) throw new CorruptFileException(sumFile, "does not list " + f);
            Path p = dir.resolve(f);
            if (!Files.isRegularFile(p)) throw new CorruptFileException(dir, "is missing " + f);
            String actual = sha256(p);
            if (!actual.equals(expected)) {
                throw new CorruptFileException(p, "checksum mismatch (expected " + expected + ", file has " + actual
                        + "): the file was modified or damaged");
            }
        }
    }

    /** Checkpoints in {@code outDir}, newest (highest step, then epoch) first; temporary directories are ignored. */
    public static List<Entry> list(Path outDir) throws IOException {
        List<Entry> out = new ArrayList<>();
        if (!Files.isDirectory(outDir)) return out;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(outDir)) {
            for (Path p : ds) {
                Matcher m = NAME.matcher(p.getFileName().toString());
                if (!m.matches() || !Files.isDirectory(p)) continue;
                long step = stepOf(p);
                out.add(new Entry(p, Integer.parseInt(m.group(1)), step, m.group(3) != null));
            }
        }
        out.sort(Comparator.comparingLong(Entry::step).thenComparingInt(Entry::epoch).reversed());
        return out;
    }

    private static long stepOf(Path dir) {
        try {
            JsonObject s = JsonParser.parseString(Files.readString(dir.resolve(STATE))).getAsJsonObject();
            return s.has("step") ? s.get("step").getAsLong() : -1;
        } catch (IOException | RuntimeException e) {
            return -1; // unreadable: sorted last, and load() will say why
        }
    }

    /**
     * The newest checkpoint that loads and verifies; damaged ones are skipped and reported through
     * {@code skipped}. Returns null when there is none.
     */
    public static Loaded latestGood(Path outDir, List<String> skipped) throws IOException {
        for (Entry e : list(outDir)) {
            try {
                return load(e.dir());
            } catch (IOException ex) {
                skipped.add(e.dir().getFileName() + ": " + ex.getMessage());
            }
        }
        return null;
    }

    /** Deletes all but the newest {@code keepLast} regular checkpoints and all but the newest best one. */
    public static void prune(Path outDir, int keepLast) throws IOException {
        int regular = 0, best = 0;
        for (Entry e : list(outDir)) {
            boolean keep = e.best() ? best++ < 1 : regular++ < keepLast;
            if (!keep) deleteTree(e.dir());
        }
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
            byte[] buf = new byte[1 << 16];
            while (in.read(buf) >= 0) {
                // digest is updated by the stream
            }
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available in this JVM", e);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    /** fsync of a file or directory (directories: best effort, not every file system allows it). */
    private static void force(Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            if (!Files.isDirectory(p)) throw e;
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) Files.deleteIfExists(p);
        }
    }
}
