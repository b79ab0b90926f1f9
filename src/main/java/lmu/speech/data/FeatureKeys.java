package lmu.speech.data;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import lmu.speech.features.FeatureConfig;

/**
 * The identity of stored features, shared by {@link FeatureCache} (one file per segment) and
 * {@link FeatureStore} (memory-mapped, built by {@code prepare}): which audio segment, at which
 * speed factor, with which feature configuration ({@link FeatureConfig#identity()}).
 */
final class FeatureKeys {
    private FeatureKeys() {}

    /** The audio segment of {@code u}: absolute normalised path, offset and duration (exact bits). */
    static String segment(Utterance u) {
        return u.audio().toAbsolutePath().normalize() + "\n" + Double.doubleToLongBits(u.offset()) + "\n"
                + Double.doubleToLongBits(u.duration());
    }

    /**
     * A 64-bit digest of the segment as a {@link FeatureStore} records it: the audio file's name
     * (without its folder, so that a prepared dataset can be moved), offset and duration.
     */
    static long storeSegmentHash(Utterance u) {
        Path name = u.audio().getFileName();
        byte[] d = sha256((name == null ? "" : name.toString()) + "\n" + Double.doubleToLongBits(u.offset()) + "\n"
                + Double.doubleToLongBits(u.duration()));
        long h = 0;
        for (int i = 0; i < 8; i++) h = (h << 8) | (d[i] & 0xFF);
        return h;
    }

    /** SHA-256 of {@code s} in UTF-8. */
    static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("FeatureKeys: SHA-256 unavailable", e);
        }
    }
}
