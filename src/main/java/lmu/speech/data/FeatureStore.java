package lmu.speech.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.CRC32C;
import lmu.speech.features.FeatureConfig;
import lmu.speech.features.FeatureMatrix;
import lmu.speech.features.SpeedPerturbation;
import lmu.tensor.HalfFloats;

/**
 * Raw log-mel features (before normalisation and SpecAugment) of a whole dataset in a few large
 * files, read through memory mappings: what {@code prepare --features} builds and training reads
 * instead of decoding audio (config key {@code data.features}). Utterances it does not hold, or
 * holds for another audio segment, are decoded as usual; see {@link FeatureCache} for the lazy,
 * one-file-per-segment alternative. Both key features by {@link FeatureConfig#identity()}.
 *
 * <p>Layout of the store directory (all integers little-endian):
 *
 * <ul>
 *   <li>{@code data-NNNNN.lmfd}, the shards (at most 1 GiB each by default): a 16-byte header
 *       (magic {@code LMFD}, format version, shard number, dtype code), then the features of
 *       utterance after utterance, each shape (T, C) row-major, as float32 or IEEE float16;
 *   <li>{@code index.lmfs}, written last (by rename, so a store whose build was interrupted has
 *       no index and is not used): magic {@code LMFS}, format version, dtype code (0 float32, 1
 *       float16), C, the SHA-256 of the feature identity (32 bytes) and the identity itself
 *       (int32 length + UTF-8), the shard count and each shard's byte size (int64), the entry
 *       count and per entry: id (uint16 length + UTF-8), speed factor (float32), segment digest
 *       (int64, {@link FeatureKeys#storeSegmentHash}), shard (int32), byte offset in the shard
 *       (int64), frames T (int32), CRC32C of the entry's bytes (int32); finally the CRC32C of all
 *       the index bytes before it (int32).
 * </ul>
 *
 * <p>{@link #open} refuses, with a message naming the file, a store made with another feature
 * configuration, another format version, a damaged index, or a missing or truncated shard. Each
 * read checks the entry's CRC32C and throws {@link IllegalStateException} naming the shard and
 * the utterance when it differs (the {@link FeatureExtractor} then decodes the audio instead and
 * warns). Reads are thread-safe and need no file handle: absolute bulk gets from mapped buffers.
 *
 * <pre>
 * jshell> FeatureStore.build(Path.of("data/prep/features"), utterances, FeatureConfig.defaults(),
 *    ...>     FeatureStore.Dtype.FLOAT32, null, 2, new SkipReport())
 * jshell> FeatureStore.open(Path.of("data/prep/features"), FeatureConfig.defaults()).read(u, 1.0)
 * </pre>
 */
public final class FeatureStore {
    /** Name of the index file inside a store directory. */
    public static final String INDEX_FILE = "index.lmfs";
    /** Default largest shard size in bytes. */
    public static final long DEFAULT_SHARD_BYTES = 1L << 30;
    static final int INDEX_MAGIC = 0x53464D4C; // "LMFS" little-endian
    static final int SHARD_MAGIC = 0x44464D4C; // "LMFD" little-endian
    static final int VERSION = 1;
    static final int SHARD_HEADER = 16;

    /** How feature values are stored. */
    public enum Dtype {
        /** 4 bytes per value, exactly what {@link lmu.speech.features.LogMel} computed. */
        FLOAT32(4),
        /** 2 bytes per value (IEEE half, rounded to nearest even): half the size, about 3 decimal digits. */
        FLOAT16(2);

        final int bytes;

        Dtype(int bytes) {
            this.bytes = bytes;
        }

