package lmu.reliability;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import lmu.nn.ModelConfig;
import lmu.speech.audio.AudioFormatException;
import lmu.speech.audio.AudioReader;
import lmu.speech.data.GigaSpeech;
import lmu.speech.data.JsonlManifest;
import lmu.tensor.Tensor;
import lmu.train.Checkpoints;
import lmu.train.CorruptFileException;
import lmu.train.Models;
import lmu.train.SafeTensors;
import lmu.train.TrainConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every parser of outside input gets thousands of seeded mutations and truncations of valid files
 * (see {@link Mutator}), within a time budget per parser ({@link Fuzzer}). Each input must parse
 * or fail with the parser's own exception whose message names the file — never hang, allocate
 * far beyond the file's size (a forged length field), or escape with an internal error such as
 * NullPointerException, ArrayIndexOutOfBoundsException, NumberFormatException, ClassCastException,
 * StackOverflowError or OutOfMemoryError. The number of inputs each parser got is printed.
 */
class ParserFuzzTest {
    @TempDir static Path dir;
    private static Fuzzer fuzzer;

    @BeforeAll
    static void start() {
        fuzzer = new Fuzzer();
    }

    @AfterAll
    static void stop() {
        fuzzer.close();
    }

    // ------------------------------------------------------------------ seeds

    /** A RIFF/WAVE file: PCM (8, 16, 24, 32 bit) or IEEE float (32, 64 bit), optionally extensible, with an extra chunk before 'data'. */
    static byte[] wav(int format, int bits, int channels, int frames, boolean extensible, boolean listChunk) {
        int bytes = bits / 8, dataLen = frames * channels * bytes;
        int fmtLen = extensible ? 40 : 16;
        int listLen = listChunk ? 8 + 12 : 0;
        ByteBuffer b = ByteBuffer.allocate(12 + 8 + fmtLen + listLen + 8 + dataLen).order(ByteOrder.LITTLE_ENDIAN);
        b.put(ascii("RIFF")).putInt(b.capacity() - 8).put(ascii("WAVE")).put(ascii("fmt ")).putInt(fmtLen);
        b.putShort((short) (extensible ? 0xFFFE : format)).putShort((short) channels).putInt(16000)
                .putInt(16000 * channels * bytes).putShort((short) (channels * bytes)).putShort((short) bits);
        if (extensible) {
            b.putShort((short) 22).putShort((short) bits).putInt(channels == 1 ? 4 : 3).putShort((short) format);
            b.put(new byte[] {0, 0, 0, 0, 0x10, 0, (byte) 0x80, 0, 0, (byte) 0xAA, 0, 0x38, (byte) 0x9B, 0x71});
        }
        if (listChunk) b.put(ascii("LIST")).putInt(12).put(ascii("INFOISFT")).putInt(0);
        b.put(ascii("data")).putInt(dataLen);
        for (int i = 0; i < frames * channels; i++) {
            double v = 0.5 * Math.sin(i * 0.05);
            if (format == 3) {
                if (bits == 32) b.putFloat((float) v);
                else b.putDouble(v);
            } else {
                switch (bits) {
                    case 8 -> b.put((byte) (128 + 127 * v));
                    case 16 -> b.putShort((short) (32767 * v));
                    case 24 -> {
                        int s = (int) (8388607 * v);
                        b.put((byte) s).put((byte) (s >> 8)).put((byte) (s >> 16));
                    }
                    default -> b.putInt((int) (2147483647 * v));
                }
            }
        }
        return b.array();
    }

