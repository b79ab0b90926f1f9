package lmu.speech.decode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import lmu.speech.text.Vocabulary;
import org.junit.jupiter.api.Test;

class GreedyDecoderTest {

    /** One-hot-ish frames: the given symbol gets score 5, the others 0. */
    static float[] frames(int v, int... best) {
        float[] x = new float[best.length * v];
        for (int t = 0; t < best.length; t++) x[t * v + best[t]] = 5f;
        return x;
    }

    @Test
    void collapsesRepeatsAndDropsBlanks() {
        // a a _ a b b _ _ b  ->  a a b b
        float[] x = frames(3, 1, 1, 0, 1, 2, 2, 0, 0, 2);
        assertArrayEquals(new int[] {1, 1, 2, 2}, GreedyDecoder.decode(x, 0, 9, 3));
        assertArrayEquals(new int[] {1, 1}, GreedyDecoder.decode(x, 0, 4, 3), "only the first 4 frames");
        assertArrayEquals(new int[0], GreedyDecoder.decode(x, 0, 0, 3));
        assertArrayEquals(new int[] {2, 2}, GreedyDecoder.decode(x, 3 * 5, 4, 3), "frames 5..8: b _ _ b");
    }

    @Test
    void tiesGoToTheLowerIndex() {
        float[] x = {1f, 1f, 0f, 0f, 2f, 2f};
        assertArrayEquals(new int[] {1}, GreedyDecoder.decode(x, 0, 2, 3));
    }

    @Test
    void decodesABatchToText() {
        Vocabulary vocab = new Vocabulary(" ab");
        int v = vocab.size(), t = 6;
        float[] x = new float[2 * t * v];
        System.arraycopy(frames(v, 2, 2, 1, 3, 0, 3), 0, x, 0, t * v); // "a bb"
        System.arraycopy(frames(v, 3, 0, 2, 2, 2, 1), 0, x, t * v, t * v); // "ba", then a space past the length
        List<String> text = GreedyDecoder.decodeText(x, new int[] {2, t, v}, new int[] {6, 5}, vocab);
        assertEquals(List.of("a bb", "ba"), text);
        int[][] ids = GreedyDecoder.decode(x, new int[] {2, t, v}, new int[] {6, 6});
        assertArrayEquals(new int[] {3, 2, 1}, ids[1]);
    }

    @Test
    void rejectsBadShapes() {
        float[] x = new float[2 * 3 * 4];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GreedyDecoder.decode(x, new int[] {2, 3, 5}, new int[] {3, 3}));
        assertTrue(e.getMessage().contains("GreedyDecoder: scores of shape (B, T, V) = [2, 3, 5] need 30 elements, got 24"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GreedyDecoder.decode(x, new int[] {2, 3, 4}, new int[] {3, 4}));
        assertTrue(e.getMessage().contains("lengths[1] = 4 outside [0, T=3]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GreedyDecoder.decodeText(x, new int[] {2, 3, 4}, new int[] {3, 3}, Vocabulary.english()));
        assertTrue(e.getMessage().contains("V = 4 does not match the vocabulary's 29 symbols"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GreedyDecoder.decode(x, 20, 2, 4));
        assertTrue(e.getMessage().contains("do not fit"), e.getMessage());
    }
}
