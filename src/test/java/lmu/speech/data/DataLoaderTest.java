package lmu.speech.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import lmu.speech.audio.WavWriter;
import lmu.speech.features.FeatureConfig;
import lmu.speech.features.LogMel;
import lmu.speech.features.SpecAugment;
import lmu.speech.features.SpeedPerturbation;
import lmu.speech.text.Vocabulary;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataLoaderTest {
    static final Vocabulary VOCAB = Vocabulary.english();
    @TempDir static Path dir;
    static List<Utterance> good = new ArrayList<>();
    static Map<String, Integer> samples = new HashMap<>();

    @BeforeAll
    static void makeCorpus() throws IOException {
        Random r = new Random(5);
        String[] words = {"the", "cat", "sat", "on", "a", "mat", "it's", "fine"};
        for (int i = 0; i < 40; i++) {
            int rate = i % 4 == 0 ? 8000 : 16000;
            int n = rate * (5 + r.nextInt(40)) / 100; // 0.05 .. 0.44 s
            float[] x = new float[n];
            for (int k = 0; k < n; k++) x[k] = (float) (0.3 * Math.sin(0.05 * k * (1 + i % 7)) + 0.01 * r.nextGaussian());
            Path f = dir.resolve("u" + i + ".wav");
            WavWriter.writeMono16(f, x, rate);
            StringBuilder text = new StringBuilder();
            for (int w = 0; w <= i % 5; w++) text.append(w > 0 ? " " : "").append(words[r.nextInt(words.length)]);
            String id = String.format("u%02d", i);
            good.add(new Utterance(id, f, 0, i % 3 == 0 ? -1 : n / (double) rate, text.toString()));
            samples.put(id, n * 16000 / rate);
        }
    }

    static DataLoader.Builder builder(List<Utterance> utts) {
        return DataLoader.builder(utts, VOCAB).maxFramesPerBatch(200).maxBatchSize(6).buckets(4).seed(9);
    }

    @Test
    void everyUtteranceExactlyOncePerEpochWithinTheFrameBudget() {
        try (DataLoader dl = builder(good).build()) {
            for (int epoch = 0; epoch < 3; epoch++) {
                List<List<String>> plan = dl.plan(epoch);
                List<String> all = new ArrayList<>();
                plan.forEach(all::addAll);
                assertEquals(40, all.size());
                assertEquals(40, new HashSet<>(all).size());
                for (List<String> b : plan) assertTrue(b.size() <= 6);
            }
            assertEquals(dl.plan(1), dl.plan(1)); // deterministic
            assertNotEquals(dl.plan(0), dl.plan(1)); // reshuffled per epoch
            // the padded size of every real batch respects the budget (estimates are exact here)
            try (DataLoader.Epoch it = dl.iterator(0)) {
                int n = 0;
                while (it.hasNext()) {
                    Batch b = it.next();
                    assertTrue(b.size() == 1 || b.size() * b.frames() <= 200, "B*T = " + b.size() * b.frames());
                    n += b.size();
                }
                assertEquals(40, n);
            }
        }
    }

    @Test
    void trainShardsAreDisjointAndEqualEvalShardsAreComplete() {
        int w = 3;
        Set<String> seen = new HashSet<>();
        int batches = -1, total = 0;
        for (int r = 0; r < w; r++) {
            try (DataLoader dl = builder(good).rank(r).worldSize(w).build()) {
                List<List<String>> plan = dl.plan(2);
                if (batches < 0) batches = plan.size();
                assertEquals(batches, plan.size(), "equal step counts on every rank");
                for (List<String> b : plan) for (String id : b) assertTrue(seen.add(id), "duplicate " + id);
            }
        }
        try (DataLoader one = builder(good).build()) {
            assertEquals(one.plan(2).size(), batches, "every rank takes a slice of every global batch");
        }
        seen.clear();
        for (int r = 0; r < w; r++) {
            try (DataLoader dl = builder(good).mode(DataLoader.Mode.EVAL).rank(r).worldSize(w).build()) {
                for (List<String> b : dl.plan(0)) for (String id : b) assertTrue(seen.add(id), "duplicate " + id);
                total += dl.plan(0).stream().mapToInt(List::size).sum();
            }
        }
        assertEquals(40, total);
        assertEquals(40, seen.size());
    }

    @Test
    void batchesHoldPaddedFeaturesAndLabels() {
        try (DataLoader dl = builder(good).mode(DataLoader.Mode.EVAL).noCmvn().build(); DataLoader.Epoch it = dl.iterator(0)) {
            FeatureConfig cfg = FeatureConfig.defaults();
            Map<String, Utterance> byId = new HashMap<>();
            good.forEach(u -> byId.put(u.id(), u));
            Batch b = it.next();
            assertEquals(0, b.index());
            for (int k = 0; k < b.size(); k++) {
                Utterance u = byId.get(b.ids().get(k));
                assertEquals(cfg.numFrames(samples.get(u.id())), b.frameLengths()[k]);
                int[] expect = VOCAB.encode(u.text());
                assertEquals(expect.length, b.labelLengths()[k]);
                assertArrayEquals(expect, Arrays.copyOfRange(b.labels(), k * b.maxLabelLength(), k * b.maxLabelLength() + expect.length));
                for (int l = expect.length; l < b.maxLabelLength(); l++) assertEquals(0, b.labels()[k * b.maxLabelLength() + l]);
                // features equal LogMel of the decoded (resampled) audio; zero past the length
                float[] audio = new FeatureExtractor(cfg, FeatureExtractor.CmvnMode.NONE, null, null, null, 0).extract(u, 0, false).values();
                float[] row = Arrays.copyOfRange(b.features(), k * b.frames() * 80, k * b.frames() * 80 + audio.length);
                assertArrayEquals(audio, row);
                for (int i = audio.length; i < b.frames() * 80; i++) assertEquals(0f, b.features()[k * b.frames() * 80 + i]);
            }
            assertTrue(new LogMel(cfg).config().nMels() == b.bins());
        }
    }

    @Test
    void resumeMidEpochGivesTheSameBatchesWithAugmentation() {
        DataLoader.Builder bld = builder(good).specAugment(SpecAugment.defaults()).speedPerturbation(SpeedPerturbation.defaults());
        List<Batch> full = new ArrayList<>();
        try (DataLoader dl = bld.build(); DataLoader.Epoch it = dl.iterator(3)) {
            it.forEachRemaining(full::add);
        }
        try (DataLoader dl = bld.build(); DataLoader.Epoch it = dl.iterator(3, 4)) {
            for (int i = 4; i < full.size(); i++) {
                Batch a = full.get(i), b = it.next();
                assertEquals(a.index(), b.index());
                assertEquals(a.ids(), b.ids());
                assertArrayEquals(a.features(), b.features());
                assertArrayEquals(a.labels(), b.labels());
            }
            assertTrue(!it.hasNext());
        }
    }

    @Test
    void badInputIsSkippedCountedAndReported() throws IOException {
        List<Utterance> utts = new ArrayList<>(good.subList(0, 10));
        utts.add(new Utterance("missing", dir.resolve("nope.wav"), 0, 1, "hello"));
        Path trunc = dir.resolve("trunc.wav");
        byte[] wav = Files.readAllBytes(good.get(1).audio());
        Files.write(trunc, Arrays.copyOf(wav, wav.length - 200));
        utts.add(new Utterance("truncated", trunc, 0, 0.1, "hello"));
        Path junk = dir.resolve("junk.flac");
        Files.writeString(junk, "not audio at all");
        utts.add(new Utterance("junk", junk, 0, 0.1, "hello"));
        utts.add(new Utterance("junk-unknown-length", junk, 0, -1, "hello"));
        utts.add(new Utterance("empty-text", good.get(2).audio(), 0, -1, "  "));
        utts.add(new Utterance("no-letters", good.get(2).audio(), 0, -1, "123 !"));
        utts.add(new Utterance("some-letters", good.get(3).audio(), 0, -1, "ok 42"));
        try (DataLoader dl = builder(utts).build()) {
            int delivered = 0;
            try (DataLoader.Epoch it = dl.iterator(0)) {
                while (it.hasNext()) delivered += it.next().size();
            }
            assertEquals(11, delivered); // 10 good + "some-letters"
            SkipReport r = dl.report();
            assertEquals(6, r.skipped());
            assertEquals(Map.of("missing file", 1, "unreadable audio", 3, "empty transcript", 1, "no encodable character in transcript", 1),
                    r.countsByReason());
            String truncReason = r.entries().stream().filter(e -> e.id().equals("truncated")).findFirst().orElseThrow().detail();
            assertTrue(truncReason.contains("trunc.wav") && truncReason.contains("truncated"), truncReason);
            assertEquals(2L, r.droppedCharacters().get('2')); // from "123 !" and "ok 42"
            assertEquals(1L, r.droppedCharacters().get('!'));
            assertTrue(r.summary(10).contains("junk.flac"), r.summary(10));
            // a second epoch does not count the same failures twice
            try (DataLoader.Epoch it = dl.iterator(1)) {
                it.forEachRemaining(b -> { });
            }
            assertEquals(6, dl.report().skipped());
        }
    }

    @Test
    void nothingUsableFailsClearly() throws IOException {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> builder(List.of(new Utterance("a", dir.resolve("gone.wav"), 0, 1, "hi"), new Utterance("b", good.get(0).audio(), 0, 1, ""))).build());
        assertTrue(e.getMessage().contains("none of the 2") && e.getMessage().contains("missing file") && e.getMessage().contains("empty transcript"),
                e.getMessage());
        // training on more ranks than utterances in a batch: a rank whose slice is empty still delivers
        // the (empty) batch, so that every rank takes the same steps
        try (DataLoader dl = builder(good.subList(0, 2)).maxBatchSize(8).worldSize(4).rank(0).build(); DataLoader.Epoch it = dl.iterator(0)) {
            int n = 0;
            while (it.hasNext()) {
                assertEquals(0, it.next().size(), "rank 0 of 4 gets no utterance of a batch of 1 or 2");
                n++;
            }
            assertEquals(dl.batchesPerEpoch(0), n);
            assertTrue(n > 0);
        }
        // evaluation on more ranks than utterances is fine: the extra ranks just have no batches
        try (DataLoader dl = builder(good.subList(0, 2)).mode(DataLoader.Mode.EVAL).worldSize(4).rank(3).build()) {
            assertEquals(0, dl.batchesPerEpoch(0));
            assertTrue(!dl.iterator(0).hasNext());
        }
        Path junk = dir.resolve("junk2.wav");
        Files.writeString(junk, "RIFF....WAVEjunk");
        try (DataLoader dl = builder(List.of(new Utterance("j", junk, 0, 1, "hi"))).build(); DataLoader.Epoch it = dl.iterator(0)) {
            IllegalStateException s = assertThrows(IllegalStateException.class, it::hasNext);
            assertTrue(s.getMessage().contains("no utterance of epoch 0") && s.getMessage().contains("junk2.wav"), s.getMessage());
        }
    }

    @Test
    void globalCmvnStatsEqualDirectAccumulation() {
        FeatureConfig cfg = FeatureConfig.defaults();
        List<Utterance> some = good.subList(0, 6);
        lmu.speech.features.Cmvn.Accumulator acc = new lmu.speech.features.Cmvn.Accumulator(80);
        FeatureExtractor fx = new FeatureExtractor(cfg, FeatureExtractor.CmvnMode.NONE, null, null, null, 0);
        for (Utterance u : some) acc.add(fx.extract(u, 0, false));
        lmu.speech.features.Cmvn expect = acc.toCmvn();
        lmu.speech.features.Cmvn got = FeatureExtractor.globalStats(some, cfg, 2, new SkipReport());
        assertEquals(expect.frames(), got.frames());
        assertArrayEquals(expect.mean(), got.mean(), 1e-9);
        assertArrayEquals(expect.std(), got.std(), 1e-9);
        // and the loader applies them: features of a batch have roughly zero mean per bin overall
        try (DataLoader dl = builder(some).mode(DataLoader.Mode.EVAL).globalCmvn(got).build(); DataLoader.Epoch it = dl.iterator(0)) {
            double sum = 0;
            long n = 0;
            while (it.hasNext()) {
                Batch b = it.next();
                for (int k = 0; k < b.size(); k++) {
                    for (int t = 0; t < b.frameLengths()[k]; t++) { sum += b.features()[(k * b.frames() + t) * 80 + 10]; n++; }
                }
            }
            assertEquals(0, sum / n, 1e-4);
        }
    }
}
