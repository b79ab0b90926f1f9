package lmu.speech.audio;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Ogg container reader (RFC 3533): indexes pages by their headers without reading their bodies,
 * checks page CRCs, and reassembles packets across pages. Only the first logical stream is read.
 */
final class OggReader {
    /** One page: its file position, header fields and body location. */
    record Page(long pos, int flags, long granule, int serial, int sequence, int[] lacing, long bodyPos, int bodyLen) {
        boolean continued() {
            return (flags & 1) != 0;
        }
    }

    private static final int[] CRC_TABLE = new int[256];

    static {
        for (int i = 0; i < 256; i++) {
            int r = i << 24;
            for (int k = 0; k < 8; k++) r = (r & 0x80000000) != 0 ? (r << 1) ^ 0x04C11DB7 : r << 1;
            CRC_TABLE[i] = r;
        }
    }

    private final FileChannel ch;
    private final Path file;

    OggReader(FileChannel ch, Path file) {
        this.ch = ch;
        this.file = file;
    }

    /** Headers of all pages of the first logical stream, in file order. */
    List<Page> index() throws IOException {
        long size = ch.size();
        List<Page> pages = new ArrayList<>();
        long pos = 0;
        int serial = 0;
        while (pos < size) {
            if (size - pos < 27) {
                throw new AudioFormatException(file, "truncated Ogg page header at byte " + pos);
            }
            ByteBuffer h = WavDecoder.read(ch, file, pos, 27, "Ogg page header");
            if (!WavDecoder.fourcc(h, 0).equals("OggS")) {
                throw new AudioFormatException(file, "bad Ogg page: no 'OggS' capture pattern at byte " + pos);
            }
            if (h.get(4) != 0) {
                throw new AudioFormatException(file, "unsupported Ogg version " + h.get(4) + " at byte " + pos);
            }
            int nseg = h.get(26) & 0xFF;
            ByteBuffer segs = WavDecoder.read(ch, file, pos + 27, nseg, "Ogg segment table");
            int[] lacing = new int[nseg];
            int bodyLen = 0;
            for (int i = 0; i < nseg; i++) {
                lacing[i] = segs.get(i) & 0xFF;
                bodyLen += lacing[i];
            }
            long bodyPos = pos + 27 + nseg;
            if (bodyPos + bodyLen > size) {
                throw new AudioFormatException(file, "truncated Ogg page at byte " + pos + ": body of " + bodyLen
                        + " bytes, " + (size - bodyPos) + " left in the file");
            }
            int s = h.getInt(14);
            if (pages.isEmpty()) serial = s;
            if (s == serial) {
                pages.add(new Page(pos, h.get(5) & 0xFF, h.getLong(6), s, h.getInt(18), lacing, bodyPos, bodyLen));
            }
            pos = bodyPos + bodyLen;
        }
        if (pages.isEmpty()) {
            throw new AudioFormatException(file, "empty Ogg file");
        }
        return pages;
    }

    /** Reads a page's body and checks its CRC. */
    byte[] body(Page p) throws IOException {
        int headerLen = 27 + p.lacing.length;
        ByteBuffer all = WavDecoder.read(ch, file, p.pos, headerLen + p.bodyLen, "Ogg page");
        byte[] a = all.array();
        int stored = all.getInt(22);
        int crc = 0;
        for (int i = 0; i < a.length; i++) {
            int v = (i >= 22 && i < 26) ? 0 : a[i] & 0xFF;
            crc = (crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ v) & 0xFF];
        }
        if (crc != stored) {
            throw new AudioFormatException(file, String.format("corrupt Ogg page %d at byte %d: CRC %08x, stored %08x",
                    p.sequence, p.pos, crc, stored));
        }
        byte[] body = new byte[p.bodyLen];
        System.arraycopy(a, headerLen, body, 0, p.bodyLen);
        return body;
    }

    /** Receives the packets reassembled from a run of pages. */
    interface PacketSink {
        /**
         * @param packet packet bytes (valid only during the call)
         * @param length packet length
         * @param page index of the page on which the packet ends
         * @return false to stop reading
         */
        boolean packet(byte[] packet, int length, int page) throws IOException;
    }

    /**
     * Reassembles packets starting at page {@code first}; a packet continued from the page before
     * {@code first} is dropped.
     */
    void packets(List<Page> pages, int first, PacketSink sink) throws IOException {
        byte[] pkt = new byte[4096];
        int len = 0;
        boolean dropping = pages.get(first).continued();
        for (int pi = first; pi < pages.size(); pi++) {
            Page p = pages.get(pi);
            byte[] body = body(p);
            int at = 0;
            for (int seg : p.lacing) {
                if (!dropping) {
                    if (len + seg > pkt.length) {
                        pkt = java.util.Arrays.copyOf(pkt, Math.max(pkt.length * 2, len + seg));
                    }
                    System.arraycopy(body, at, pkt, len, seg);
                    len += seg;
                }
                at += seg;
                if (seg < 255) {
                    if (!dropping && !sink.packet(pkt, len, pi)) return;
                    dropping = false;
                    len = 0;
                }
            }
        }
    }

    static int u16(byte[] b, int at) {
        return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8;
    }

    static ByteBuffer le(byte[] b, int len) {
        return ByteBuffer.wrap(b, 0, len).order(ByteOrder.LITTLE_ENDIAN);
    }
}
