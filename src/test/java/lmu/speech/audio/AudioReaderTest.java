package lmu.speech.audio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class AudioReaderTest {
    @TempDir Path dir;

    static Path fixture(String name) {
        try {
            return Path.of(AudioReaderTest.class.getResource("/golden/audio/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @ParameterizedTest
    @EnumSource(WavWriter.Encoding.class)
    void wavAllFormatsStereoToMono(WavWriter.Encoding enc) throws IOException {
        int rate = 22050, n = 2205;
        float[] left = WavWriter.sine(441, 0.6, rate, n);
        float[] right = WavWriter.sine(441, 0.2, rate, n);
        Path f = dir.resolve("x_" + enc + ".wav");
        WavWriter.write(f, new float[][] {left, right}, rate, enc);
        Audio a = AudioReader.read(f);
        assertEquals(rate, a.sampleRate());
        assertEquals(n, a.samples().length);
        double tol = enc.bits == 8 ? 1.0 / 100 : enc.bits == 16 ? 1e-4 : 1e-6;
        for (int i = 0; i < n; i++) {
            assertEquals((left[i] + right[i]) / 2, a.samples()[i], tol, "sample " + i);
        }
        // RMS of 0.4 sin over whole periods is 0.4 / sqrt 2
        assertEquals(0.4 / Math.sqrt(2), a.rms(), 1e-2 + tol);
    }

    @Test
    void wavSegmentAndMultichannel() throws IOException {
        int rate = 8000, n = 8000;
        float[][] ch = new float[6][];
        for (int c = 0; c < 6; c++) {
            ch[c] = new float[n];
            for (int i = 0; i < n; i++) ch[c][i] = (float) ((c + 1) * 0.01 + i * 1e-5);
        }
        Path f = dir.resolve("six.wav");
        WavWriter.write(f, ch, rate, WavWriter.Encoding.FLOAT32);
        Audio a = AudioReader.read(f, 0.25, 0.5);
        assertEquals(4000, a.samples().length);
        for (int i = 0; i < 4000; i++) {
            assertEquals(0.035 + (2000 + i) * 1e-5, a.samples()[i], 1e-6);
        }
        // running past the end is cut at the end; negative duration = to the end
        assertEquals(2000, AudioReader.read(f, 0.75, 10).samples().length);
        assertEquals(2000, AudioReader.read(f, 0.75, -1).samples().length);
        assertEquals(1.0, AudioReader.durationSeconds(f), 1e-12);
        AudioFormatException e = assertThrows(AudioFormatException.class, () -> AudioReader.read(f, 2.0, 1));
        assertTrue(e.getMessage().contains("six.wav") && e.getMessage().contains("past the end"), e.getMessage());
    }

    @Test
    void truncatedAndForgedWavsFailWithClearMessages() throws IOException {
        byte[] good = WavWriter.bytes(new float[][] {WavWriter.sine(100, 0.5, 8000, 800)}, 8000, WavWriter.Encoding.PCM16);
        Path cut = dir.resolve("cut.wav");
        Files.write(cut, Arrays.copyOf(good, good.length - 100));
        assertMessage(cut, "truncated WAV");

        Path hdr = dir.resolve("hdr.wav");
        Files.write(hdr, Arrays.copyOf(good, 30));
        assertMessage(hdr, "truncated");

        // a data chunk claiming 4 GB must be refused from the file size, not allocated
        byte[] forged = good.clone();
        int dataAt = indexOf(forged, "data");
        ByteBuffer.wrap(forged).order(ByteOrder.LITTLE_ENDIAN).putInt(dataAt + 4, 0x7FFFFFF0);
        Path big = dir.resolve("forged.wav");
        Files.write(big, forged);
        assertMessage(big, "declares 2147483632 bytes");

        byte[] junk = good.clone();
        ByteBuffer.wrap(junk).order(ByteOrder.LITTLE_ENDIAN).putInt(indexOf(junk, "junk") + 4, 0x7FFFFFF0);
        Path bj = dir.resolve("badchunk.wav");
        Files.write(bj, junk);
        assertMessage(bj, "bad WAV chunk size");

        byte[] alaw = good.clone();
        ByteBuffer.wrap(alaw).order(ByteOrder.LITTLE_ENDIAN).putShort(20, (short) 6);
        Path al = dir.resolve("alaw.wav");
        Files.write(al, alaw);
        assertMessage(al, "unsupported WAV codec, format tag 0x6");

        Path text = dir.resolve("text.wav"); // the extension does not decide the format
        Files.writeString(text, "hello, I am not audio");
        assertMessage(text, "unknown audio format");

        UncheckedIOException missing = assertThrows(UncheckedIOException.class, () -> AudioReader.read(dir.resolve("none.wav")));
        assertTrue(missing.getMessage().contains("none.wav"), missing.getMessage());
    }

    @Test
    void flacFixtures() {
        Audio a = AudioReader.read(fixture("sine440_16k_stereo.flac"));
        assertEquals(16000, a.sampleRate());
        assertEquals(4800, a.samples().length);
        assertEquals(0.5 / Math.sqrt(2), a.rms(), 2e-3);
        // sox starts its sine at a small phase offset: fit amplitude and phase, then check the residual
        assertSineFit(a.samples(), 440.0 / 16000, 0.5, 1e-3);

        Audio b = AudioReader.read(fixture("sine1k_44k_24bit.flac"));
        assertEquals(44100, b.sampleRate());
        assertEquals(11025, b.samples().length);
        assertEquals(0.25 / Math.sqrt(2), b.rms(), 1e-3);
        // a segment equals the same slice of the whole
        Audio seg = AudioReader.read(fixture("sine1k_44k_24bit.flac"), 0.1, 0.05);
        assertArrayEquals(Arrays.copyOfRange(b.samples(), 4410, 4410 + 2205), seg.samples());
    }

    @Test
    void opusExactLengthAndContent() {
        Path f = fixture("sine440_48k_mono.opus");
        assertEquals(AudioReader.Format.OGG, AudioReader.detect(f));
        Audio a = AudioReader.read(f);
        assertEquals(48000, a.sampleRate());
        assertEquals(36960, a.samples().length); // 0.77 s: pre-skip removed, end trimmed by the granule
        assertEquals(0.77, AudioReader.durationSeconds(f), 1e-12);
        assertEquals(0.5 / Math.sqrt(2), a.rms(), 0.02);
        // lossy codec: the waveform tracks the sine after the first few ms
        float[] expect = WavWriter.sine(440, 0.5, 48000, 36960);
        double err = 0;
        for (int i = 4800; i < 36000; i++) err += Math.pow(expect[i] - a.samples()[i], 2);
        assertTrue(Math.sqrt(err / 31200) < 0.05, "RMS error vs the sine " + Math.sqrt(err / 31200));

        Audio b = AudioReader.read(fixture("sine300_16k_stereo.opus"));
        assertEquals(24000, b.samples().length);
        assertEquals(0.4 / Math.sqrt(2), b.rms(), 0.02);
    }

    @Test
    void opusSegmentFromMidFileMatchesFullDecode() {
        Path f = fixture("sine440_48k_mono.opus");
        float[] full = AudioReader.read(f).samples();
        float[] seg = AudioReader.read(f, 0.5, 0.2).samples(); // starts on a later page (100 ms pages)
        assertEquals(9600, seg.length);
        double err = 0;
        for (int i = 0; i < seg.length; i++) err = Math.max(err, Math.abs(seg[i] - full[24000 + i]));
        assertTrue(err < 2e-3, "max difference to the full decode " + err);
    }

    @Test
    void opusResampledTo16k() {
        Audio a = AudioReader.read(fixture("sine440_48k_mono.opus"));
        float[] y = Resampler.of(a.sampleRate(), 16000).process(a.samples());
        assertEquals(12320, y.length);
        double r = 0;
        for (int i = 1000; i < 11000; i++) r += y[i] * y[i];
        assertEquals(0.5 / Math.sqrt(2), Math.sqrt(r / 10000), 0.02);
    }

    @Test
    void corruptOpusPageIsReported() throws IOException {
        byte[] b = Files.readAllBytes(fixture("sine440_48k_mono.opus"));
        b[b.length / 2] ^= 0x55;
        Path f = dir.resolve("corrupt.opus");
        Files.write(f, b);
        assertMessage(f, "Ogg");
        Path cut = dir.resolve("cut.opus");
        Files.write(cut, Arrays.copyOf(Files.readAllBytes(fixture("sine440_48k_mono.opus")), 2000));
        assertMessage(cut, "truncated Ogg page");
    }

    /** Least-squares fit of a sin + b cos at the known frequency; checks amplitude and residual. */
    static void assertSineFit(float[] x, double cyclesPerSample, double amp, double tol) {
        double ss = 0, sc = 0, cc = 0, xs = 0, xc = 0;
        for (int i = 0; i < x.length; i++) {
            double s = Math.sin(2 * Math.PI * cyclesPerSample * i), c = Math.cos(2 * Math.PI * cyclesPerSample * i);
            ss += s * s; sc += s * c; cc += c * c; xs += x[i] * s; xc += x[i] * c;
        }
        double det = ss * cc - sc * sc;
        double a = (xs * cc - xc * sc) / det, b = (xc * ss - xs * sc) / det;
        assertEquals(amp, Math.hypot(a, b), tol, "fitted amplitude");
        double res = 0;
        for (int i = 0; i < x.length; i++) {
            double s = Math.sin(2 * Math.PI * cyclesPerSample * i), c = Math.cos(2 * Math.PI * cyclesPerSample * i);
            res = Math.max(res, Math.abs(x[i] - a * s - b * c));
        }
        assertTrue(res < tol, "largest residual after the sine fit " + res);
    }

    private static void assertMessage(Path f, String part) {
        AudioFormatException e = assertThrows(AudioFormatException.class, () -> AudioReader.read(f));
        assertTrue(e.getMessage().contains(f.getFileName().toString()) && e.getMessage().contains(part), e.getMessage());
    }

    private static int indexOf(byte[] b, String s) {
        outer:
        for (int i = 0; i + 4 <= b.length; i++) {
            for (int k = 0; k < 4; k++) if (b[i + k] != s.charAt(k)) continue outer;
            return i;
        }
        throw new IllegalStateException(s);
    }
}
