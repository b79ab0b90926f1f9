package lmu.speech.text;

/**
 * English words for whole numbers, as used when a transcript's digits are spelled out:
 * {@code cardinal(2024)} is {@code "two thousand twenty four"} (no "and", no hyphens, so the
 * result is already in the model vocabulary), {@code ordinal(21)} is {@code "twenty first"}.
 */
public final class NumberWords {
    private static final String[] SMALL = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
        "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
        "nineteen"};
    private static final String[] TENS = {"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty",
        "ninety"};
    private static final String[] SCALES = {"", " thousand", " million", " billion", " trillion"};

    /** Largest number spelled: below 10^15. */
    public static final long MAX = 999_999_999_999_999L;

    private NumberWords() {}

    /**
     * @param n a number in [0, {@link #MAX}]
     * @throws IllegalArgumentException outside that range
     */
    public static String cardinal(long n) {
        if (n < 0 || n > MAX) throw new IllegalArgumentException("NumberWords: n must be in [0, " + MAX + "], got " + n);
        if (n == 0) return SMALL[0];
        StringBuilder sb = new StringBuilder();
        long scale = 1_000_000_000_000L;
        for (int s = SCALES.length - 1; s >= 0; s--, scale /= 1000) {
            int group = (int) (n / scale % 1000);
            if (group == 0) continue;
            if (!sb.isEmpty()) sb.append(' ');
            below1000(group, sb);
            sb.append(SCALES[s]);
        }
        return sb.toString();
    }

    /**
     * @param n a number in [1, {@link #MAX}]
     * @throws IllegalArgumentException outside that range
     */
    public static String ordinal(long n) {
        if (n < 1) throw new IllegalArgumentException("NumberWords: ordinal needs n >= 1, got " + n);
        String c = cardinal(n);
        int sp = c.lastIndexOf(' ');
        String head = c.substring(0, sp + 1);
        String last = c.substring(sp + 1);
        String ord = switch (last) {
            case "one" -> "first";
            case "two" -> "second";
            case "three" -> "third";
            case "five" -> "fifth";
            case "eight" -> "eighth";
            case "nine" -> "ninth";
            case "twelve" -> "twelfth";
            default -> last.endsWith("y") ? last.substring(0, last.length() - 1) + "ieth" : last + "th";
        };
        return head + ord;
    }

    private static void below1000(int n, StringBuilder sb) {
        if (n >= 100) {
            sb.append(SMALL[n / 100]).append(" hundred");
            n %= 100;
            if (n == 0) return;
            sb.append(' ');
        }
        if (n < 20) {
            sb.append(SMALL[n]);
        } else {
            sb.append(TENS[n / 10]);
            if (n % 10 != 0) sb.append(' ').append(SMALL[n % 10]);
        }
    }
}
