package lmu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import lmu.speech.audio.WavWriter;
import lmu.speech.data.DataLoader;
import lmu.speech.data.FeatureStore;
import lmu.speech.data.JsonlManifest;
import lmu.speech.data.Utterance;
import lmu.speech.features.FeatureConfig;
import lmu.speech.text.Vocabulary;
import lmu.train.DataPipeline;
import lmu.train.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrepareCommandTest {
    @TempDir Path dir;

    private List<Utterance> manifest(Path file, int n) throws IOException {
        List<Utterance> utts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Path wav = dir.resolve("w" + i + ".wav");
            WavWriter.writeMono16(wav, WavWriter.sine(300 + 40 * i, 0.3, 16000, 4000 + 800 * i), 16000);
            utts.add(new Utterance("s" + i, wav, 0, (4000 + 800 * i) / 16000.0, "hello world"));
        }
        JsonlManifest.write(file, utts);
        return utts;
    }

    private static TrainConfig config(String train, String features) {
        return TrainConfig.resolve(TrainConfig.parseYaml(new StringReader(
                "data:\n  train: " + train + "\n  valid: ''\n  feature_cache: none\n  features: " + features + "\n"), "test"));
    }

    @Test
    void featuresFlagBuildsAStoreThatTrainingFindsNextToTheManifest() throws IOException {
        List<Utterance> utts = manifest(dir.resolve("in.jsonl"), 5);
        Path out = dir.resolve("prep");
        int rc = Main.run(new String[] {"prepare", "--format", "manifest", "--input", dir.resolve("in.jsonl").toString(), "--output",
            out.toString(), "--features", "--features-dtype", "float16"}, new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
        assertEquals(0, rc);
        FeatureStore st = FeatureStore.open(out.resolve("features"), FeatureConfig.defaults());
        assertEquals(5, st.size());
        assertEquals(FeatureStore.Dtype.FLOAT16, st.dtype());
        for (Utterance u : utts) assertEquals(FeatureConfig.defaults().numFrames((int) Math.round(u.duration() * 16000)), st.frames(u, 1.0));

        // data.features auto: the store next to the manifest; the audio is no longer needed
        for (Utterance u : utts) Files.delete(u.audio());
        String train = out.resolve("train.jsonl").toString();
        try (DataLoader dl = DataPipeline.trainLoader(config(train, "auto"), utts, Vocabulary.english(), 0, 1, 2)) {
            assertEquals(5, dl.utterances().size());
            int n = 0;
            try (DataLoader.Epoch it = dl.iterator(1)) {
                while (it.hasNext()) n += it.next().size();
            }
            assertEquals(5, n);
            assertEquals(0, dl.report().skipped());
        }
        // none: the audio is needed again, and it is gone
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DataPipeline.trainLoader(config(train, "none"), utts, Vocabulary.english(), 0, 1, 2));
        assertTrue(e.getMessage().contains("missing file"), e.getMessage());
        // an explicit directory without a store is an error naming it
        Path nowhere = dir.resolve("nowhere");
        e = assertThrows(IllegalArgumentException.class,
                () -> DataPipeline.trainLoader(config(train, nowhere.toString()), utts, Vocabulary.english(), 0, 1, 2));
        assertTrue(e.getMessage().contains(nowhere.resolve(FeatureStore.INDEX_FILE).toString()), e.getMessage());
    }
}
