package lmu.speech.audio;

import io.github.jaredmdobson.concentus.OpusDecoder;
import io.github.jaredmdobson.concentus.OpusException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;

/**
 * Ogg/Opus decoder (RFC 7845) producing 48 kHz mono. The OpusHead pre-skip is dropped from the
 * start and the last page's granule position trims the end, so the length is exactly what the
 * encoder was given. A segment that starts later in the file is decoded from the page 80 ms
 * before it, not from the start of the file: RFC 7845 asks for at least 80 ms of pre-roll, but
 * with 80 ms the decoder here still differs from a full decode by up to 5% of full scale, so
 * 400 ms are used (difference below 0.1%).
 *
 * <p>The reader decodes at 48 kHz and leaves rate conversion to {@link Resampler}: Concentus's
 * reduced-rate output (e.g. {@code new OpusDecoder(16000, 1)}) returned silence for the first
 * 0.3 s of a CELT stream in our tests, so it is not used (the {@code rate} parameter exists for
 * when that is fixed).
 */
final class OggOpusDecoder {
    static final int RATE = 48000;
    private static final int PREROLL = 19200; // 400 ms at 48 kHz
    private static final int MAX_FRAME = 5760; // 120 ms at 48 kHz, the longest Opus packet

    private OggOpusDecoder() {}

    /** Stream parameters from the OpusHead packet and the page index. */
    record Info(int channels, int preSkip, double gain, long lastGranule, int firstAudioPage, List<OggReader.Page> pages) {
        long totalSamples() {
            return Math.max(0, lastGranule - preSkip);
        }
    }

    static Info info(FileChannel ch, Path file) throws IOException {
        OggReader ogg = new OggReader(ch, file);
        List<OggReader.Page> pages = ogg.index();
        byte[] first = ogg.body(pages.get(0));
        if (first.length < 19 || !new String(first, 0, 8, java.nio.charset.StandardCharsets.ISO_8859_1).equals("OpusHead")) {
            String codec = first.length >= 8 && first[0] == 0x7F && first[1] == 'F' ? "FLAC"
                    : first.length >= 7 && first[0] == 1 && first[1] == 'v' ? "Vorbis"
                    : first.length >= 8 && first[0] == 'S' && first[1] == 'p' ? "Speex" : "unknown";
            throw new AudioFormatException(file, "unsupported Ogg codec (" + codec + "): only Ogg/Opus is supported");
        }
        ByteBuffer b = OggReader.le(first, first.length);
        int version = first[8] & 0xFF;
        if ((version >> 4) != 0) {
            throw new AudioFormatException(file, "unsupported OpusHead version " + version);
        }
        int channels = first[9] & 0xFF;
        int preSkip = OggReader.u16(first, 10);
        short gainQ8 = b.getShort(16);
        int mapping = first[18] & 0xFF;
        if (channels < 1 || channels > 2 || mapping != 0) {
            throw new AudioFormatException(file, "unsupported Opus channel layout: " + channels
                    + " channels, mapping family " + mapping + " (supported: 1 or 2 channels, family 0)");
        }
        // audio starts on the page after the one where the OpusTags packet (the second) ends
        int firstAudio = findFirstAudioPage(pages);
        if (firstAudio < 0) {
            throw new AudioFormatException(file, "Ogg/Opus file has no audio pages");
        }
        long last = -1;
        for (int i = pages.size() - 1; i >= firstAudio; i--) {
            if (pages.get(i).granule() != -1) {
                last = pages.get(i).granule();
                break;
            }
        }
        if (last < 0) {
            throw new AudioFormatException(file, "Ogg/Opus file has no page with a granule position");
        }
        return new Info(channels, preSkip, Math.pow(10, gainQ8 / (20.0 * 256)), last, firstAudio, pages);
    }

    /** Index of the first page after the one on which the OpusTags packet ends. */
    private static int findFirstAudioPage(List<OggReader.Page> pages) {
        int packetsEnded = 0;
        for (int i = 0; i < pages.size(); i++) {
            for (int seg : pages.get(i).lacing()) {
                if (seg < 255) packetsEnded++;
            }
            if (packetsEnded >= 2) return i + 1 < pages.size() ? i + 1 : -1;
        }
        return -1;
    }

    /** Rates Opus decodes to natively (RFC 6716). */
    static boolean nativeRate(int rate) {
        return rate == 8000 || rate == 12000 || rate == 16000 || rate == 24000 || rate == 48000;
    }

    /**
     * @param rate output rate, one of 8, 12, 16, 24 or 48 kHz (the decoder's own band-limited
     *     output at that rate; granule positions and pre-skip count at 48 kHz and are scaled)
     */
    static Audio read(FileChannel ch, Path file, double offsetSec, double durationSec, int rate) throws IOException {
        if (!nativeRate(rate)) {
            throw new IllegalArgumentException("OggOpusDecoder: rate must be 8000, 12000, 16000, 24000 or 48000, got " + rate);
        }
        Info info = info(ch, file);
        int f = RATE / rate;
        long preSkip = Math.round(info.preSkip / (double) f);
        Segment seg = Segment.of(file, rate, offsetSec, durationSec, info.totalSamples() / f);
        if (seg.length() == 0) return new Audio(new float[0], rate);
        // grows with the decoded data: the granule position in a forged header cannot force a huge allocation
        GrowableSamples out = new GrowableSamples(seg.length());
        long gStart = seg.start() + preSkip; // positions of the wanted samples, in output-rate units
        long gEnd = seg.end() + preSkip;
        // start at the latest page boundary at least PREROLL before gStart that begins a packet
        int startPage = info.firstAudioPage;
        long startGranule = 0;
        for (int i = info.firstAudioPage + 1; i < info.pages.size(); i++) {
            long prev = info.pages.get(i - 1).granule();
            if (prev < 0 || info.pages.get(i).continued()) continue;
            if (prev / f > gStart - PREROLL / f) break;
            startPage = i;
            startGranule = prev / f;
        }
        OpusDecoder dec;
        try {
            dec = new OpusDecoder(rate, info.channels);
        } catch (OpusException e) {
            throw new AudioFormatException(file, "cannot create Opus decoder: " + e.getMessage(), e);
        }
        short[] pcm = new short[MAX_FRAME / f * info.channels];
        int maxFrame = MAX_FRAME / f;
        float scale = (float) (info.gain / 32768.0 / info.channels);
        int channels = info.channels;
        long[] granule = {startGranule};
        new OggReader(ch, file).packets(info.pages, startPage, (pkt, len, page) -> {
            int got;
            try {
                got = dec.decode(pkt, 0, len, pcm, 0, maxFrame, false);
            } catch (OpusException | RuntimeException e) {
                throw new AudioFormatException(file, "corrupt Opus packet on Ogg page " + info.pages.get(page).sequence()
                        + ": " + e.getMessage(), e);
            }
            long g0 = granule[0];
            long from = Math.max(g0, gStart), to = Math.min(g0 + got, gEnd);
            for (long g = from; g < to; g++) {
                int k = (int) (g - g0) * channels;
                int s = channels == 1 ? pcm[k] : pcm[k] + pcm[k + 1];
                out.add(s * scale);
            }
            granule[0] = g0 + got;
            return granule[0] < gEnd;
        });
        if (granule[0] < gEnd) {
            throw new AudioFormatException(file, "truncated Ogg/Opus stream: decoded up to sample " + (granule[0] - preSkip)
                    + " of " + (gEnd - preSkip) + " at " + rate + " Hz");
        }
        return new Audio(out.toArray(), rate);
    }
}
