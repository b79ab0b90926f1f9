package lmu.speech.audio;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes test WAV files in every sample format the decoder reads. */
public final class WavWriter {
    private WavWriter() {}

    /** Sample encodings: tag, bits, extensible header or not. */
    public enum Encoding {
        PCM8(1, 8), PCM16(1, 16), PCM24(1, 24), PCM32(1, 32), FLOAT32(3, 32), FLOAT64(3, 64),
        EXT_PCM16(1, 16, true), EXT_FLOAT32(3, 32, true);

        final int tag, bits;
        final boolean extensible;

        Encoding(int tag, int bits) {
            this(tag, bits, false);
        }

        Encoding(int tag, int bits, boolean extensible) {
            this.tag = tag;
            this.bits = bits;
            this.extensible = extensible;
        }
    }

    /**
     * @param channels samples per channel, channels[c][i]
     */
    public static void write(Path file, float[][] channels, int rate, Encoding enc) throws IOException {
        Files.write(file, bytes(channels, rate, enc));
    }

    public static void writeMono16(Path file, float[] x, int rate) throws IOException {
        write(file, new float[][] {x}, rate, Encoding.PCM16);
    }

    public static byte[] bytes(float[][] channels, int rate, Encoding enc) {
        int c = channels.length, n = channels[0].length, bps = enc.bits / 8;
        int dataLen = n * c * bps;
        int fmtLen = enc.extensible ? 40 : 16;
        ByteBuffer b = ByteBuffer.allocate(12 + 8 + fmtLen + 8 + 8 + dataLen + (dataLen & 1)).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes()).putInt(b.capacity() - 8).put("WAVE".getBytes());
        b.put("fmt ".getBytes()).putInt(fmtLen);
        b.putShort((short) (enc.extensible ? 0xFFFE : enc.tag)).putShort((short) c).putInt(rate)
                .putInt(rate * c * bps).putShort((short) (c * bps)).putShort((short) enc.bits);
        if (enc.extensible) {
            b.putShort((short) 22).putShort((short) enc.bits).putInt(0);
            b.putShort((short) enc.tag).put(new byte[] {0, 0, 0, 0, 0x10, 0, (byte) 0x80, 0, 0, (byte) 0xAA, 0, 0x38, (byte) 0x9B, 0x71});
        }
        b.put("junk".getBytes()).putInt(0); // an unknown chunk the reader must skip
        b.put("data".getBytes()).putInt(dataLen);
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < c; k++) {
                double v = channels[k][i];
                switch (enc.bits + (enc.tag == 3 ? 1000 : 0)) {
                    case 8 -> b.put((byte) (Math.round(v * 127) + 128));
                    case 16 -> b.putShort((short) Math.round(v * 32767));
                    case 24 -> {
                        int s = (int) Math.round(v * 8388607);
                        b.put((byte) s).put((byte) (s >> 8)).put((byte) (s >> 16));
                    }
                    case 32 -> b.putInt((int) Math.round(v * 2147483647.0));
                    case 1032 -> b.putFloat((float) v);
                    case 1064 -> b.putDouble(v);
                    default -> throw new IllegalStateException();
                }
            }
        }
        return b.array();
    }

    /** {@code amp * sin(2 pi f i / rate)}, n samples. */
    public static float[] sine(double f, double amp, int rate, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (amp * Math.sin(2 * Math.PI * f * i / rate));
        return x;
    }
}
