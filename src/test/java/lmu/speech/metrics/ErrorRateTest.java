package lmu.speech.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import lmu.speech.metrics.ErrorRate.Counts;
import org.junit.jupiter.api.Test;

class ErrorRateTest {

    @Test
    void wordSubstitutionAndDeletion() {
        ErrorRate wer = ErrorRate.words();
        assertEquals(new Counts(1, 1, 0, 6), wer.add("the cat sat on the mat", "the cat sit on mat"));
        assertEquals(2.0 / 6, wer.rate(), 1e-15);
    }

    @Test
    void wordInsertion() {
        assertEquals(new Counts(0, 0, 1, 3), ErrorRate.words().add("a b c", "a x b c"));
        assertEquals(new Counts(0, 0, 2, 3), ErrorRate.words().add("a b c", "a b c d e"));
    }

    @Test
    void kittenToSittingInCharacters() {
        // k->s, e->i, insert g
        assertEquals(new Counts(2, 0, 1, 6), ErrorRate.characters().add("kitten", "sitting"));
    }

    @Test
    void charactersCountSpacesAndCollapseWhitespace() {
        ErrorRate cer = ErrorRate.characters();
        assertEquals(new Counts(1, 0, 0, 5), cer.add("abc d", "abd d"));
        assertEquals(new Counts(0, 0, 0, 5), cer.add("abc d", "  abc \t d "));
        assertEquals(new Counts(0, 1, 0, 5), cer.add("abc d", "abcd"), "a missing space is a deletion");
        assertEquals(List.of("a", " ", "b"), ErrorRate.tokens(" a   b ", ErrorRate.Unit.CHARACTER));
        assertEquals(2.0 / 15, cer.rate(), 1e-15, "(1 substitution + 1 deletion) / 15 characters");
    }

    @Test
    void corpusRateIsPooledNotAveraged() {
        ErrorRate wer = ErrorRate.words();
        wer.add("one", "two"); // 1 / 1
        wer.add("a b c d e f g h i", "a b c d e f g h i"); // 0 / 9
        assertEquals(0.1, wer.rate(), 1e-15);
        assertEquals(2, wer.utterances());
        assertEquals(new Counts(1, 0, 0, 10), wer.counts());
        assertEquals("WER 10.00% (S=1 D=0 I=0 N=10, 2 utterances)", wer.toString());
    }

    @Test
    void emptyTexts() {
        ErrorRate wer = ErrorRate.words();
        assertEquals(new Counts(0, 0, 0, 0), wer.add("", "  "));
        assertEquals(0.0, wer.rate(), "nothing to recognise, nothing wrong");
        assertEquals(new Counts(0, 0, 2, 0), wer.add("", "a b"));
        assertEquals(Double.POSITIVE_INFINITY, wer.rate(), "insertions against an empty reference");
        assertEquals(new Counts(0, 2, 0, 2), wer.add("a b", ""));
        assertEquals(2.0, wer.rate(), 1e-15, "(2 insertions + 2 deletions) / 2 reference words");
        assertEquals(new Counts(0, 3, 0, 3), ErrorRate.characters().add("a b", ""));
    }

    @Test
    void tiesPreferSubstitutions() {
        assertEquals(new Counts(2, 0, 0, 2), ErrorRate.words().add("a b", "b a"));
        assertEquals(new Counts(1, 1, 0, 3), ErrorRate.words().add("x y z", "q z"));
    }

    @Test
    void rejectsNull() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ErrorRate.words().add(null, "a"));
        assertEquals("ErrorRate: reference and hypothesis must not be null, got null, text", e.getMessage());
    }
}
