package lmu.speech.data;

import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * The built-in corpus: synthetic multi-voice English speech (espeak-ng and flite voices, 16 kHz
 * mono Ogg/Opus) shipped inside the jar under {@code corpus/builtin/}, with {@code train.jsonl}
 * and {@code test.jsonl} manifests that share no sentence. It is what {@code train} uses when no
 * data is given, so a fresh machine needs no download. Made by {@code
 * data/recipes/builtin_corpus.sh}; see {@code data/builtin/README.md}.
 *
 * <p>Audio read from the classpath is first copied once to a cache folder, {@code
 * <cache>/builtin-<hash of the manifests>} where {@code <cache>} is the system property {@code
 * lmu.cache.dir}, else {@code $XDG_CACHE_HOME/lmu-engine}, else {@code ~/.cache/lmu-engine};
 * concurrent processes are safe (each extracts to a private folder and renames it into place).
 * When the classpath holds the corpus as plain files (running from {@code target/classes}),
 * those are used directly.
 *
 * <pre>
 * jshell> BuiltinCorpus.train().utterances().size()
 * $1 ==> 4400
 * </pre>
 */
public final class BuiltinCorpus {
    /** Classpath folder of the corpus. */
    public static final String RESOURCE_DIR = "corpus/builtin/";
    /** The splits: {@code train} and {@code test}. */
    public static final List<String> SPLITS = List.of("train", "test");

    private static volatile Path cached;

    private BuiltinCorpus() {}

    /** The training split. */
    public static DatasetListing train() {
        return read("train");
    }

    /** The test split. */
    public static DatasetListing test() {
        return read("test");
    }

    /**
     * @param split {@code train} or {@code test}
     * @throws IllegalArgumentException for another split name
     * @throws IllegalStateException when the corpus is not on the classpath
     * @throws UncheckedIOException when it cannot be extracted
     */
    public static DatasetListing read(String split) {
        if (!SPLITS.contains(split)) {
            throw new IllegalArgumentException("BuiltinCorpus: split must be one of " + SPLITS + ", got '" + split + "'");
        }
        return JsonlManifest.read(directory().resolve(split + ".jsonl"));
    }

    /**
     * The folder holding {@code train.jsonl}, {@code test.jsonl} and {@code audio/}, extracting it
     * to the cache first when needed.
     *
     * @throws IllegalStateException when the corpus is not on the classpath
     * @throws UncheckedIOException when it cannot be extracted
     */
    public static Path directory() {
        Path d = cached;
        if (d == null) {
            synchronized (BuiltinCorpus.class) {
                if (cached == null) cached = locate(BuiltinCorpus.class.getClassLoader(), cacheRoot());
                d = cached;
            }
        }
        return d;
    }

    /** The cache root named in the class description. */
    public static Path cacheRoot() {
        String prop = System.getProperty("lmu.cache.dir");
        if (prop != null && !prop.isBlank()) return Path.of(prop);
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) return Path.of(xdg, "lmu-engine");
        return Path.of(System.getProperty("user.home"), ".cache", "lmu-engine");
    }

    /**
     * The corpus folder for resources seen through {@code loader}: in place when they are plain
     * files, else extracted under {@code cacheRoot}.
     */
    static Path locate(ClassLoader loader, Path cacheRoot) {
        URL train = loader.getResource(RESOURCE_DIR + "train.jsonl");
        if (train == null) {
            throw new IllegalStateException("BuiltinCorpus: " + RESOURCE_DIR + "train.jsonl is not on the classpath;"
                    + " build the jar with src/main/resources or run data/recipes/builtin_corpus.sh");
        }
        if ("file".equals(train.getProtocol())) {
            try {
                return Path.of(train.toURI()).getParent();
            } catch (URISyntaxException e) {
                throw new IllegalStateException("BuiltinCorpus: bad resource URL " + train, e);
            }
        }
        return extract(loader, cacheRoot);
    }

    /**
     * Copies the corpus from the classpath to {@code cacheRoot/builtin-<hash>} unless a complete
     * copy is already there.
     *
     * @return the folder holding the manifests
     * @throws UncheckedIOException when a resource is missing or a file cannot be written
     */
    static Path extract(ClassLoader loader, Path cacheRoot) {
        try {
            byte[][] manifests = new byte[SPLITS.size()][];
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (int i = 0; i < SPLITS.size(); i++) {
                manifests[i] = resource(loader, SPLITS.get(i) + ".jsonl");
                sha.update(manifests[i]);
            }
            String hash = HexFormat.of().formatHex(sha.digest(), 0, 8);
            Path target = cacheRoot.resolve("builtin-" + hash);
            if (Files.isRegularFile(target.resolve(".complete"))) return target;

            Files.createDirectories(cacheRoot);
            Path tmp = Files.createTempDirectory(cacheRoot, "builtin-" + hash + ".tmp-");
            try {
                for (int i = 0; i < SPLITS.size(); i++) {
                    try (BufferedReader r = new BufferedReader(new InputStreamReader(
                            new java.io.ByteArrayInputStream(manifests[i]), StandardCharsets.UTF_8))) {
                        String line;
                        while ((line = r.readLine()) != null) {
                            if (line.isBlank()) continue;
                            String rel = JsonParser.parseString(line).getAsJsonObject().get("audio_filepath").getAsString();
                            Path dest = tmp.resolve(rel).normalize();
                            if (!dest.startsWith(tmp)) {
                                throw new IOException("audio path leaves the corpus folder: " + rel);
                            }
                            Files.createDirectories(dest.getParent());
                            try (InputStream in = loader.getResourceAsStream(RESOURCE_DIR + rel)) {
                                if (in == null) throw new IOException("missing resource " + RESOURCE_DIR + rel);
                                Files.copy(in, dest, StandardCopyOption.REPLACE_EXISTING);
                            }
                        }
                    }
                    Files.write(tmp.resolve(SPLITS.get(i) + ".jsonl"), manifests[i]);
                }
                Files.createFile(tmp.resolve(".complete"));
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException e) {
                    // another process renamed its complete copy into place first: use that one
                    if (!Files.isRegularFile(target.resolve(".complete"))) throw e;
                }
            } finally {
                if (Files.exists(tmp)) deleteTree(tmp);
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("BuiltinCorpus: cannot extract to " + cacheRoot + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] resource(ClassLoader loader, String name) throws IOException {
        try (InputStream in = loader.getResourceAsStream(RESOURCE_DIR + name)) {
            if (in == null) throw new IOException("missing resource " + RESOURCE_DIR + name);
            return in.readAllBytes();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
