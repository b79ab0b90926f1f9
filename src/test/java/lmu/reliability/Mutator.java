package lmu.reliability;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import lmu.util.Rng;

/**
 * Seeded mutations of a valid input, for fuzzing parsers: truncations, bit flips, random bytes,
 * forged 16/32/64-bit length fields (little and big endian, huge, negative, zero, just past the
 * end), deleted, duplicated and inserted runs, and for text formats token replacements with
 * values parsers tend to mishandle (huge and non-finite numbers, nulls, unbalanced brackets, deep
 * nesting, YAML aliases and tags, control characters and invalid UTF-8).
 */
final class Mutator {
    private static final String[] TOKENS = {
        "-1", "0", "-0.0", "1e999", "-1e999", "NaN", ".nan", ".inf", "-.inf", "99999999999999999999", "2147483648",
        "-2147483649", "9223372036854775808", "1e-320", "null", "~", "true", "no", "[]", "{}", "\"\"", "''", "'", "\"", "{", "}", "[",
        "]", ":", ",", ": :", "- ", "\n", "\t", "#", "&a", "*a", "<<: *a", "!!binary", "!!python/object", "!!float", "? ", "|", ">",
        "\\", "\\u0000", "\u0000", "\uFFFF", "\uD800", "é", "\"\\ud800\"", "<SIL>", "{XS}", "/", "../../../../etc/passwd", "audio_filepath",
        "duration", "text", "offset", "segments", "audios", "dtype", "shape", "data_offsets", "F16", "BF16", "I64", "sha256", "step",
    };

    private Mutator() {}

    /** One mutated copy of {@code seed}; {@code text} adds text-level mutations. */
    static byte[] mutate(byte[] seed, Rng rng, boolean text) {
        byte[] b = seed;
        int rounds = rng.nextInt(4) == 0 ? 2 + rng.nextInt(3) : 1; // sometimes stack several mutations
        for (int r = 0; r < rounds; r++) b = text && rng.nextInt(2) == 0 ? textMutation(b, rng) : binaryMutation(b, rng);
        return b;
    }

    private static byte[] binaryMutation(byte[] seed, Rng rng) {
        int n = seed.length;
        if (n == 0) return new byte[] {(byte) rng.nextInt(256)};
        byte[] b = seed.clone();
        switch (rng.nextInt(9)) {
            case 0 -> {
                return Arrays.copyOf(seed, rng.nextInt(n)); // truncated
            }
            case 1 -> {
                for (int i = 0, k = 1 + rng.nextInt(8); i < k; i++) b[rng.nextInt(n)] ^= (byte) (1 << rng.nextInt(8));
            }
            case 2 -> {
                for (int i = 0, k = 1 + rng.nextInt(4); i < k; i++) b[rng.nextInt(n)] = (byte) rng.nextInt(256);
            }
            case 3 -> forge(b, rng, 4);
            case 4 -> forge(b, rng, 2);
            case 5 -> forge(b, rng, 8);
            case 6 -> { // delete a run
                int at = rng.nextInt(n), len = 1 + rng.nextInt(Math.min(64, n - at));
                byte[] out = new byte[n - len];
                System.arraycopy(seed, 0, out, 0, at);
                System.arraycopy(seed, at + len, out, at, n - at - len);
                return out;
            }
            case 7 -> { // duplicate a run in place (repeated chunks, pages, frames)
                int at = rng.nextInt(n), len = 1 + rng.nextInt(Math.min(512, n - at));
                return splice(seed, rng.nextInt(n + 1), Arrays.copyOfRange(seed, at, at + len));
            }
            default -> { // insert random bytes
                byte[] ins = new byte[1 + rng.nextInt(16)];
                for (int i = 0; i < ins.length; i++) ins[i] = (byte) rng.nextInt(256);
                return splice(seed, rng.nextInt(n + 1), ins);
            }
        }
        return b;
    }

