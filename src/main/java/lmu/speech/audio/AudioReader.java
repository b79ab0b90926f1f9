package lmu.speech.audio;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads a segment of an audio file as mono float samples at the file's own rate. The format is
 * detected from the first bytes of the file, never from its name: {@code RIFF....WAVE} (WAV),
 * {@code fLaC} (FLAC) and {@code OggS} (Ogg, Opus codec only).
 *
 * <pre>
 * jshell> Audio a = AudioReader.read(Path.of("x.opus"), 1.5, 2.0)   // 2 s from 1.5 s
 * jshell> float[] s16k = Resampler.of(a.sampleRate(), 16000).process(a.samples())
 * </pre>
 *
 * <p>Multi-channel audio is averaged to mono. Opus is decoded at 48 kHz. Thread-safe: every call
 * opens its own channel.
 */
public final class AudioReader {
    /** Container formats recognised by their magic bytes. */
    public enum Format { WAV, FLAC, OGG }

    private AudioReader() {}

    /**
     * Decodes {@code [offsetSec, offsetSec + durationSec)} of {@code file}; a segment running past
     * the end of the file is cut at the end.
     *
     * @param file WAV, FLAC or Ogg/Opus file
     * @param offsetSec start in seconds, >= 0
     * @param durationSec length in seconds; negative for "to the end of the file"
     * @return mono samples, shape (N,), and the file's sample rate
     * @throws AudioFormatException (an IllegalArgumentException) naming the file when it is
     *     truncated, corrupt, in an unsupported codec, or the offset lies past its end
     * @throws UncheckedIOException naming the file when it is missing or unreadable
     */
    public static Audio read(Path file, double offsetSec, double durationSec) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return switch (detect(ch, file)) {
                case WAV -> WavDecoder.read(ch, file, offsetSec, durationSec);
                case FLAC -> FlacDecoder.read(ch, file, offsetSec, durationSec);
                case OGG -> OggOpusDecoder.read(ch, file, offsetSec, durationSec, OggOpusDecoder.RATE);
            };
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException(file + ": no such audio file", e);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read audio: " + e.getMessage(), e);
        }
    }

    /** Decodes the whole file. */
    public static Audio read(Path file) {
        return read(file, 0, -1);
    }

    /**
     * Length of the audio in seconds, from headers only where the format allows (WAV, Opus, FLAC
     * with a sample count in STREAMINFO); otherwise by decoding.
     *
     * @throws AudioFormatException naming the file when it cannot be parsed
     * @throws UncheckedIOException naming the file when it is missing or unreadable
     */
    public static double durationSeconds(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            switch (detect(ch, file)) {
                case WAV -> {
                    WavDecoder.Header h = WavDecoder.header(ch, file);
                    return h.frames() / (double) h.rate();
                }
                case OGG -> {
                    return OggOpusDecoder.info(ch, file).totalSamples() / (double) OggOpusDecoder.RATE;
                }
                default -> {
                    return FlacDecoder.read(ch, file, 0, -1).durationSeconds();
                }
            }
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException(file + ": no such audio file", e);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read audio: " + e.getMessage(), e);
        }
    }

    /** The container format of {@code file}, from its first bytes. */
    public static Format detect(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return detect(ch, file);
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException(file + ": no such audio file", e);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read audio: " + e.getMessage(), e);
        }
    }

    private static Format detect(FileChannel ch, Path file) throws IOException {
        long size = ch.size();
        if (size < 4) {
            throw new AudioFormatException(file, "file too short to be audio (" + size + " bytes)");
        }
        ByteBuffer b = WavDecoder.read(ch, file, 0, (int) Math.min(12, size), "file header");
        String magic = WavDecoder.fourcc(b, 0);
        if (magic.equals("RIFF")) {
            if (size < 12 || !WavDecoder.fourcc(b, 8).equals("WAVE")) {
                throw new AudioFormatException(file, "RIFF file that is not WAVE");
            }
            return Format.WAV;
        }
        if (magic.equals("fLaC")) return Format.FLAC;
        if (magic.equals("OggS")) return Format.OGG;
        if (magic.equals("RF64")) {
            throw new AudioFormatException(file, "unsupported format RF64 (64-bit WAV)");
        }
        StringBuilder hex = new StringBuilder();
        for (int i = 0; i < 4; i++) hex.append(String.format("%02x ", b.get(i) & 0xFF));
        throw new AudioFormatException(file, "unknown audio format (first bytes " + hex.toString().trim()
                + "; supported: WAV, FLAC, Ogg/Opus)");
    }
}
