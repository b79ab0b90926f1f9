package lmu.speech.audio;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
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

    static Audio read(FileChannel ch, Path file, double offsetSec, double durationSec) throws IOException {
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