    static byte[] wav16(int frames) {
        return wav(1, 16, 1, frames, false, false);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] resource(String path) throws IOException {
        try (var in = ParserFuzzTest.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) throw new IOException("missing test resource " + path);
            return in.readAllBytes();
        }
    }

    // ------------------------------------------------------------------ audio

    private static void fuzzAudio(String name, double weight, List<byte[]> seeds, String suffix) throws Exception {
        Path f = dir.resolve(name.replaceAll("\\W", "") + suffix);
        fuzzer.run(name, weight, seeds, false, f, p -> {
            AudioReader.read(p);
            AudioReader.durationSeconds(p);
            AudioReader.read(p, 0.01, 0.02);
        }, Fuzzer.ofType(AudioFormatException.class, f.toString()));
    }

    @Test
    void wavFiles() throws Exception {
        fuzzAudio("WAV", 0.8, List.of(wav16(400), wav(1, 8, 1, 200, false, true), wav(1, 24, 2, 200, true, false),
                wav(1, 32, 1, 200, false, false), wav(3, 32, 2, 200, false, true), wav(3, 64, 1, 100, true, false)), ".wav");
    }

    @Test
    void flac() throws Exception {
        fuzzAudio("FLAC", 1.2, List.of(resource("golden/audio/sine440_16k_stereo.flac"), resource("golden/audio/sine1k_44k_24bit.flac")), ".flac");
    }

    @Test
    void oggOpus() throws Exception {
        // short seeds (0.2-0.25 s, made by bench/reference/make_fuzz_seeds.sh) so that each input decodes quickly
        fuzzAudio("Ogg/Opus", 1.6, List.of(resource("fuzz/sine440_250ms_mono.opus"), resource("fuzz/sine300_200ms_stereo.opus")), ".opus");
    }

    // ------------------------------------------------------------------ datasets

    @Test
    void jsonLinesManifest() throws Exception {
        Files.write(dir.resolve("a.wav"), wav16(800));
        String manifest = "{\"audio_filepath\": \"a.wav\", \"duration\": 0.05, \"text\": \"hello world\"}\n"
                + "{\"audio_filepath\": \"a.wav\", \"duration\": 0.05, \"offset\": 0.01, \"text\": \"it's me\", \"id\": \"x1\"}\n"
                + "\n{\"audio_filepath\": \"missing.wav\", \"duration\": 1e-3, \"text\": \"Ünïcode — text\"}\n";
        Path f = dir.resolve("manifest.jsonl");
        fuzzer.run("JSON-lines manifest", 0.8, List.of(manifest.getBytes(StandardCharsets.UTF_8)), true, f, JsonlManifest::read,
                Fuzzer.ofType(IllegalArgumentException.class, f.toString()));
    }

    @Test
    void gigaSpeechJson() throws Exception {
        Path release = dir.resolve("release");
        Path audio = release.resolve("audio/podcast/P0000/POD0000000001.opus");
        Files.createDirectories(audio.getParent());
        Files.write(audio, resource("fixtures/gigaspeech/audio/podcast/P0000/POD0000000001.opus"));
        Path f = release.resolve("GigaSpeech.json");
        fuzzer.run("GigaSpeech.json", 1.0, List.of(resource("fixtures/gigaspeech/GigaSpeech.json")), true, f,
                p -> GigaSpeech.readSplits(release, List.of("xs", "m", "dev", "test"), true),
                Fuzzer.ofType(IllegalArgumentException.class, f.toString()));
    }

    // ------------------------------------------------------------------ configs and checkpoints

    @Test
    void yamlConfig() throws Exception {
        Path f = dir.resolve("config.yaml");
        fuzzer.run("YAML config", 1.6, List.of(Files.readAllBytes(Path.of("configs/small.yaml")), Files.readAllBytes(Path.of("configs/seed.yaml"))),
                true, f, p -> {
                    TrainConfig cfg = TrainConfig.resolve(TrainConfig.loadYaml(p));
                    ModelConfig.parse(cfg.model());
                }, t -> t instanceof IllegalArgumentException && t.getMessage() != null
                        && (t.getMessage().contains(f.toString()) || t.getMessage().startsWith("config")));
    }

    @Test
    void safetensors() throws Exception {
        Path seed = dir.resolve("seed.safetensors");
        Map<String, Tensor> w = new LinkedHashMap<>();
        w.put("w", Tensor.ones(3, 4));
        w.put("b", Tensor.zeros(4));
        w.put("scalar", Tensor.ones(1));
        SafeTensors.write(seed, w, Map.of("vocabulary", "ab", "format", "lmu-engine/1"));
        Path f = dir.resolve("input.safetensors");
        fuzzer.run("safetensors", 0.8, List.of(Files.readAllBytes(seed)), true, f, SafeTensors::read,
                Fuzzer.ofType(CorruptFileException.class, f.toString()));
    }

    /**
     * A checkpoint's state.json, as resume reads it: load (structure and checksums), then the
     * training config stored in it. The separate checksum of state.json is removed so that the
     * mutations reach the parser instead of stopping at the checksum (its own test is
     * {@code CheckpointSafetyIT.everyFileOfACheckpointIsChecksummedStateIncluded}).
     */
    @Test
    void checkpointStateFile() throws Exception {
        Path out = dir.resolve("ckpt");
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("format", 1);
        state.put("epoch", 2);
        state.put("batch_in_epoch", 0);
        state.put("step", 7L);
        state.put("best_wer", 0.5);
        state.put("config", TrainConfig.resolve(TrainConfig.loadYaml(Path.of("configs/small.yaml"))).toYaml());
        Path ck = Checkpoints.save(out, Checkpoints.epochName(1, false), Map.of("w", Tensor.ones(2, 2)), Map.of("m", new float[4]),
                Map.of("m", new int[] {4}), state, Map.of());
        Files.deleteIfExists(ck.resolve(Checkpoints.CHECKSUMS));
        Path f = ck.resolve(Checkpoints.STATE);
        fuzzer.run("checkpoint state.json", 1.2, List.of(Files.readAllBytes(f)), true, f, p -> {
            Checkpoints.list(out);
            Checkpoints.Loaded loaded = Checkpoints.load(ck);
            Models.config(loaded);
        }, t -> (t instanceof CorruptFileException || t instanceof IllegalArgumentException) && t.getMessage() != null
                && t.getMessage().contains(ck.toString()));
    }
}