        /** {@code float32} or {@code float16} (case-insensitive). */
        public static Dtype parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "float32", "f32", "fp32" -> FLOAT32;
                case "float16", "f16", "fp16" -> FLOAT16;
                default -> throw new IllegalArgumentException("FeatureStore: dtype must be float32 or float16, got '" + s + "'");
            };
        }
    }

    /** What a build wrote. */
    public record Summary(int entries, long frames, long bytes, int shards) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%d entries, %d frames (%.2f h), %.1f MiB in %d shard%s", entries, frames,
                    frames / 360000.0, bytes / 1048576.0, shards, shards == 1 ? "" : "s");
        }
    }

    private final Path dir;
    private final Dtype dtype;
    private final String identity;
    private final int bins;
    private final Path[] shardFiles;
    private final ByteBuffer[] shardBytes;
    private final FloatBuffer[] floatViews;
    private final ShortBuffer[] halfViews;
    private final Map<String, Integer> byKey;
    private final long[] segment, offset;
    private final int[] shard, frames, crc;
    private final long totalFrames;
    private final ThreadLocal<short[]> halfScratch = ThreadLocal.withInitial(() -> new short[0]);
    private static final float[] HALF_TO_FLOAT = new float[1 << 16];

    static {
        for (int i = 0; i < HALF_TO_FLOAT.length; i++) HALF_TO_FLOAT[i] = HalfFloats.f16ToFloat((short) i);
    }

    private FeatureStore(Path dir, Dtype dtype, String identity, int bins, Path[] shardFiles, ByteBuffer[] shardBytes, Map<String, Integer> byKey,
                         long[] segment, long[] offset, int[] shard, int[] frames, int[] crc) {
        this.dir = dir;
        this.dtype = dtype;
        this.identity = identity;
        this.bins = bins;
        this.shardFiles = shardFiles;
        this.shardBytes = shardBytes;
        this.byKey = byKey;
        this.segment = segment;
        this.offset = offset;
        this.shard = shard;
        this.frames = frames;
        this.crc = crc;
        floatViews = new FloatBuffer[shardBytes.length];
        halfViews = new ShortBuffer[shardBytes.length];
        for (int s = 0; s < shardBytes.length; s++) {
            ByteBuffer b = shardBytes[s].duplicate().order(ByteOrder.LITTLE_ENDIAN);
            if (dtype == Dtype.FLOAT32) floatViews[s] = b.asFloatBuffer();
            else halfViews[s] = b.asShortBuffer();
        }
        long t = 0;
        for (int f : frames) t += f;
        totalFrames = t;
    }

    /** True when {@code dir} holds a store index (whether it is valid is checked by {@link #open}). */
    public static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve(INDEX_FILE));
    }

    public Path dir() {
        return dir;
    }

    public Dtype dtype() {
        return dtype;
    }

    /** The {@link FeatureConfig#identity()} the features were made with. */
    public String identity() {
        return identity;
    }

    /** Number of stored (utterance, speed factor) entries. */
    public int size() {
        return frames.length;
    }

    /** Frames over all entries. */
    public long totalFrames() {
        return totalFrames;
    }

    /** True when the store holds {@code u}'s segment at this speed factor. */
    public boolean contains(Utterance u, double speed) {
        return entry(u, speed) >= 0;
    }

    /** Stored frames of {@code u} at this speed, or -1 when not stored. */
    public int frames(Utterance u, double speed) {
        int e = entry(u, speed);
        return e < 0 ? -1 : frames[e];
    }

    private int entry(Utterance u, double speed) {
        Integer e = byKey.get(key(u.id(), speed));
        if (e == null || segment[e] != FeatureKeys.storeSegmentHash(u)) return -1;
        return e;
    }

    private static String key(String id, double speed) {
        return speed == 1.0 ? id : id + "@" + (float) speed;
    }

    /**
     * The stored raw log-mel features of {@code u} at this speed factor.
     *
     * @return features, shape (T, C), a fresh array; null when the store does not hold this
     *     segment at this speed
     * @throws IllegalStateException when the stored bytes fail their checksum (names the shard
     *     file and the utterance)
     */
    public FeatureMatrix read(Utterance u, double speed) {
        int t = frames(u, speed);
        if (t < 0) return null;
        float[] v = new float[t * bins];
        readInto(u, speed, v, 0);
        return new FeatureMatrix(v, t, bins);
    }

    /**
     * Copies the stored raw log-mel features of {@code u} at this speed factor into {@code dst}
     * (for example straight into a padded batch).
     *
     * @param dst receives T * C values at {@code dst[at + t * C + m]}
     * @return T, or -1 (and nothing written) when the store does not hold this segment at this speed
     * @throws IllegalStateException when the stored bytes fail their checksum (names the shard
     *     file and the utterance); {@code dst} may then hold part of them
     * @throws IllegalArgumentException when the features do not fit into {@code dst} at {@code at}
     */
    public int readInto(Utterance u, double speed, float[] dst, int at) {
        int e = entry(u, speed);
        if (e < 0) return -1;
        int s = shard[e], t = frames[e];
        int n = t * bins;
        if (at < 0 || at + (long) n > dst.length) {
            throw new IllegalArgumentException("FeatureStore: " + n + " values of " + u.id() + " do not fit at offset " + at
                    + " into an array of " + dst.length);
        }
        ByteBuffer bytes = shardBytes[s].duplicate();
        bytes.limit((int) (offset[e] + (long) n * dtype.bytes)).position((int) offset[e]);
        CRC32C c = new CRC32C();
        c.update(bytes);
        if ((int) c.getValue() != crc[e]) {
            throw new IllegalStateException("FeatureStore: " + shardFiles[s] + " is damaged: the features of " + u.id()
                    + " (at byte " + offset[e] + ") fail their checksum; rebuild the store with prepare --features");
        }
        int index = (int) (offset[e] / dtype.bytes); // the views start at byte 0 of the shard
        if (dtype == Dtype.FLOAT32) {
            floatViews[s].get(index, dst, at, n);
        } else {
            short[] h = halfScratch.get();
            if (h.length < n) {
                h = new short[n];
                halfScratch.set(h);
            }
            halfViews[s].get(index, h, 0, n);
            for (int i = 0; i < n; i++) dst[at + i] = HALF_TO_FLOAT[h[i] & 0xFFFF];
        }
        return t;
    }


    /**
     * Opens a store for reading.
     *
     * @param dir the store directory (holding {@link #INDEX_FILE})
     * @param cfg the feature configuration this run uses; the store must have been built with it
     * @throws IllegalArgumentException when there is no index, it is damaged or of another format
     *     version, the store was built with another feature configuration, or a shard is missing,
     *     truncated or not a shard of this store (each message names the file)
     * @throws UncheckedIOException when a file cannot be read or mapped
     */
    public static FeatureStore open(Path dir, FeatureConfig cfg) {
        Path indexFile = dir.resolve(INDEX_FILE);
        byte[] raw;
        try {
            raw = Files.readAllBytes(indexFile);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("FeatureStore: " + indexFile + " not found: no feature store in " + dir
                    + " (build one with prepare --features)");
        } catch (IOException e) {
            throw new UncheckedIOException("FeatureStore: cannot read " + indexFile + ": " + e.getMessage(), e);
        }
        String damaged = "FeatureStore: " + indexFile + " is damaged";
        String rebuild = "; rebuild it with prepare --features";
        if (raw.length < 4 * 4 + 32 + 4) throw new IllegalArgumentException(damaged + " (" + raw.length + " bytes, too short)" + rebuild);
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(0) != INDEX_MAGIC) throw new IllegalArgumentException(damaged + " (not a feature store index)" + rebuild);
        if (b.getInt(4) != VERSION) {
            throw new IllegalArgumentException("FeatureStore: " + indexFile + " has format version " + b.getInt(4) + ", this engine reads version "
                    + VERSION + rebuild);
        }
        CRC32C whole = new CRC32C();
        whole.update(raw, 0, raw.length - 4);
        if ((int) whole.getValue() != b.getInt(raw.length - 4)) {
            throw new IllegalArgumentException(damaged + " (checksum mismatch: truncated or overwritten)" + rebuild);
        }
        try {
            b.position(8);
            int code = b.getInt();
            if (code < 0 || code >= Dtype.values().length) throw new IllegalArgumentException(damaged + " (unknown dtype " + code + ")" + rebuild);
            Dtype dtype = Dtype.values()[code];
            int bins = b.getInt();
            byte[] hash = new byte[32];
            b.get(hash);
            String identity = string(b, b.getInt());
            if (!Arrays.equals(hash, cfg.identityHash())) {
                throw new IllegalArgumentException("FeatureStore: " + dir + " holds features made with [" + identity + "], but this run uses ["
                        + cfg.identity() + "]; rebuild it with prepare --features, or set data.features=none");
            }
            int nShards = b.getInt();
            long[] shardSize = new long[nShards];
            for (int s = 0; s < nShards; s++) shardSize[s] = b.getLong();
            int n = b.getInt();
            if (n < 0 || nShards < 0) throw new IllegalArgumentException(damaged + " (negative counts)" + rebuild);
            Map<String, Integer> byKey = new HashMap<>(Math.max(16, n * 4 / 3 + 1));
            long[] segment = new long[n], offset = new long[n];
            int[] shard = new int[n], frames = new int[n], crc = new int[n];
            for (int e = 0; e < n; e++) {
                String id = string(b, b.getShort() & 0xFFFF);
                float speed = b.getFloat();
                segment[e] = b.getLong();
                shard[e] = b.getInt();
                offset[e] = b.getLong();
                frames[e] = b.getInt();
                crc[e] = b.getInt();
                long end = offset[e] + (long) frames[e] * bins * dtype.bytes;
                if (shard[e] < 0 || shard[e] >= nShards || offset[e] < SHARD_HEADER || frames[e] < 0 || end > shardSize[shard[e]]
                        || (offset[e] - SHARD_HEADER) % dtype.bytes != 0) {
                    throw new IllegalArgumentException(damaged + " (entry " + id + " points outside its shard)" + rebuild);
                }
                byKey.put(key(id, speed), e);
            }
            if (b.position() != raw.length - 4) throw new IllegalArgumentException(damaged + " (trailing bytes)" + rebuild);
            Path[] files = new Path[nShards];
            ByteBuffer[] maps = new ByteBuffer[nShards];
            for (int s = 0; s < nShards; s++) {
                files[s] = dir.resolve(shardName(s));
                maps[s] = mapShard(files[s], s, shardSize[s], dtype, rebuild);
            }
            return new FeatureStore(dir, dtype, identity, bins, files, maps, byKey, segment, offset, shard, frames, crc);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException(damaged + " (ends early)" + rebuild);
        }
    }

    private static ByteBuffer mapShard(Path f, int s, long expected, Dtype dtype, String rebuild) {
        long size;
        try {
            size = Files.size(f);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("FeatureStore: shard " + f + " is missing" + rebuild);
        } catch (IOException e) {
            throw new UncheckedIOException("FeatureStore: cannot read " + f + ": " + e.getMessage(), e);
        }
        if (size != expected) {
            throw new IllegalArgumentException("FeatureStore: shard " + f + (size < expected ? " is truncated" : " has the wrong size")
                    + ": expected " + expected + " bytes, found " + size + rebuild);
        }
        if (size > Integer.MAX_VALUE) throw new IllegalArgumentException("FeatureStore: shard " + f + " is larger than 2 GiB" + rebuild);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            ByteBuffer m = ch.map(FileChannel.MapMode.READ_ONLY, 0, size).order(ByteOrder.LITTLE_ENDIAN);
            if (size < SHARD_HEADER || m.getInt(0) != SHARD_MAGIC || m.getInt(4) != VERSION || m.getInt(8) != s
                    || m.getInt(12) != dtype.ordinal()) {
                throw new IllegalArgumentException("FeatureStore: " + f + " is not shard " + s + " of this store (bad header)" + rebuild);
            }
            return m;
        } catch (IOException e) {
            throw new UncheckedIOException("FeatureStore: cannot map " + f + ": " + e.getMessage(), e);
        }
    }

    private static String string(ByteBuffer b, int len) {
        if (len < 0 || len > b.remaining()) throw new BufferUnderflowException();
        byte[] s = new byte[len];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    static String shardName(int s) {
        return String.format(Locale.ROOT, "data-%05d.lmfd", s);
    }

    /**
     * {@link #build(Path, List, FeatureConfig, Dtype, SpeedPerturbation, int, SkipReport, long)}
     * with shards of at most {@link #DEFAULT_SHARD_BYTES}.
     */
    public static Summary build(Path dir, List<Utterance> utterances, FeatureConfig cfg, Dtype dtype, SpeedPerturbation speeds,
                                int threads, SkipReport report) {
        return build(dir, utterances, cfg, dtype, speeds, threads, report, DEFAULT_SHARD_BYTES);
    }

    /**
     * Computes the raw log-mel features of every utterance (at every speed factor of
     * {@code speeds}, or at 1.0 only when null) on {@code threads} threads and writes a store into
     * {@code dir}, replacing any store there. Utterances that fail to decode are recorded in
     * {@code report} and left out; an id listed twice for the same segment is stored once.
     *
     * @param shardBytes largest shard size in bytes (one utterance larger than this gets a shard of its own)
     * @throws IllegalArgumentException when one id is listed for two different segments, or the
     *     id is longer than 65535 bytes
     * @throws UncheckedIOException when writing fails
     */
    public static Summary build(Path dir, List<Utterance> utterances, FeatureConfig cfg, Dtype dtype, SpeedPerturbation speeds,
                                int threads, SkipReport report, long shardBytes) {
        lmu.util.Checks.positive("threads", threads);
        double[] factors = speeds == null ? new double[] {1.0} : speeds.factors();
        FeatureExtractor fx = new FeatureExtractor(cfg, FeatureExtractor.CmvnMode.NONE, null, null, speeds, 0);
        // distinct (id, factor) jobs in listing order
        Map<String, Long> seen = new HashMap<>();
        Map<String, Utterance> firstOf = new HashMap<>();
        List<Utterance> jobs = new ArrayList<>();
        for (Utterance u : utterances) {
            long seg = FeatureKeys.storeSegmentHash(u);
            Long prev = seen.putIfAbsent(u.id(), seg);
            if (prev != null) {
                if (prev != seg) {
                    Utterance p = firstOf.get(u.id());
                    throw new IllegalArgumentException("FeatureStore.build: utterance id " + u.id() + " is listed for two segments: "
                            + p.audio() + " at " + p.offset() + " s and " + u.audio() + " at " + u.offset() + " s");
                }
                continue;
            }
            if (u.id().getBytes(StandardCharsets.UTF_8).length > 0xFFFF) {
                throw new IllegalArgumentException("FeatureStore.build: utterance id longer than 65535 bytes: " + u.id().substring(0, 40) + "...");
            }
            firstOf.put(u.id(), u);
            jobs.add(u);
        }
        try {
            Files.createDirectories(dir);
            Files.deleteIfExists(dir.resolve(INDEX_FILE)); // no valid index until the build is complete
            try (DirectoryStream<Path> old = Files.newDirectoryStream(dir, "data-*.lmfd")) {
                for (Path p : old) Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("FeatureStore: cannot prepare " + dir + ": " + e.getMessage(), e);
        }
        Writer w = new Writer(dir, cfg, dtype, shardBytes);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        AtomicBoolean failed = new AtomicBoolean();
        try {
            int chunk = 16 * threads;
            for (int start = 0; start < jobs.size(); start += chunk) {
                List<Future<FeatureMatrix[]>> fs = new ArrayList<>();
                for (Utterance u : jobs.subList(start, Math.min(jobs.size(), start + chunk))) {
                    fs.add(pool.submit(() -> {
                        FeatureMatrix[] out = new FeatureMatrix[factors.length];
                        try {
                            for (int k = 0; k < factors.length; k++) out[k] = fx.rawFeatures(u, factors[k]);
                        } catch (RuntimeException e) {
                            report.skip(u, "unreadable audio", e.getMessage());
                            return null;
                        }
                        return out;
                    }));
                }
                for (int i = 0; i < fs.size(); i++) {
                    FeatureMatrix[] m = fs.get(i).get();
                    if (m == null) continue;
                    Utterance u = jobs.get(start + i);
                    for (int k = 0; k < factors.length; k++) w.add(u, factors[k], m[k]);
                }
            }
            return w.finish();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failed.set(true);
            throw new IllegalStateException("FeatureStore.build: interrupted", e);
        } catch (ExecutionException e) {
            failed.set(true);
            throw new IllegalStateException("FeatureStore.build: " + e.getCause(), e.getCause());
        } catch (IOException e) {
            failed.set(true);
            throw new UncheckedIOException("FeatureStore.build: cannot write " + dir + ": " + e.getMessage(), e);
        } finally {
            pool.shutdownNow();
            if (failed.get()) w.abandon();
        }
    }

    /** Appends entries to shards in order, then writes the index. Single-threaded. */
    private static final class Writer {
        private final Path dir;
        private final FeatureConfig cfg;
        private final Dtype dtype;
        private final long shardBytes;
        private final List<Long> shardSizes = new ArrayList<>();
        private final java.io.ByteArrayOutputStream entries = new java.io.ByteArrayOutputStream();
        private int count;
        private long frames;
        private FileChannel out;
        private long pos;
        private ByteBuffer buf = ByteBuffer.allocate(0);

        Writer(Path dir, FeatureConfig cfg, Dtype dtype, long shardBytes) {
            this.dir = dir;
            this.cfg = cfg;
            this.dtype = dtype;
            this.shardBytes = shardBytes;
        }

        void add(Utterance u, double speed, FeatureMatrix m) throws IOException {
            if (m.bins() != cfg.nMels()) throw new IllegalStateException("FeatureStore: features have " + m.bins() + " bins, expected " + cfg.nMels());
            long bytes = (long) m.values().length * dtype.bytes;
            if (out == null || (pos + bytes > shardBytes && pos > SHARD_HEADER)) newShard();
            if (buf.capacity() < bytes) buf = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
            buf.clear();
            float[] v = m.values();
            if (dtype == Dtype.FLOAT32) {
                buf.asFloatBuffer().put(v);
            } else {
                ShortBuffer s = buf.asShortBuffer();
                for (float x : v) s.put(HalfFloats.floatToF16(x));
            }
            buf.limit((int) bytes);
            CRC32C c = new CRC32C();
            c.update(buf.array(), 0, (int) bytes);
            long at = pos;
            while (buf.hasRemaining()) pos += out.write(buf);
            byte[] id = u.id().getBytes(StandardCharsets.UTF_8);
            ByteBuffer e = ByteBuffer.allocate(2 + id.length + 4 + 8 + 4 + 8 + 4 + 4).order(ByteOrder.LITTLE_ENDIAN);
            e.putShort((short) id.length).put(id).putFloat((float) speed).putLong(FeatureKeys.storeSegmentHash(u))
                    .putInt(shardSizes.size() - 1).putLong(at).putInt(m.frames()).putInt((int) c.getValue());
            entries.write(e.array());
            count++;
            frames += m.frames();
        }

        private void newShard() throws IOException {
            closeShard();
            int s = shardSizes.size();
            out = FileChannel.open(dir.resolve(shardName(s)), StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE);
            ByteBuffer h = ByteBuffer.allocate(SHARD_HEADER).order(ByteOrder.LITTLE_ENDIAN);
            h.putInt(SHARD_MAGIC).putInt(VERSION).putInt(s).putInt(dtype.ordinal()).flip();
            pos = 0;
            while (h.hasRemaining()) pos += out.write(h);
            shardSizes.add(pos);
        }

        private void closeShard() throws IOException {
            if (out == null) return;
            shardSizes.set(shardSizes.size() - 1, pos);
            out.force(false);
            out.close();
            out = null;
        }

        Summary finish() throws IOException {
            if (out == null) newShard(); // an empty store still has one (header-only) shard
            closeShard();
            byte[] identity = cfg.identity().getBytes(StandardCharsets.UTF_8);
            byte[] ents = entries.toByteArray();
            ByteBuffer b = ByteBuffer.allocate(4 * 4 + 32 + 4 + identity.length + 4 + 8 * shardSizes.size() + 4 + ents.length + 4)
                    .order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(INDEX_MAGIC).putInt(VERSION).putInt(dtype.ordinal()).putInt(cfg.nMels()).put(cfg.identityHash());
            b.putInt(identity.length).put(identity).putInt(shardSizes.size());
            long total = 0;
            for (long s : shardSizes) {
                b.putLong(s);
                total += s;
            }
            b.putInt(count).put(ents);
            CRC32C c = new CRC32C();
            c.update(b.array(), 0, b.position());
            b.putInt((int) c.getValue());
            Path tmp = Files.createTempFile(dir, "index", ".part");
            Files.write(tmp, b.array());
            try {
                Files.move(tmp, dir.resolve(INDEX_FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, dir.resolve(INDEX_FILE), StandardCopyOption.REPLACE_EXISTING);
            }
            return new Summary(count, frames, total + b.capacity(), shardSizes.size());
        }

        void abandon() {
            try {
                if (out != null) out.close();
            } catch (IOException e) {
                // the build already failed; its partial shards have no index and are never read
            }
        }
    }
}
