package lmu.speech.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import lmu.speech.features.SpecAugment;
import org.junit.jupiter.api.Test;

class LoaderBenchmarkTest {
    private static LoaderBenchmark.Options options(LoaderBenchmark.Source source) {
        return new LoaderBenchmark.Options(source, null, 4, 16000, 1, 0, 1, 100_000, 2, SpecAugment.defaults(), FeatureStore.Dtype.FLOAT32);
    }

    @Test
    void aConsumerGetsEveryBatchAsAudioAndItsFramesCount() {
        List<Batch> seen = new ArrayList<>();
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        LoaderBenchmark.Result r = LoaderBenchmark.run(options(LoaderBenchmark.Source.WAV), new PrintStream(text), dl -> {
            assertTrue(dl.deliversSignals());
            return seen::add;
        });
        assertEquals(4, seen.stream().mapToInt(Batch::size).sum(), text.toString()); // every utterance once
        long frames = 0;
        for (Batch b : seen) {
            assertNotNull(b.signals());
            assertEquals(0, b.features().length);
            for (int k = 0; k < b.size(); k++) {
                assertEquals(b.frameLengths()[k], 1 + b.signals().lengths()[k] / 160, "frames of a centred 10 ms hop");
            }
            frames += b.validFrames();
        }
        assertEquals(frames * 0.01, r.audioSeconds(), 1e-9);
    }

    @Test
    void aConsumerNeedsTheAudioSource() {
        String m = assertThrows(IllegalArgumentException.class,
                () -> LoaderBenchmark.run(options(LoaderBenchmark.Source.STORE), new PrintStream(new ByteArrayOutputStream()), dl -> b -> { }))
                .getMessage();
        assertTrue(m.contains("source wav") && m.contains("store"), m);
    }
}
