package lmu.reliability;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import lmu.speech.audio.AudioReader;
import lmu.speech.data.GigaSpeech;
import lmu.speech.data.JsonlManifest;
import lmu.tensor.Tensor;
import lmu.train.SafeTensors;
import lmu.train.TrainConfig;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every parser of outside input gets seeded mutations and truncations of a valid file. Each input
 * must parse or fail with a clear project exception (IllegalArgumentException and its subclasses,
 * IOException, UncheckedIOException) — never hang, run out of memory on a forged length, or die with
 * an internal error such as NullPointerException or ArrayIndexOutOfBoundsException.
 */
class ParserFuzzTest {
    private static final int CASES = 300;
    @TempDir Path dir;

    @FunctionalInterface
    interface Parser {
        void parse(Path file) throws Exception;
    }

    /** A mutated copy of {@code seed}: truncation, bit flips, random overwrites or a forged 32-bit field. */
    static byte[] mutate(byte[] seed, Rng rng) {
        byte[] b;
        switch (rng.nextInt(4)) {
            case 0 -> b = java.util.Arrays.copyOf(seed, rng.nextInt(Math.max(1, seed.length)));
            case 1 -> {
                b = seed.clone();
                for (int i = 0, n = 1 + rng.nextInt(8); i < n && b.length > 0; i++) b[rng.nextInt(b.length)] ^= (byte) (1 << rng.nextInt(8));
            }
            case 2 -> {
                b = seed.clone();
                for (int i = 0, n = 1 + rng.nextInt(4); i < n && b.length > 0; i++) b[rng.nextInt(b.length)] = (byte) rng.nextInt(256);
            }
            default -> {
                b = seed.clone();
                if (b.length >= 4) { // a length field forged to something huge
                    int at = rng.nextInt(Math.min(b.length - 3, 64));
                    b[at] = (byte) 0xFF;
                    b[at + 1] = (byte) 0xFF;
                    b[at + 2] = (byte) 0xFF;
                    b[at + 3] = (byte) 0x7F;
                }
            }
        }
        return b;
    }

    private void fuzz(String what, byte[] seed, String suffix, Parser parser) throws IOException {
        Rng rng = new Rng(what.hashCode());
        Path f = dir.resolve("input" + suffix);
        for (int c = 0; c < CASES; c++) {
            byte[] input = mutate(seed, rng);
            Files.write(f, input);
            int caseNo = c;
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                try {
                    parser.parse(f);
                } catch (IllegalArgumentException | IOException | UncheckedIOException | IllegalStateException expected) {
                    // the project's own, clear failure
                } catch (Throwable t) {
                    fail(what + " case " + caseNo + " (" + input.length + " bytes): " + t, t);
                }
            }, what + " case " + caseNo + " did not finish in 10 s");
        }
    }

    private static byte[] resource(String path) throws IOException {
        try (var in = ParserFuzzTest.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) throw new IOException("missing test resource " + path);
            return in.readAllBytes();
        }
    }

    private static byte[] wavBytes() {
        int n = 800;
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(44 + 2 * n).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(36 + 2 * n).put("WAVEfmt ".getBytes(StandardCharsets.US_ASCII));
        b.putInt(16).putShort((short) 1).putShort((short) 1).putInt(16000).putInt(32000).putShort((short) 2).putShort((short) 16);
        b.put("data".getBytes(StandardCharsets.US_ASCII)).putInt(2 * n);
        for (int i = 0; i < n; i++) b.putShort((short) (8000 * Math.sin(i * 0.1)));
        return b.array();
    }

    @Test
    void wavFiles() throws IOException {
        fuzz("WAV", wavBytes(), ".wav", f -> AudioReader.read(f));
    }

    @Test
    void flac() throws IOException {
        fuzz("FLAC", resource("golden/audio/sine440_16k_stereo.flac"), ".flac", f -> AudioReader.read(f));
    }

    @Test
    void oggOpus() throws IOException {
        fuzz("Ogg/Opus", resource("golden/audio/sine300_16k_stereo.opus"), ".opus", f -> AudioReader.read(f));
    }

    @Test
    void jsonLinesManifest() throws IOException {
        Path audio = dir.resolve("a.wav");
        Files.write(audio, wavBytes());
        String manifest = "{\"audio_filepath\": \"a.wav\", \"duration\": 0.05, \"text\": \"hello world\"}\n"
                + "{\"audio_filepath\": \"a.wav\", \"duration\": 0.05, \"offset\": 0.01, \"text\": \"it's me\"}\n";
        fuzz("JSON-lines manifest", manifest.getBytes(StandardCharsets.UTF_8), ".jsonl", JsonlManifest::read);
    }

    @Test
    void gigaSpeechJson() throws IOException {
        byte[] seed = resource("fixtures/gigaspeech/GigaSpeech.json");
        fuzz("GigaSpeech.json", seed, ".json", f -> {
            Path release = dir.resolve("release");
            Files.createDirectories(release);
            Files.copy(f, release.resolve("GigaSpeech.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            GigaSpeech.read(release, "xs");
        });
    }

    @Test
    void yamlConfig() throws IOException {
        byte[] seed = resource("configs/small.yaml");
        fuzz("YAML config", seed, ".yaml", f -> TrainConfig.resolve(TrainConfig.parseYaml(
                new StringReader(Files.readString(f, StandardCharsets.ISO_8859_1)), f.toString())));
    }

    @Test
    void safetensors() throws IOException {
        Path f = dir.resolve("seed.safetensors");
        SafeTensors.write(f, Map.of("w", Tensor.ones(3, 4), "b", Tensor.zeros(4)), Map.of("vocabulary", "ab"));
        fuzz("safetensors", Files.readAllBytes(f), ".safetensors", SafeTensors::read);
    }
}
