package lmu.speech.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class NumberWordsTest {
    @Test
    void cardinals() {
        assertEquals("zero", NumberWords.cardinal(0));
        assertEquals("seven", NumberWords.cardinal(7));
        assertEquals("nineteen", NumberWords.cardinal(19));
        assertEquals("forty", NumberWords.cardinal(40));
        assertEquals("ninety nine", NumberWords.cardinal(99));
        assertEquals("one hundred", NumberWords.cardinal(100));
        assertEquals("five hundred one", NumberWords.cardinal(501));
        assertEquals("two thousand twenty four", NumberWords.cardinal(2024));
        assertEquals("one million one", NumberWords.cardinal(1_000_001));
        assertEquals("twelve billion three hundred forty five million six hundred seventy eight thousand nine hundred ten",
                NumberWords.cardinal(12_345_678_910L));
        assertThrows(IllegalArgumentException.class, () -> NumberWords.cardinal(-1));
        assertThrows(IllegalArgumentException.class, () -> NumberWords.cardinal(NumberWords.MAX + 1));
    }

    @Test
    void ordinals() {
        assertEquals("first", NumberWords.ordinal(1));
        assertEquals("second", NumberWords.ordinal(2));
        assertEquals("third", NumberWords.ordinal(3));
        assertEquals("twelfth", NumberWords.ordinal(12));
        assertEquals("twentieth", NumberWords.ordinal(20));
        assertEquals("twenty first", NumberWords.ordinal(21));
        assertEquals("one hundredth", NumberWords.ordinal(100));
        assertEquals("ninety ninth", NumberWords.ordinal(99));
        assertThrows(IllegalArgumentException.class, () -> NumberWords.ordinal(0));
    }

    @Test
    void normalizerSpellsNumbersWhenAsked() {
        TextNormalizer n = TextNormalizer.plain().spellingNumbers();
        assertEquals("press one to mute or two to lock", n.normalize("Press 1 to mute, or 2 to lock."));
        assertEquals("dial five hundred now", n.normalize("dial 500 now"));
        assertEquals("three d audio on the twenty first", n.normalize("3D audio on the 21st"));
        assertEquals("room one hundred twenty three", n.normalize("Room 123"));
        assertEquals("one two three four five six seven eight nine zero one two three four five six",
                n.normalize("1234567890123456"));
        assertEquals("press", TextNormalizer.plain().normalize("press 1"));
    }
}
