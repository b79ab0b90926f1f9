package lmu.speech.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HexFormat;
import lmu.speech.features.FeatureConfig;
import lmu.speech.features.FeatureMatrix;

/**
 * On-disk cache of raw log-mel features (before normalisation and SpecAugment), one file per
 * (utterance segment, speed factor): the lazy companion of the {@link FeatureStore} that
 * {@code prepare} builds. The key is a SHA-256 of the segment ({@link FeatureKeys}: absolute path,
 * offset, duration), the audio file's size and modification time, the speed factor and the
 * feature configuration ({@link FeatureConfig#identity()}), so a changed file or configuration
 * never reads stale features. Files are {@code <dir>/<2 hex>/<64 hex>.lmf}: magic {@code LMUF}, format version 1, frames T, bins C
 * (little-endian int32), then T * C little-endian float32 values row-major (T, C). Writes go to a
 * temporary file that is renamed into place, so concurrent writers and crashes leave no partial
 * files; an unreadable or inconsistent file counts as a miss. Thread-safe.
 */
public final class FeatureCache {
    private static final int MAGIC = 0x46554D4C; // "LMUF" little-endian
    private static final int VERSION = 1;
    private final Path dir;
    private final String configKey;

    /**
     * @param dir cache directory (created when missing)
     * @param cfg feature configuration; part of every key
     */
    public FeatureCache(Path dir, FeatureConfig cfg) {
        this.dir = dir;
        this.configKey = cfg.identity();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("FeatureCache: cannot create " + dir, e);
        }
    }

    /** Where the features of this segment at this speed are stored. */
    Path file(Utterance u, double speed) throws IOException {
        BasicFileAttributes a = Files.readAttributes(u.audio(), BasicFileAttributes.class);
        String key = FeatureKeys.segment(u) + "\n" + a.size() + "\n" + a.lastModifiedTime().toMillis() + "\n"
                + Double.doubleToLongBits(speed) + "\n" + configKey;
        String hex = HexFormat.of().formatHex(FeatureKeys.sha256(key));
        return dir.resolve(hex.substring(0, 2)).resolve(hex + ".lmf");
    }

    /** The cached features, or null when absent or unreadable. */
    public FeatureMatrix get(Utterance u, double speed) {
        try {
            Path f = file(u, speed);
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                long size = ch.size();
                if (size < 16) return null;
                ByteBuffer h = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
                while (h.hasRemaining() && ch.read(h) >= 0) { }
                h.flip();
                if (h.remaining() < 16 || h.getInt(0) != MAGIC || h.getInt(4) != VERSION) return null;
                int frames = h.getInt(8), bins = h.getInt(12);
                if (frames < 0 || bins <= 0 || 16 + 4L * frames * bins != size) return null;
                ByteBuffer body = ByteBuffer.allocate((int) (size - 16)).order(ByteOrder.LITTLE_ENDIAN);
                while (body.hasRemaining() && ch.read(body) >= 0) { }
                if (body.hasRemaining()) return null;
                body.flip();
                float[] v = new float[frames * bins];
                body.asFloatBuffer().get(v);
                return new FeatureMatrix(v, frames, bins);
            }
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            return null;
        }
    }

    /** Stores features (best effort: a write failure leaves the cache without this entry). */
    public void put(Utterance u, double speed, FeatureMatrix m) {
        try {
            Path f = file(u, speed);
            Files.createDirectories(f.getParent());
            ByteBuffer b = ByteBuffer.allocate(16 + 4 * m.values().length).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(MAGIC).putInt(VERSION).putInt(m.frames()).putInt(m.bins());
            b.asFloatBuffer().put(m.values());
            Path tmp = Files.createTempFile(f.getParent(), "tmp", ".part");
            Files.write(tmp, b.array());
            try {
                Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            // a full disk or read-only cache must not stop training; the features are recomputed next time
        }
    }
}
