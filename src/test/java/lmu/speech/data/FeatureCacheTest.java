package lmu.speech.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import lmu.speech.audio.WavWriter;
import lmu.speech.features.FeatureConfig;
import lmu.speech.features.FeatureMatrix;
import lmu.speech.text.Vocabulary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FeatureCacheTest {
    @TempDir Path dir;

    Utterance utt(String id, double offset) throws IOException {
        Path f = dir.resolve(id + ".wav");
        if (!Files.exists(f)) WavWriter.writeMono16(f, WavWriter.sine(300, 0.3, 16000, 8000), 16000);
        return new Utterance(id, f, offset, 0.25, "hi");
    }

    @Test
    void roundTripAndKeys() throws IOException {
        FeatureConfig cfg = FeatureConfig.defaults();
        FeatureCache c = new FeatureCache(dir.resolve("cache"), cfg);
        Utterance u = utt("a", 0);
        assertNull(c.get(u, 1.0));
        FeatureMatrix m = new FeatureMatrix(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        c.put(u, 1.0, m);
        assertArrayEquals(m.values(), c.get(u, 1.0).values());
        assertEquals(2, c.get(u, 1.0).frames());
        assertNull(c.get(u, 1.1)); // another speed factor
        assertNull(c.get(utt("a", 0.1), 1.0)); // another segment of the same file
        FeatureCache other = new FeatureCache(dir.resolve("cache"), new FeatureConfig(16000, 512, 400, 160, 80, 0, 8000, 1e-6, true));
        assertNull(other.get(u, 1.0)); // another configuration
        // a damaged file is a miss
        Files.write(c.file(u, 1.0), new byte[] {1, 2, 3});
        assertNull(c.get(u, 1.0));
    }

    @Test
    void loaderReadsWhatItCached() throws IOException {
        List<Utterance> utts = new ArrayList<>();
        for (int i = 0; i < 6; i++) utts.add(utt("u" + i, 0.05 * i));
        Path cache = dir.resolve("fc");
        List<float[]> first = new ArrayList<>(), second = new ArrayList<>();
        for (List<float[]> out : List.of(first, second)) {
            try (DataLoader dl = DataLoader.builder(utts, Vocabulary.english()).mode(DataLoader.Mode.EVAL).maxBatchSize(2)
                    .featureCache(cache).build(); DataLoader.Epoch it = dl.iterator(0)) {
                it.forEachRemaining(b -> out.add(b.features()));
            }
        }
        assertEquals(first.size(), second.size());
        for (int i = 0; i < first.size(); i++) assertArrayEquals(first.get(i), second.get(i));
        try (Stream<Path> s = Files.walk(cache)) {
            assertEquals(6, s.filter(p -> p.toString().endsWith(".lmf")).count());
        }
        // what is in the cache is what the extractor returns
        FeatureCache c = new FeatureCache(cache, FeatureConfig.defaults());
        FeatureExtractor fx = new FeatureExtractor(FeatureConfig.defaults(), FeatureExtractor.CmvnMode.NONE, null, null, null, 0, c);
        FeatureMatrix real = fx.extract(utts.get(0), 0, false);
        float[] fake = real.values().clone();
        fake[0] += 1;
        c.put(utts.get(0), 1.0, new FeatureMatrix(fake, real.frames(), real.bins()));
        assertNotEquals(real.values()[0], fx.extract(utts.get(0), 0, false).values()[0]);
        assertEquals(fake[0], fx.extract(utts.get(0), 0, false).values()[0]);
    }
}
