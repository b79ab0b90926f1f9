package lmu.speech.audio;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * RIFF/WAVE decoder: PCM 8 (unsigned), 16, 24 and 32 bit, IEEE float 32 and 64 bit, also inside
 * WAVE_FORMAT_EXTENSIBLE; any rate and channel count (channels are averaged to mono). Only the
 * requested segment is read from disk.
 */
final class WavDecoder {
    private static final int FORMAT_PCM = 1;
    private static final int FORMAT_FLOAT = 3;
    private static final int FORMAT_EXTENSIBLE = 0xFFFE;

    private WavDecoder() {}

    /** Parsed header: where the samples are and how they are stored. */
    record Header(int format, int channels, int rate, int bits, long dataStart, long frames) {
        int bytesPerFrame() {
            return channels * (bits / 8);
        }
    }

    static Header header(FileChannel ch, Path file) throws IOException {
        long size = ch.size();
        ByteBuffer b = read(ch, file, 0, 12, "RIFF header");
        String riff = fourcc(b, 0);
        if (!riff.equals("RIFF") || !fourcc(b, 8).equals("WAVE")) {
            throw new AudioFormatException(file, "not a RIFF/WAVE file (starts with '" + riff + "')");
        }
        long pos = 12;
        int format = -1, channels = 0, rate = 0, bits = 0;
        while (true) {
            if (pos + 8 > size) {
                throw new AudioFormatException(file, format < 0 ? "truncated WAV: no 'fmt ' chunk before the end of the file"
                        : "truncated WAV: no 'data' chunk before the end of the file");
            }
            ByteBuffer c = read(ch, file, pos, 8, "chunk header");
            String id = fourcc(c, 0);
            long len = Integer.toUnsignedLong(c.getInt(4));
            long body = pos + 8;
            if (id.equals("fmt ")) {
                if (len < 16 || len > 1024) {
                    throw new AudioFormatException(file, "bad WAV 'fmt ' chunk size " + len + " (expected 16..1024 bytes)");
                }
                ByteBuffer f = read(ch, file, body, (int) len, "'fmt ' chunk");
                format = f.getShort(0) & 0xFFFF;
                channels = f.getShort(2) & 0xFFFF;
                rate = f.getInt(4);
                int blockAlign = f.getShort(12) & 0xFFFF;
                bits = f.getShort(14) & 0xFFFF;
                if (format == FORMAT_EXTENSIBLE) {
                    if (len < 40) {
                        throw new AudioFormatException(file, "WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk is " + len + " bytes (expected 40)");
                    }
                    format = f.getShort(24) & 0xFFFF; // first two bytes of the sub-format GUID
                }
                if (format != FORMAT_PCM && format != FORMAT_FLOAT) {
                    throw new AudioFormatException(file, "unsupported WAV codec, format tag 0x" + Integer.toHexString(format)
                            + " (supported: PCM 0x1, IEEE float 0x3, extensible with either)");
                }
                if (channels < 1 || channels > 256) {
                    throw new AudioFormatException(file, "bad WAV channel count " + channels + " (expected 1..256)");
                }
                if (rate <= 0 || rate > 1_000_000) {
                    throw new AudioFormatException(file, "bad WAV sample rate " + Integer.toUnsignedString(rate) + " Hz");
                }
                boolean ok = format == FORMAT_PCM ? (bits == 8 || bits == 16 || bits == 24 || bits == 32) : (bits == 32 || bits == 64);
                if (!ok) {
                    throw new AudioFormatException(file, "unsupported WAV sample size " + bits + " bits for "
                            + (format == FORMAT_PCM ? "PCM (supported: 8, 16, 24, 32)" : "float (supported: 32, 64)"));
                }
                if (blockAlign != channels * bits / 8) {
                    throw new AudioFormatException(file, "bad WAV block align " + blockAlign + " (expected channels * bytes = "
                            + channels * bits / 8 + ")");
                }
            } else if (id.equals("data")) {
                if (format < 0) {
                    throw new AudioFormatException(file, "WAV 'data' chunk comes before the 'fmt ' chunk");
                }
                long available = size - body;
                long dataLen = len;
                if (len == 0xFFFFFFFFL || len == 0) {
                    dataLen = available; // streamed WAV: length unknown when the header was written
                } else if (len > available) {
                    throw new AudioFormatException(file, "truncated WAV: 'data' chunk declares " + len + " bytes but only "
                            + available + " remain in the file");
                }
                int bpf = channels * bits / 8;
                return new Header(format, channels, rate, bits, body, dataLen / bpf);
            } else if (len > size - body) {
                throw new AudioFormatException(file, "bad WAV chunk size: '" + printable(id) + "' declares " + len
                        + " bytes but only " + (size - body) + " remain in the file");
            }
            pos = body + len + (len & 1);
        }
    }

