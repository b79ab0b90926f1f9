package lmu.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The progress line: redrawn in place on a terminal, plain periodic lines otherwise. */
class ProgressTest {
    private static Progress.Step step(long n, double loss) {
        return new Progress.Step(2, 10, n, 500, loss, 1e-3, 0, 4.5, 12000, 3725, 0);
    }

    @Test
    void formatNamesEveryField() {
        String line = Progress.format(new Progress.Step(2, 10, 40, 500, 1.23456, 3e-4, 65536, 4.5, 12000, 3725, 3));
        assertEquals("epoch 2/10 step 40/500 | loss 1.2346 | lr 3.00e-04 | scale 65536 | skipped 3"
                + " | 4.50 steps/s | 12000 frames/s | ETA 1:02:05", line);
        // unknown total, no loss scale, unknown ETA: those fields are left out rather than shown as zero
        String bare = Progress.format(new Progress.Step(1, 1, 7, 0, 2, 1e-3, 0, 1, 100, -1, 0));
        assertEquals("epoch 1/1 step 7 | loss 2.0000 | lr 1.00e-03 | 1.00 steps/s | 100 frames/s", bare);
    }

    @Test
    void liveLineRedrawsInPlaceAndBlanksLeftovers() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(bytes, true, StandardCharsets.UTF_8), true, 50);
        p.step(step(1, 10.0));
        p.step(step(2, 1.0));
        String first = Progress.format(step(1, 10.0));
        String second = Progress.format(step(2, 1.0));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(out.startsWith("\r" + first + "\r" + second), out);
        assertFalse(out.contains("\n"), "a live line never scrolls");
        // the second line is shorter by one character ("10.0000" vs "1.0000"): padded with a blank
        assertEquals(first.length(), second.length() + 1);
        assertTrue(out.endsWith(second + " "), out);

        p.println("validation: loss 0.5");
        assertTrue(bytes.toString(StandardCharsets.UTF_8).endsWith(second + " \nvalidation: loss 0.5\n"),
                "a whole line first ends the live line");
    }

    @Test
    void plainOutputPrintsEveryNthStepOnItsOwnLine() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(bytes, true, StandardCharsets.UTF_8), false, 3);
        for (int i = 1; i <= 7; i++) p.step(step(i, 1.0));
        String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(2, lines.length);
        assertTrue(lines[0].startsWith("epoch 2/10 step 3/500"), lines[0]);
        assertTrue(lines[1].startsWith("epoch 2/10 step 6/500"), lines[1]);
        assertFalse(bytes.toString(StandardCharsets.UTF_8).contains("\r"));
    }
}
