package lmu.speech.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import lmu.speech.audio.WavWriter;
import lmu.speech.features.FeatureConfig;
import lmu.speech.features.FeatureMatrix;
import lmu.speech.features.SpeedPerturbation;
import lmu.speech.text.Vocabulary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FeatureStoreTest {
    @TempDir Path dir;
    final FeatureConfig cfg = FeatureConfig.defaults();
    final FeatureExtractor raw = new FeatureExtractor(cfg, FeatureExtractor.CmvnMode.NONE, null, null, SpeedPerturbation.defaults(), 0);

    /** Utterances of noise-plus-tone WAV files of different lengths (some two segments of one file). */
    List<Utterance> utterances(int n) throws IOException {
        Random r = new Random(7);
        List<Utterance> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int len = 1600 + r.nextInt(8000);
            float[] x = WavWriter.sine(200 + 50 * i, 0.3, 16000, len);
            for (int k = 0; k < len; k++) x[k] += (float) (0.01 * r.nextGaussian());
            Path f = dir.resolve("a" + i + ".wav");
            WavWriter.writeMono16(f, x, 16000);
            out.add(i % 3 == 2 ? new Utterance("u" + i, f, 0.02, 0.05, "hello") : new Utterance("u" + i, f, 0, -1, "hello"));
        }
        return out;
    }

    @Test
    void float32RoundTripIsExactAcrossShards() throws IOException {
        List<Utterance> utts = utterances(7);
        List<Utterance> listed = new ArrayList<>(utts);
        listed.add(utts.get(1)); // listed twice (e.g. in two manifests): stored once
        FeatureStore.Summary s = FeatureStore.build(dir.resolve("fs"), listed, cfg, FeatureStore.Dtype.FLOAT32, null, 2, new SkipReport(), 40_000);
        assertEquals(7, s.entries());
        assertTrue(s.shards() > 1, "small shards force several: " + s);
        FeatureStore st = FeatureStore.open(dir.resolve("fs"), cfg);
        assertEquals(7, st.size());
        long frames = 0;
        for (Utterance u : utts) {
            FeatureMatrix want = raw.rawFeatures(u, 1.0);
            FeatureMatrix got = st.read(u, 1.0);
            assertNotNull(got, u.id());
            assertEquals(want.frames(), got.frames());
            assertEquals(want.frames(), st.frames(u, 1.0));
            assertArrayEquals(want.values(), got.values(), 0f, u.id());
            frames += want.frames();
        }
        assertEquals(frames, st.totalFrames());
        assertEquals(frames, s.frames());
        // not stored: another id, another segment under a stored id, another speed factor
        Utterance u0 = utts.get(0);
        assertNull(st.read(new Utterance("other", u0.audio(), 0, -1, "x"), 1.0));
        assertNull(st.read(new Utterance(u0.id(), u0.audio(), 0.01, -1, "x"), 1.0));
        assertNull(st.read(u0, 1.1));
        assertFalse(st.contains(u0, 0.9));
        // the folder may move: entries are keyed by file name, offset and duration
        Utterance moved = new Utterance(u0.id(), dir.resolve("elsewhere").resolve(u0.audio().getFileName()), 0, -1, "x");
        assertArrayEquals(st.read(u0, 1.0).values(), st.read(moved, 1.0).values(), 0f);
    }

    @Test
    void float16KeepsAboutThreeDigitsAndSpeedFactorsAreStored() throws IOException {
        List<Utterance> utts = utterances(3);
        FeatureStore.build(dir.resolve("h"), utts, cfg, FeatureStore.Dtype.FLOAT16, new SpeedPerturbation(16000, 0.9, 1.0), 1, new SkipReport());
        FeatureStore st = FeatureStore.open(dir.resolve("h"), cfg);
        assertEquals(FeatureStore.Dtype.FLOAT16, st.dtype());
        assertEquals(6, st.size());
        for (Utterance u : utts) {
            for (double f : new double[] {0.9, 1.0}) {
                float[] want = raw.rawFeatures(u, f).values(), got = st.read(u, f).values();
                assertEquals(want.length, got.length);
                for (int i = 0; i < want.length; i++) {
                    // half precision: 11 significant bits, rounded to nearest
                    assertEquals(want[i], got[i], Math.abs(want[i]) * 0x1p-11 + 1e-7, u.id() + " at " + f + ", value " + i);
                }
            }
        }
        // about half the bytes of float32
        FeatureStore.Summary s32 = FeatureStore.build(dir.resolve("f"), utts, cfg, FeatureStore.Dtype.FLOAT32, null, 1, new SkipReport());
        FeatureStore.Summary s16 = FeatureStore.build(dir.resolve("g"), utts, cfg, FeatureStore.Dtype.FLOAT16, null, 1, new SkipReport());
        assertEquals(s32.frames() * 80 * 2, s32.bytes() - s16.bytes());
    }

    @Test
    void otherFeatureSettingsAreRefusedByName() throws IOException {
        FeatureStore.build(dir.resolve("fs"), utterances(2), cfg, FeatureStore.Dtype.FLOAT32, null, 1, new SkipReport());
        FeatureConfig other = new FeatureConfig(16000, 512, 400, 160, 80, 0, 8000, 1e-6, true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FeatureStore.open(dir.resolve("fs"), other));
        assertTrue(e.getMessage().contains(dir.resolve("fs").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("[" + cfg.identity() + "]"), e.getMessage());
        assertTrue(e.getMessage().contains("[" + other.identity() + "]"), e.getMessage());
        assertTrue(e.getMessage().contains("n_fft=400") && e.getMessage().contains("n_fft=512"), e.getMessage());
        // an extractor refuses a store opened for another configuration
        FeatureStore st = FeatureStore.open(dir.resolve("fs"), cfg);
        assertThrows(IllegalArgumentException.class,
                () -> new FeatureExtractor(other, FeatureExtractor.CmvnMode.NONE, null, null, null, 0, null, st));
    }

    @Test
    void truncatedShardOrIndexIsAClearErrorNamingTheFile() throws IOException {
        FeatureStore.build(dir.resolve("fs"), utterances(3), cfg, FeatureStore.Dtype.FLOAT32, null, 1, new SkipReport());
        Path shard = dir.resolve("fs").resolve("data-00000.lmfd");
        long size = Files.size(shard);
        try (RandomAccessFile f = new RandomAccessFile(shard.toFile(), "rw")) {
            f.setLength(size - 100);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FeatureStore.open(dir.resolve("fs"), cfg));
        assertTrue(e.getMessage().contains(shard.toString()) && e.getMessage().contains("truncated")
                && e.getMessage().contains("expected " + size + " bytes, found " + (size - 100)), e.getMessage());

        FeatureStore.build(dir.resolve("fs"), utterances(3), cfg, FeatureStore.Dtype.FLOAT32, null, 1, new SkipReport());
        Path index = dir.resolve("fs").resolve(FeatureStore.INDEX_FILE);
        byte[] b = Files.readAllBytes(index);
        Files.write(index, java.util.Arrays.copyOf(b, b.length - 9));
        e = assertThrows(IllegalArgumentException.class, () -> FeatureStore.open(dir.resolve("fs"), cfg));
        assertTrue(e.getMessage().contains(index.toString()) && e.getMessage().contains("damaged"), e.getMessage());

        Files.delete(index);
        e = assertThrows(IllegalArgumentException.class, () -> FeatureStore.open(dir.resolve("fs"), cfg));
        assertTrue(e.getMessage().contains(index.toString()) && e.getMessage().contains("not found"), e.getMessage());
        assertFalse(FeatureStore.exists(dir.resolve("fs")));
    }

    @Test
    void damagedEntryFailsItsChecksumAndTheExtractorDecodesInstead() throws IOException {
        List<Utterance> utts = utterances(2);
        FeatureStore.build(dir.resolve("fs"), utts, cfg, FeatureStore.Dtype.FLOAT32, null, 1, new SkipReport());
        Path shard = dir.resolve("fs").resolve("data-00000.lmfd");
        try (RandomAccessFile f = new RandomAccessFile(shard.toFile(), "rw")) {
            f.seek(16 + 4 * 5); // inside the first entry (u0)
            int v = f.read();
            f.seek(16 + 4 * 5);
            f.write(v ^ 0x10);
        }
        FeatureStore st = FeatureStore.open(dir.resolve("fs"), cfg);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> st.read(utts.get(0), 1.0));
        assertTrue(e.getMessage().contains(shard.toString()) && e.getMessage().contains("u0"), e.getMessage());
        assertNotNull(st.read(utts.get(1), 1.0)); // the other entry is intact
        FeatureExtractor fx = new FeatureExtractor(cfg, FeatureExtractor.CmvnMode.NONE, null, null, null, 0, null, st);
        assertArrayEquals(raw.rawFeatures(utts.get(0), 1.0).values(), fx.extract(utts.get(0), 0, false).values(), 0f);
        // a loader over the damaged store delivers what a loader without a store delivers
        List<float[]> with = new ArrayList<>(), without = new ArrayList<>();
        for (FeatureStore store : new FeatureStore[] {st, null}) {
            try (DataLoader dl = DataLoader.builder(utts, Vocabulary.english()).mode(DataLoader.Mode.EVAL).maxBatchSize(2)
                    .featureStore(store).build(); DataLoader.Epoch it = dl.iterator(0)) {
                it.forEachRemaining(b -> (store == null ? without : with).add(b.features()));
            }
        }
        assertEquals(without.size(), with.size());
        for (int i = 0; i < with.size(); i++) assertArrayEquals(without.get(i), with.get(i), 0f);
    }

    @Test
    void loaderReadsTheStoreAndNeedsNoAudioForStoredUtterances() throws IOException {
        List<Utterance> utts = utterances(6);
        List<List<float[]>> runs = new ArrayList<>();
        FeatureStore.build(dir.resolve("fs"), utts, cfg, FeatureStore.Dtype.FLOAT32, null, 2, new SkipReport());
        FeatureStore st = FeatureStore.open(dir.resolve("fs"), cfg);
        for (FeatureStore store : new FeatureStore[] {null, st}) {
            List<float[]> out = new ArrayList<>();
            try (DataLoader dl = DataLoader.builder(utts, Vocabulary.english()).maxBatchSize(2).seed(3)
                    .specAugment(lmu.speech.features.SpecAugment.defaults()).featureStore(store).build();
                 DataLoader.Epoch it = dl.iterator(1)) {
                it.forEachRemaining(b -> out.add(b.features()));
            }
            runs.add(out);
        }
        assertEquals(runs.get(0).size(), runs.get(1).size());
        for (int i = 0; i < runs.get(0).size(); i++) assertArrayEquals(runs.get(0).get(i), runs.get(1).get(i), 0f);
        // with the audio gone, stored utterances still load; the unstored one is reported missing
        for (Utterance u : utts) Files.deleteIfExists(u.audio());
        List<Utterance> plus = new ArrayList<>(utts);
        plus.add(new Utterance("gone", dir.resolve("gone.wav"), 0, 1, "hello"));
        try (DataLoader dl = DataLoader.builder(plus, Vocabulary.english()).mode(DataLoader.Mode.EVAL).maxBatchSize(4).featureStore(st).build();
             DataLoader.Epoch it = dl.iterator(0)) {
            int n = 0;
            while (it.hasNext()) n += it.next().size();
            assertEquals(6, n);
            assertEquals(1, dl.report().skipped());
        }
    }
}