    static Audio read(FileChannel ch, Path file, double offsetSec, double durationSec) throws IOException {
        Header h = header(ch, file);
        Segment seg = Segment.of(file, h.rate, offsetSec, durationSec, h.frames);
        int n = Math.toIntExact(seg.length());
        int bpf = h.bytesPerFrame();
        float[] out = new float[n];
        // read in blocks so that a long file never needs one huge byte buffer
        int framesPerBlock = Math.max(1, (1 << 20) / bpf);
        ByteBuffer buf = ByteBuffer.allocate(Math.min(n, framesPerBlock) * bpf).order(ByteOrder.LITTLE_ENDIAN);
        for (int done = 0; done < n; ) {
            int m = Math.min(framesPerBlock, n - done);
            buf.clear().limit(m * bpf);
            readFully(ch, file, buf, h.dataStart + (seg.start() + done) * bpf, "WAV samples");
            convert(buf, h, out, done, m, file, seg.start());
            done += m;
        }
        return new Audio(out, h.rate);
    }

    private static void convert(ByteBuffer b, Header h, float[] out, int off, int frames, Path file, long first) {
        int c = h.channels;
        float inv = 1f / c;
        int p = 0;
        for (int i = 0; i < frames; i++) {
            double sum = 0;
            for (int k = 0; k < c; k++) {
                double v;
                if (h.format == FORMAT_FLOAT) {
                    if (h.bits == 32) { v = b.getFloat(p); p += 4; } else { v = b.getDouble(p); p += 8; }
                    if (!Double.isFinite(v)) {
                        throw new AudioFormatException(file, "float WAV sample at frame " + (first + off + i) + " is not a finite number ("
                                + v + ")");
                    }
                } else {
                    switch (h.bits) {
                        case 8 -> { v = ((b.get(p) & 0xFF) - 128) / 128.0; p += 1; }
                        case 16 -> { v = b.getShort(p) / 32768.0; p += 2; }
                        case 24 -> {
                            int s = (b.get(p) & 0xFF) | ((b.get(p + 1) & 0xFF) << 8) | (b.get(p + 2) << 16);
                            v = s / 8388608.0;
                            p += 3;
                        }
                        default -> { v = b.getInt(p) / 2147483648.0; p += 4; }
                    }
                }
                sum += v;
            }
            out[off + i] = c == 1 ? (float) sum : (float) sum * inv;
        }
    }

    static ByteBuffer read(FileChannel ch, Path file, long pos, int len, String what) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, file, b, pos, what);
        return b;
    }

    static void readFully(FileChannel ch, Path file, ByteBuffer b, long pos, String what) throws IOException {
        while (b.hasRemaining()) {
            int r = ch.read(b, pos);
            if (r < 0) {
                throw new AudioFormatException(file, "truncated file: end of file while reading " + what + " at byte " + pos);
            }
            pos += r;
        }
        b.flip();
    }

    static String fourcc(ByteBuffer b, int at) {
        char[] c = new char[4];
        for (int i = 0; i < 4; i++) c[i] = (char) (b.get(at + i) & 0xFF);
        return new String(c);
    }

    private static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray()) sb.append(c >= 32 && c < 127 ? String.valueOf(c) : String.format("\\x%02x", (int) c));
        return sb.toString();
    }
}
