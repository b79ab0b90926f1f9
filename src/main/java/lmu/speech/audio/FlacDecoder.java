package lmu.speech.audio;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import org.jflac.ChannelData;
import org.jflac.FLACDecoder;
import org.jflac.frame.Frame;
import org.jflac.metadata.StreamInfo;

/**
 * FLAC decoder (through JFLAC), any bit depth, rate and channel count, averaged to mono. Decodes
 * from the start of the file and stops at the end of the requested segment.
 */
final class FlacDecoder {
    private FlacDecoder() {}

    /** Length in seconds from STREAMINFO, or by decoding when STREAMINFO does not give the sample count. */
    static double durationSeconds(FileChannel ch, Path file) throws IOException {
        checkMetadata(ch, file);
        FLACDecoder dec = new FLACDecoder(new BufferedInputStream(Channels.newInputStream(ch.position(0)), 1 << 12));
        StreamInfo info;
        try {
            info = dec.readStreamInfo();
        } catch (IOException | RuntimeException e) {
            throw new AudioFormatException(file, "bad FLAC metadata: " + e, e);
        }
        if (info != null && info.getTotalSamples() > 0 && info.getSampleRate() > 0) {
            return info.getTotalSamples() / (double) info.getSampleRate();
        }
        return read(ch, file, 0, -1).durationSeconds();
    }

    /**
     * Checks every metadata block's length (and the lengths inside a VORBIS_COMMENT block) against
     * the file before JFLAC sees them: JFLAC allocates whatever a length field says, so a forged
     * field would otherwise end in an OutOfMemoryError.
     */
    static void checkMetadata(FileChannel ch, Path file) throws IOException {
        long size = ch.size();
        long pos = 4; // after "fLaC"
        ByteBuffer head = ByteBuffer.allocate(4);
        for (int block = 0; block < 1024; block++) {
            head.clear();
            if (ch.read(head, pos) < 4) throw new AudioFormatException(file, "FLAC metadata ends early (truncated file)");
            int flags = head.get(0) & 0xFF;
            long len = ((head.get(1) & 0xFFL) << 16) | ((head.get(2) & 0xFFL) << 8) | (head.get(3) & 0xFFL);
            if (pos + 4 + len > size) {
                throw new AudioFormatException(file, "FLAC metadata block " + block + " claims " + len + " bytes, past the end of the "
                        + size + "-byte file");
            }
            if ((flags & 0x7F) == 4) checkVorbisComment(ch, file, pos + 4, len);
            pos += 4 + len;
            if ((flags & 0x80) != 0) return; // last metadata block
        }
        throw new AudioFormatException(file, "FLAC file has more than 1024 metadata blocks");
    }

    /** VORBIS_COMMENT: little-endian vendor length, count, then length-prefixed strings, all inside the block. */
    private static void checkVorbisComment(FileChannel ch, Path file, long start, long len) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) len).order(ByteOrder.LITTLE_ENDIAN);
        ch.read(b, start);
        b.flip();
        try {
            long vendor = b.getInt() & 0xFFFFFFFFL;
            if (vendor > b.remaining()) throw new java.nio.BufferUnderflowException();
            b.position(b.position() + (int) vendor);
            long count = b.getInt() & 0xFFFFFFFFL;
            if (count > b.remaining() / 4) throw new java.nio.BufferUnderflowException();
            for (long i = 0; i < count; i++) {
                long n = b.getInt() & 0xFFFFFFFFL;
                if (n > b.remaining()) throw new java.nio.BufferUnderflowException();
                b.position(b.position() + (int) n);
            }
        } catch (java.nio.BufferUnderflowException e) {
            throw new AudioFormatException(file, "FLAC VORBIS_COMMENT block has lengths past its end (corrupt metadata)");
        }
    }

    static Audio read(FileChannel ch, Path file, double offsetSec, double durationSec) throws IOException {
        checkMetadata(ch, file);
        InputStream in = new BufferedInputStream(Channels.newInputStream(ch.position(0)), 1 << 16);
        FLACDecoder dec = new FLACDecoder(in);
        StreamInfo info;
        try {
            info = dec.readStreamInfo();
            if (info == null) throw new AudioFormatException(file, "FLAC file has no STREAMINFO block");
            dec.readMetadata(info);
        } catch (AudioFormatException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new AudioFormatException(file, "bad FLAC metadata: " + e, e);
        }
        int rate = info.getSampleRate();
        int bits = info.getBitsPerSample();
        int channels = info.getChannels();
        if (rate <= 0 || bits < 4 || bits > 32 || channels < 1 || channels > 8) {
            throw new AudioFormatException(file, "bad FLAC STREAMINFO: rate " + rate + " Hz, " + bits + " bits, " + channels + " channels");
        }
        long total = info.getTotalSamples() > 0 ? info.getTotalSamples() : -1;
        Segment seg = Segment.of(file, rate, offsetSec, durationSec, total);
        GrowableSamples out = new GrowableSamples(Math.min(seg.length(), ch.size() * 4));
        double scale = 1.0 / (1L << (bits - 1)) / channels;
        long pos = 0;
        while (pos < seg.end()) {
            Frame frame;
            try {
                frame = dec.readNextFrame();
            } catch (IOException | RuntimeException e) {
                throw new AudioFormatException(file, "corrupt FLAC frame after sample " + pos + ": " + e, e);
            }
            if (frame == null) break;
            int block = frame.header.blockSize;
            ChannelData[] data = dec.getChannelData();
            if (frame.header.channels != channels || data == null || data.length < channels) {
                throw new AudioFormatException(file, "corrupt FLAC frame after sample " + pos + ": " + frame.header.channels
                        + " channels where STREAMINFO says " + channels);
            }
            for (int c = 0; c < channels; c++) {
                if (data[c] == null || data[c].getOutput() == null || data[c].getOutput().length < block) {
                    throw new AudioFormatException(file, "corrupt FLAC frame after sample " + pos + ": block of " + block
                            + " samples larger than the decoded channel data");
                }
            }
            long from = Math.max(pos, seg.start()), to = Math.min(pos + block, seg.end());
            for (long s = from; s < to; s++) {
                int k = (int) (s - pos);
                long sum = 0;
                for (int c = 0; c < channels; c++) sum += data[c].getOutput()[k];
                out.add((float) (sum * scale));
            }
            pos += block;
        }
        if (total < 0 && seg.start() > pos) {
            throw new AudioFormatException(file, String.format("offset %.3f s is past the end of the audio (%.3f s)",
                    offsetSec, pos / (double) rate));
        }
        if (total >= 0 && pos < seg.end()) {
            throw new AudioFormatException(file, "truncated FLAC stream: decoded " + pos + " of " + total + " samples");
        }
        return new Audio(out.toArray(), rate);
    }
}
