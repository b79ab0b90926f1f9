package lmu.speech.text;

import java.util.Arrays;
import java.util.List;

/**
 * The output symbols of a CTC model: index 0 is the blank, the others are characters. The
 * vocabulary is saved with every model, so decoding never depends on a side file.
 *
 * <pre>
 * jshell> Vocabulary.english().encode("it's")
 * $1 ==> int[4] { 11, 22, 2, 21 }
 * </pre>
 */
public final class Vocabulary {
    /** Index of the CTC blank. */
    public static final int BLANK = 0;

    private final char[] symbols; // symbols[0] is unused (blank)
    private final int[] index = new int[Character.MAX_VALUE + 1];

    /**
     * @param characters the non-blank symbols in index order (index 1 first); no duplicates
     */
    public Vocabulary(String characters) {
        if (characters.isEmpty()) {
            throw new IllegalArgumentException("Vocabulary: needs at least one character besides the blank");
        }
        symbols = new char[characters.length() + 1];
        Arrays.fill(index, -1);
        for (int i = 0; i < characters.length(); i++) {
            char c = characters.charAt(i);
            if (index[c] >= 0) {
                throw new IllegalArgumentException("Vocabulary: duplicate character '" + c + "' at position " + i);
            }
            symbols[i + 1] = c;
            index[c] = i + 1;
        }
    }

    /** The 29-symbol English vocabulary: blank, space, apostrophe, a–z. */
    public static Vocabulary english() {
        return new Vocabulary(" 'abcdefghijklmnopqrstuvwxyz");
    }

    /** Number of symbols including the blank (V). */
    public int size() {
        return symbols.length;
    }

    /** The non-blank characters in index order: what {@link #Vocabulary(String)} takes back. */
    public String characters() {
        return new String(symbols, 1, symbols.length - 1);
    }

    /** Index of {@code c}, or -1 when it is not in the vocabulary. */
    public int indexOf(char c) {
        return index[c];
    }

    /** Whether {@code c} is one of the symbols. */
    public boolean contains(char c) {
        return index[c] > 0;
    }

    /**
     * Label ids of already-normalised text.
     *
     * @throws IllegalArgumentException naming the first character not in the vocabulary
     */
    public int[] encode(String text) {
        int[] ids = new int[text.length()];
        for (int i = 0; i < ids.length; i++) {
            int id = index[text.charAt(i)];
            if (id <= 0) {
                throw new IllegalArgumentException(
                        "Vocabulary: character '" + text.charAt(i) + "' (U+" + String.format("%04X", (int) text.charAt(i))
                                + ") at position " + i + " of \"" + text + "\" is not in the vocabulary");
            }
            ids[i] = id;
        }
        return ids;
    }

    /** Text of label ids; blanks are skipped. */
    public String decode(int[] ids, int length) {
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            int id = ids[i];
            if (id < 0 || id >= symbols.length) {
                throw new IllegalArgumentException("Vocabulary: label id " + id + " at position " + i + " outside [0, " + symbols.length + ")");
            }
            if (id != BLANK) sb.append(symbols[id]);
        }
        return sb.toString();
    }

    /** Text of label ids; blanks are skipped. */
    public String decode(List<Integer> ids) {
        int[] a = ids.stream().mapToInt(Integer::intValue).toArray();
        return decode(a, a.length);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Vocabulary v && Arrays.equals(symbols, v.symbols);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(symbols);
    }

    @Override
    public String toString() {
        return "Vocabulary(" + size() + ": blank + \"" + characters() + "\")";
    }
}
