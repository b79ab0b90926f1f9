package lmu.speech.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import lmu.speech.text.Vocabulary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BuiltinCorpusTest {
    /** What data/recipes/builtin_corpus.sh makes with its default arguments. */
    static final int TRAIN = 4400;
    static final int TEST = 160;

    @Test
    void splitsHaveTheRecipeCountsAndShareNoSentence() {
        DatasetListing train = BuiltinCorpus.train();
        DatasetListing test = BuiltinCorpus.test();
        assertEquals(TRAIN, train.utterances().size());
        assertEquals(TEST, test.utterances().size());
        assertEquals(List.of(), train.skipped());
        assertEquals(List.of(), test.skipped());
        Set<String> trainTexts = new HashSet<>();
        for (Utterance u : train.utterances()) trainTexts.add(u.text());
        assertEquals(TRAIN, trainTexts.size(), "train sentences are unique");
        for (Utterance u : test.utterances()) {
            assertTrue(!trainTexts.contains(u.text()), "test sentence also in train: " + u.text());
        }
        Vocabulary v = Vocabulary.english();
        int[] letters = new int[26];
        for (DatasetListing l : List.of(train, test)) {
            for (Utterance u : l.utterances()) {
                v.encode(u.text()); // every character is in the vocabulary
                assertTrue(u.duration() > 0.5 && u.duration() < 8, u.id() + " lasts " + u.duration() + " s");
                assertTrue(Files.isRegularFile(u.audio()), u.audio().toString());
                for (char c : u.text().toCharArray()) if (c >= 'a' && c <= 'z') letters[c - 'a']++;
            }
        }
        for (int i = 0; i < 26; i++) assertTrue(letters[i] >= 50, "letter " + (char) ('a' + i) + " occurs " + letters[i] + " times");
        double hours = train.totalSeconds() / 3600;
        assertTrue(hours > 2.0 && hours < 3.0, "train hours " + hours);
    }

    @Test
    void audioDecodesToTheListedDurations() {
        List<Utterance> all = new java.util.ArrayList<>(BuiltinCorpus.train().utterances());
        all.addAll(BuiltinCorpus.test().utterances());
        for (int i = 0; i < all.size(); i += 97) { // a spread of voices and lengths
            Utterance u = all.get(i);
            lmu.speech.audio.Audio a = lmu.speech.audio.AudioReader.read(u.audio());
            assertEquals(u.duration(), a.durationSeconds(), 0.01, u.id());
            assertTrue(a.rms() > 0.01, u.id() + " rms " + a.rms());
        }
    }

    @Test
    void extractsFromAJarOnceAndReusesTheCopy(@TempDir Path dir) throws Exception {
        Path jar = dir.resolve("corpus.jar");
        String train = "{\"audio_filepath\": \"audio/a.opus\", \"duration\": 1.5, \"text\": \"one\"}\n"
                + "{\"audio_filepath\": \"audio/sub/b.opus\", \"duration\": 2.0, \"text\": \"two\"}\n";
        String test = "{\"audio_filepath\": \"audio/c.opus\", \"duration\": 1.0, \"text\": \"three\"}\n";
        try (JarOutputStream j = new JarOutputStream(Files.newOutputStream(jar))) {
            put(j, "corpus/builtin/train.jsonl", train);
            put(j, "corpus/builtin/test.jsonl", test);
            put(j, "corpus/builtin/audio/a.opus", "A");
            put(j, "corpus/builtin/audio/sub/b.opus", "BB");
            put(j, "corpus/builtin/audio/c.opus", "CCC");
        }
        Path cache = dir.resolve("cache");
        try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null)) {
            ExecutorService pool = Executors.newFixedThreadPool(3);
            List<Future<Path>> runs = new java.util.ArrayList<>();
            for (int i = 0; i < 3; i++) runs.add(pool.submit(() -> BuiltinCorpus.locate(loader, cache)));
            Path first = runs.get(0).get();
            for (Future<Path> f : runs) assertEquals(first, f.get());
            pool.shutdown();
            assertTrue(first.getFileName().toString().startsWith("builtin-"), first.toString());
            assertEquals("BB", Files.readString(first.resolve("audio/sub/b.opus")));
            assertEquals(train, Files.readString(first.resolve("train.jsonl")));
            DatasetListing l = JsonlManifest.read(first.resolve("train.jsonl"));
            assertEquals(2, l.utterances().size());
            assertEquals(first.resolve("audio/a.opus"), l.utterances().get(0).audio());
            try (Stream<Path> s = Files.list(cache)) {
                assertEquals(1, s.count(), "no temporary folders are left behind");
            }

            FileTime stamp = FileTime.fromMillis(0);
            Files.setLastModifiedTime(first.resolve("audio/a.opus"), stamp);
            assertEquals(first, BuiltinCorpus.locate(loader, cache));
            assertEquals(stamp, Files.getLastModifiedTime(first.resolve("audio/a.opus")), "second call does not copy again");
        }
    }

    @Test
    void missingCorpusIsAClearError(@TempDir Path dir) throws Exception {
        try (URLClassLoader empty = new URLClassLoader(new URL[0], null)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> BuiltinCorpus.locate(empty, dir));
            assertTrue(e.getMessage().contains("not on the classpath"), e.getMessage());
        }
    }

    private static void put(JarOutputStream j, String name, String content) throws Exception {
        j.putNextEntry(new JarEntry(name));
        OutputStream o = j;
        o.write(content.getBytes(StandardCharsets.UTF_8));
        j.closeEntry();
    }
}
