package lmu.speech.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TextNormalizerTest {
    private final TextNormalizer plain = TextNormalizer.plain();
    private final TextNormalizer giga = TextNormalizer.gigaSpeech();

    @Test
    void lowercasesAndCollapsesSpaces() {
        assertEquals("hello world", plain.normalize("  Hello \t\n  WORLD  "));
        assertEquals("", plain.normalize("   "));
    }

    @Test
    void foldsAccentsAndSpecialLetters() {
        assertEquals("cafe naive uber", plain.normalize("Café naïve Über"));
        assertEquals("strasse aeon oeuvre oslo lodz", plain.normalize("Straße Æon œuvre Øslo Łódź"));
        // already-decomposed input (e + U+0301) folds the same way
        assertEquals("cafe", plain.normalize("cafe\u0301"));
    }

    @Test
    void hyphensDashesAndSlashesSeparateWords() {
        assertEquals("well known and so on", plain.normalize("well-known—and/so–on"));
    }

    @Test
    void apostrophesKeptInsideWordsAndAfterPluralS() {
        assertEquals("it's the dogs' bowl", plain.normalize("It’s the dogs' bowl"));
        assertEquals("quoted cause", plain.normalize("'quoted' 'cause"));
        assertEquals("the apples and the dogs' bowl", plain.normalize("the 'apples' and the dogs' bowl"));
        assertEquals("rock n roll", plain.normalize("rock 'n' roll"));
    }

    @Test
    void countsDroppedCharacters() {
        TextNormalizer.Stats stats = new TextNormalizer.Stats();
        // punctuation separates words, digits vanish in place
        assertEquals("hello world room b", plain.normalize("Hello,world! Room 12b?", stats));
        assertEquals(1, stats.dropped(','));
        assertEquals(1, stats.dropped('!'));
        assertEquals(1, stats.dropped('?'));
        assertEquals(1, stats.dropped('1'));
        assertEquals(1, stats.dropped('2'));
        assertEquals(5, stats.droppedTotal());
        assertEquals(1, stats.texts());
        assertEquals("x y", plain.normalize("x 1 y", stats));
        assertEquals(2, stats.dropped('1'));
        assertEquals(2, stats.texts());
        assertTrue(stats.toString().contains("'1' (U+0031) x2"), stats.toString());
        // a dropped apostrophe is counted too
        plain.normalize("'a", stats);
        assertEquals(1, stats.dropped('\''));
    }

    @Test
    void otherScriptsAreDroppedAndCounted() {
        TextNormalizer.Stats stats = new TextNormalizer.Stats();
        assertEquals("abc", plain.normalize("aбb漢c", stats));
        assertEquals(1, stats.dropped('б'));
        assertEquals(1, stats.dropped('漢'));
    }

    @Test
    void gigaSpeechRemovesPunctuationTags() {
        TextNormalizer.Stats stats = new TextNormalizer.Stats();
        assertEquals("as they're leaving can kash pull zahra aside really quickly",
                giga.normalize("AS THEY'RE LEAVING <COMMA> CAN KASH PULL ZAHRA ASIDE REALLY QUICKLY <QUESTIONMARK>", stats));
        assertEquals("yes well known", giga.normalize("YES<PERIOD>WELL-KNOWN <EXCLAMATIONPOINT>", stats));
        assertEquals(1, stats.tags().get("<COMMA>"));
        assertEquals(1, stats.tags().get("<QUESTIONMARK>"));
        assertEquals(1, stats.tags().get("<PERIOD>"));
        assertEquals(1, stats.tags().get("<EXCLAMATIONPOINT>"));
        assertEquals(0, stats.droppedTotal());
    }

    @Test
    void gigaSpeechGarbageOnlySegments() {
        for (String s : new String[] {"<SIL>", " <MUSIC> ", "<NOISE>", "<OTHER>", "<SIL> <NOISE>"}) {
            assertTrue(TextNormalizer.isGarbageOnly(s), s);
            assertEquals("", giga.normalize(s));
        }
        assertFalse(TextNormalizer.isGarbageOnly("<SIL> HELLO"));
        assertFalse(TextNormalizer.isGarbageOnly("<COMMA>"));
        assertFalse(TextNormalizer.isGarbageOnly(""));
        TextNormalizer.Stats stats = new TextNormalizer.Stats();
        giga.normalize("<MUSIC>", stats);
        assertEquals(1, stats.garbageOnly());
        // garbage tags inside speech are removed, the speech kept
        assertEquals("hello there", giga.normalize("HELLO <NOISE> THERE", stats));
    }

    @Test
    void plainModeTreatsTagsAsText() {
        assertEquals("comma", plain.normalize("<COMMA>"));
    }

    @Test
    void outputUsesOnlyVocabularyCharacters() {
        Vocabulary v = Vocabulary.english();
        String out = plain.normalize("Ünïcödé — «quotes», 3½ € & ‘apostrophes’ don’t ☃ ok");
        assertEquals("unicode quotes apostrophes don't ok", out);
        v.encode(out); // throws if any character is outside the vocabulary
    }

    @Test
    void statsAddAndSummary() {
        TextNormalizer.Stats a = new TextNormalizer.Stats();
        TextNormalizer.Stats b = new TextNormalizer.Stats();
        plain.normalize("a1", a);
        plain.normalize("b1%", b);
        a.add(b);
        assertEquals(2, a.texts());
        assertEquals(2, a.dropped('1'));
        assertEquals(1, a.dropped('%'));
        assertThrows(IllegalArgumentException.class, () -> a.add(a));
    }

    @Test
    void vocabularyWithoutSpaceIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TextNormalizer(TextNormalizer.Mode.PLAIN, new Vocabulary("ab")));
        assertTrue(e.getMessage().contains("must contain the space"), e.getMessage());
    }
}
