package lmu.speech.text;

import java.text.Normalizer;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Maps a transcript to the model vocabulary (by default {@link Vocabulary#english()}: lowercase
 * a–z, apostrophe, single spaces). The rules, applied in this order:
 *
 * <ol>
 *   <li>{@link Mode#GIGASPEECH} only: the tags {@code <COMMA> <PERIOD> <QUESTIONMARK>
 *       <EXCLAMATIONPOINT>} and the garbage tags {@code <SIL> <MUSIC> <NOISE> <OTHER>} become
 *       spaces; any other {@code <TAG>} is removed too and counted in {@link Stats#tags()}. A
 *       segment whose text is nothing but garbage tags is not speech: {@link
 *       #isGarbageOnly(String)} says so and {@link #normalize} returns the empty string.
 *   <li>Lowercase ({@link java.util.Locale#ROOT}); canonical decomposition (NFD) and removal of
 *       the combining marks, so accented letters fold to their base letter ({@code café → cafe});
 *       ß, æ, œ, ø, ł, đ, þ, ð become ss, ae, oe, o, l, d, th, d.
 *   <li>Hyphens and dashes, underscores, slashes and all whitespace become spaces (word
 *       separators: {@code well-known → well known}). Apostrophe look-alikes ({@code ’ ‘ ʼ `
 *       ´}) become {@code '}.
 *   <li>An apostrophe is kept only between two letters ({@code it's}) or after a word ending in
 *       s ({@code the dogs' bowls}); elsewhere (quotes, {@code 'cause}) it is dropped. A dropped
 *       word-initial apostrophe opens a quote, and the next word-final one closes it and is
 *       dropped too, so {@code 'apples'} gives {@code apples}.
 *   <li>Every other character outside the vocabulary is dropped and counted per character in
 *       {@link Stats#dropped()}: digits (a model of letters cannot spell them, so a dataset whose
 *       transcripts hold digits should be normalised into words before training), punctuation,
 *       symbols and letters of other scripts. Punctuation and symbols are dropped as word
 *       separators ({@code end.start → end start}); digits and letters are dropped in place.
 *   <li>Runs of spaces become one space; leading and trailing spaces go.
 * </ol>
 *
 * <p>Instances are immutable and thread-safe; {@link Stats} collects counts across calls.
 *
 * <pre>
 * jshell> TextNormalizer.gigaSpeech().normalize("WELL-KNOWN <COMMA> ISN'T IT <QUESTIONMARK>")
 * $1 ==> "well known isn't it"
 * </pre>
 */
public final class TextNormalizer {
    /** Which tag rules apply before the character rules. */
    public enum Mode {
        /** Character rules only. */
        PLAIN,
        /** GigaSpeech {@code text_tn}: punctuation and garbage tags removed as in its scoring. */
        GIGASPEECH
    }

    private static final Pattern TAG = Pattern.compile("<[^<>\\s]*>");
    private static final Map<String, Boolean> GIGASPEECH_TAGS = Map.of(
            "<COMMA>", false, "<PERIOD>", false, "<QUESTIONMARK>", false, "<EXCLAMATIONPOINT>", false,
            "<SIL>", true, "<MUSIC>", true, "<NOISE>", true, "<OTHER>", true); // value: is garbage

    private static final Pattern NUMBER = Pattern.compile("(\\d+)(st|nd|rd|th)?(?![a-z])|(\\d+)");

    private final Mode mode;
    private final Vocabulary vocabulary;
    private final boolean spellNumbers;

    /**
     * @param mode which tag rules apply
     * @param vocabulary characters to keep; must contain the space
     * @throws IllegalArgumentException when the vocabulary has no space
     */
    public TextNormalizer(Mode mode, Vocabulary vocabulary) {
        this(mode, vocabulary, false);
    }

    private TextNormalizer(Mode mode, Vocabulary vocabulary, boolean spellNumbers) {
        this.spellNumbers = spellNumbers;
        this.mode = Objects.requireNonNull(mode, "mode");
        this.vocabulary = Objects.requireNonNull(vocabulary, "vocabulary");
        if (!vocabulary.contains(' ')) {
            throw new IllegalArgumentException("TextNormalizer: vocabulary must contain the space ' ', got " + vocabulary);
        }
    }

    /** Plain rules, English vocabulary. */
    public static TextNormalizer plain() {
        return new TextNormalizer(Mode.PLAIN, Vocabulary.english());
    }

    /** GigaSpeech rules, English vocabulary. */
    public static TextNormalizer gigaSpeech() {
        return new TextNormalizer(Mode.GIGASPEECH, Vocabulary.english());
    }

    /**
     * The same rules, except that runs of ASCII digits are spelled out as English words instead of
     * being dropped: {@code "press 1"} → {@code "press one"}, {@code "500"} → {@code "five
     * hundred"}, {@code "21st"} → {@code "twenty first"}, {@code "3D"} → {@code "three d"}. Runs
     * longer than 15 digits are spelled digit by digit. Separators inside numbers are not read
     * ({@code "2.5"} → {@code "two five"}), so use this for transcripts with simple numbers only.
     */
    public TextNormalizer spellingNumbers() {
        return new TextNormalizer(mode, vocabulary, true);
    }

    /** Whether digits are spelled out ({@link #spellingNumbers()}) rather than dropped. */
    public boolean spellsNumbers() {
        return spellNumbers;
    }

    public Mode mode() {
        return mode;
    }

    public Vocabulary vocabulary() {
        return vocabulary;
    }

    /**
     * Whether a GigaSpeech segment text consists only of garbage tags ({@code <SIL> <MUSIC>
     * <NOISE> <OTHER>}, one or more, blanks between): such segments are not training speech.
     */
    public static boolean isGarbageOnly(String text) {
        String rest = text.strip();
        if (rest.isEmpty()) return false;
        Matcher m = TAG.matcher(rest);
        StringBuilder other = new StringBuilder();
        int last = 0;
        boolean anyGarbage = false;
        while (m.find()) {
            other.append(rest, last, m.start());
            if (Boolean.TRUE.equals(GIGASPEECH_TAGS.get(m.group()))) anyGarbage = true;
            else other.append(m.group());
            last = m.end();
        }
        other.append(rest, last, rest.length());
        return anyGarbage && other.toString().isBlank();
    }

    /** {@link #normalize(String, Stats)} without counting. */
    public String normalize(String text) {
        return normalize(text, null);
    }

    /**
     * @param text a raw transcript
     * @param stats where dropped characters and removed tags are counted, or null
     * @return the normalised text, possibly empty (always empty for a garbage-only GigaSpeech
     *     segment)
     */
    public String normalize(String text, Stats stats) {
        Objects.requireNonNull(text, "text");
        if (stats != null) stats.addTexts(1);
        String s = text;
        if (mode == Mode.GIGASPEECH) {
            if (isGarbageOnly(s)) {
                if (stats != null) stats.addGarbage();
                return "";
            }
            Matcher m = TAG.matcher(s);
            StringBuilder sb = new StringBuilder(s.length());
            while (m.find()) {
                if (stats != null) stats.addTag(m.group());
                m.appendReplacement(sb, " ");
            }
            m.appendTail(sb);
            s = sb.toString();
        }
        s = Normalizer.normalize(s.toLowerCase(java.util.Locale.ROOT), Normalizer.Form.NFD);
        if (spellNumbers) s = spell(s);

        // pass 1: map every code point to a vocabulary character, a separator (space) or nothing
        StringBuilder mapped = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            String folded = fold(cp);
            if (folded != null) {
                mapped.append(folded);
                continue;
            }
            int type = Character.getType(cp);
            if (type == Character.NON_SPACING_MARK || type == Character.ENCLOSING_MARK
                    || type == Character.COMBINING_SPACING_MARK || type == Character.FORMAT) {
                continue; // accents after NFD, zero-width characters
            }
            if (cp < Character.MAX_VALUE && vocabulary.contains((char) cp)) {
                mapped.append((char) cp);
                continue;
            }
            if (stats != null) stats.addDropped(cp);
            boolean separator = !Character.isLetterOrDigit(cp);
            if (separator) mapped.append(' ');
        }

        // pass 2: apostrophe placement and single spaces
        StringBuilder out = new StringBuilder(mapped.length());
        boolean quoteOpen = false; // a dropped word-initial apostrophe waits for its closing one
        for (int i = 0; i < mapped.length(); i++) {
            char c = mapped.charAt(i);
            if (c == '\'') {
                char prev = i > 0 ? mapped.charAt(i - 1) : ' ';
                char next = i + 1 < mapped.length() ? mapped.charAt(i + 1) : ' ';
                boolean inside = isWordLetter(prev) && isWordLetter(next);
                boolean wordEnd = isWordLetter(prev) && !isWordLetter(next);
                boolean pluralPossessive = wordEnd && prev == 's' && next != '\'' && !quoteOpen;
                if (wordEnd) quoteOpen = false;
                else if (!inside && isWordLetter(next)) quoteOpen = true;
                if (!(inside || pluralPossessive)) {
                    if (stats != null) stats.addDropped('\'');
                    continue;
                }
            }
            if (c == ' ' && (out.isEmpty() || out.charAt(out.length() - 1) == ' ')) continue;
            out.append(c);
        }
        int n = out.length();
        if (n > 0 && out.charAt(n - 1) == ' ') out.setLength(n - 1);
        return out.toString();
    }

    private static String spell(String s) {
        Matcher m = NUMBER.matcher(s);
        StringBuilder sb = new StringBuilder(s.length() + 16);
        while (m.find()) {
            boolean ordinal = m.group(2) != null;
            String digits = ordinal || m.group(1) != null ? m.group(1) : m.group(3);
            String words;
            if (digits.length() > 15) {
                StringBuilder d = new StringBuilder();
                for (char c : digits.toCharArray()) d.append(NumberWords.cardinal(c - '0')).append(' ');
                words = d.toString().strip();
            } else {
                long n = Long.parseLong(digits);
                words = ordinal && n > 0 ? NumberWords.ordinal(n) : NumberWords.cardinal(n) + (ordinal ? " " + m.group(2) : "");
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(" " + words + " "));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    private boolean isWordLetter(char c) {
        return c != ' ' && c != '\'' && vocabulary.contains(c);
    }

    /** Fixed mappings; null when the code point has none. */
    private static String fold(int cp) {
        return switch (cp) {
            case 'ß' -> "ss";
            case 'æ' -> "ae";
            case 'œ' -> "oe";
            case 'ø' -> "o";
            case 'ł' -> "l";
            case 'đ', 'ð' -> "d";
            case 'þ' -> "th";
            case 'ı' -> "i";
            case '’', '‘', 'ʼ', '`', '´', 'ʻ' -> "'";
            case '-', '‐', '‑', '‒', '–', '—', '―', '−', '_', '/', '\\' -> " ";
            default -> Character.isWhitespace(cp) || Character.isSpaceChar(cp) ? " " : null;
        };
    }

    /**
     * Counts collected while normalising a dataset: texts seen, garbage-only segments, removed
     * tags and dropped characters (each by what it was). Thread-safe.
     */
    public static final class Stats {
        private long texts;
        private long garbage;
        private final TreeMap<Integer, Long> dropped = new TreeMap<>();
        private final TreeMap<String, Long> tags = new TreeMap<>();

        synchronized void addTexts(long n) {
            texts += n;
        }

        synchronized void addGarbage() {
            garbage++;
        }

        synchronized void addDropped(int codePoint) {
            dropped.merge(codePoint, 1L, Long::sum);
        }

        synchronized void addTag(String tag) {
            tags.merge(tag, 1L, Long::sum);
        }

        /** Number of texts normalised. */
        public synchronized long texts() {
            return texts;
        }

        /** Number of garbage-only GigaSpeech segments. */
        public synchronized long garbageOnly() {
            return garbage;
        }

        /** Dropped characters by code point, sorted. */
        public synchronized Map<Integer, Long> dropped() {
            return new TreeMap<>(dropped);
        }

        /** Count of one dropped character. */
        public synchronized long dropped(char c) {
            return dropped.getOrDefault((int) c, 0L);
        }

        /** Total number of dropped characters. */
        public synchronized long droppedTotal() {
            return dropped.values().stream().mapToLong(Long::longValue).sum();
        }

        /** Removed tags (GigaSpeech mode) by tag, sorted. */
        public synchronized Map<String, Long> tags() {
            return new TreeMap<>(tags);
        }

        /** Adds another set of counts to this one. */
        public void add(Stats other) {
            if (other == this) throw new IllegalArgumentException("Stats.add: cannot add a Stats to itself");
            long t, g;
            Map<Integer, Long> d;
            Map<String, Long> tg;
            synchronized (other) {
                t = other.texts;
                g = other.garbage;
                d = new TreeMap<>(other.dropped);
                tg = new TreeMap<>(other.tags);
            }
            synchronized (this) {
                texts += t;
                garbage += g;
                d.forEach((k, v) -> dropped.merge(k, v, Long::sum));
                tg.forEach((k, v) -> tags.merge(k, v, Long::sum));
            }
        }

        /**
         * One-line summary, e.g. {@code 3 texts, 1 garbage-only, dropped 4 characters: '1' (U+0031)
         * x3, ',' (U+002C) x1; tags: <COMMA> x2}.
         */
        @Override
        public synchronized String toString() {
            StringBuilder sb = new StringBuilder();
            sb.append(texts).append(" texts");
            if (garbage > 0) sb.append(", ").append(garbage).append(" garbage-only");
            long total = dropped.values().stream().mapToLong(Long::longValue).sum();
            sb.append(", dropped ").append(total).append(" characters");
            String sep = ": ";
            for (var e : dropped.entrySet()) {
                int cp = e.getKey();
                String shown = Character.isISOControl(cp) ? "" : "'" + new String(Character.toChars(cp)) + "' ";
                sb.append(sep).append(shown).append(String.format("(U+%04X) x%d", cp, e.getValue()));
                sep = ", ";
            }
            if (!tags.isEmpty()) {
                sb.append("; tags");
                sep = ": ";
                for (var e : tags.entrySet()) {
                    sb.append(sep).append(e.getKey()).append(" x").append(e.getValue());
                    sep = ", ";
                }
            }
            return sb.toString();
        }
    }
}