    /** Overwrites a field of {@code width} bytes with a value a length field should never hold. */
    private static void forge(byte[] b, Rng rng, int width) {
        if (b.length < width) return;
        // headers are where length fields live: prefer the first 128 bytes
        int limit = rng.nextInt(2) == 0 ? Math.min(b.length - width + 1, 128) : b.length - width + 1;
        int at = rng.nextInt(limit);
        long v = switch (rng.nextInt(7)) {
            case 0 -> -1L;
            case 1 -> width == 2 ? 0x7FFF : width == 4 ? 0x7FFF_FFFFL : Long.MAX_VALUE;
            case 2 -> width == 2 ? 0x8000 : width == 4 ? 0x8000_0000L : Long.MIN_VALUE;
            case 3 -> 0;
            case 4 -> b.length + 1L + rng.nextInt(16); // just past the end
            case 5 -> (long) b.length << (4 + rng.nextInt(20)); // large multiple of the size
            default -> rng.nextInt(1 << 16);
        };
        boolean little = rng.nextInt(2) == 0;
        for (int i = 0; i < width; i++) {
            int shift = 8 * (little ? i : width - 1 - i);
            b[at + i] = (byte) (v >>> shift);
        }
    }

    private static byte[] textMutation(byte[] seed, Rng rng) {
        String s = new String(seed, StandardCharsets.UTF_8);
        int n = s.length();
        switch (rng.nextInt(6)) {
            case 0, 1 -> { // replace a token (a run of letters/digits/signs, or one other character) by an interesting one
                if (n == 0) return TOKENS[rng.nextInt(TOKENS.length)].getBytes(StandardCharsets.UTF_8);
                int at = rng.nextInt(n), end = at;
                while (end < n && (Character.isLetterOrDigit(s.charAt(end)) || "+-._".indexOf(s.charAt(end)) >= 0)) end++;
                if (end == at) end = at + 1;
                return (s.substring(0, at) + TOKENS[rng.nextInt(TOKENS.length)] + s.substring(end)).getBytes(StandardCharsets.UTF_8);
            }
            case 2 -> { // deep nesting
                String open = rng.nextInt(2) == 0 ? "[" : "{\"a\":";
                int depth = 100 + rng.nextInt(3000);
                int at = rng.nextInt(n + 1);
                return (s.substring(0, at) + open.repeat(depth) + s.substring(at)).getBytes(StandardCharsets.UTF_8);
            }
            case 3 -> { // a line duplicated many times, or removed
                String[] lines = s.split("\n", -1);
                int i = rng.nextInt(lines.length);
                StringBuilder sb = new StringBuilder();
                boolean remove = rng.nextInt(2) == 0;
                int copies = 2 + rng.nextInt(50);
                for (int k = 0; k < lines.length; k++) {
                    if (k == i) {
                        if (remove) continue;
                        for (int c = 1; c < copies; c++) sb.append(lines[k]).append('\n');
                    }
                    sb.append(lines[k]);
                    if (k < lines.length - 1) sb.append('\n');
                }
                return sb.toString().getBytes(StandardCharsets.UTF_8);
            }
            case 4 -> { // invalid UTF-8 or a control character
                byte[][] bad = {{(byte) 0xC3}, {(byte) 0xFF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {0}, {0x1B}, {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}};
                return splice(seed, rng.nextInt(seed.length + 1), bad[rng.nextInt(bad.length)]);
            }
            default -> { // a long run of one character (a huge string or number)
                char c = "9a \"\\-".charAt(rng.nextInt(6));
                int at = rng.nextInt(n + 1);
                return (s.substring(0, at) + String.valueOf(c).repeat(1 + rng.nextInt(20_000)) + s.substring(at))
                        .getBytes(StandardCharsets.UTF_8);
            }
        }
    }

    private static byte[] splice(byte[] seed, int at, byte[] ins) {
        byte[] out = new byte[seed.length + ins.length];
        System.arraycopy(seed, 0, out, 0, at);
        System.arraycopy(ins, 0, out, at, ins.length);
        System.arraycopy(seed, at, out, at + ins.length, seed.length - at);
        return out;
    }
}
