package lmu.nn.lmu;

/** Shape checks shared by the recurrent and parallel LMU, with messages that name the op and layout. */
final class LmuShapes {
    private LmuShapes() {}

    static void checkInput(String op, LmuConfig c, LegendreStateSpace ss, double[] x, int batch, int frames,
            int[] lengths) {
        if (batch <= 0 || frames <= 0) {
            throw new IllegalArgumentException(op + ": batch and frames must be > 0, got B=" + batch + ", T=" + frames);
        }
        if (ss == null || ss.order() != c.order() || ss.theta() != c.theta()) {
            throw new IllegalArgumentException(op + ": state space must have order " + c.order() + " and theta "
                    + c.theta() + ", got " + (ss == null ? "null" : "order " + ss.order() + ", theta " + ss.theta()));
        }
        checkSize(op, "x", "(B, T, C)", x, batch, frames, c.inputSize());
        if (lengths == null || lengths.length != batch) {
            throw new IllegalArgumentException(op + ": lengths must have shape (B) = [" + batch + "], got "
                    + (lengths == null ? "null" : "[" + lengths.length + "]"));
        }
        int max = Math.min(frames, c.maxLength());
        for (int b = 0; b < batch; b++) {
            if (lengths[b] < 0 || lengths[b] > max) {
                throw new IllegalArgumentException(op + ": lengths[" + b + "] must be in [0, " + max
                        + "] (min of T and maxLength), got " + lengths[b]);
            }
        }
    }

    static void checkSize(String op, String name, String layout, double[] a, int batch, int frames, int width) {
        long expected = (long) batch * frames * width;
        if (a == null || a.length != expected) {
            throw new IllegalArgumentException(op + ": " + name + " must have shape " + layout + " = [" + batch + ", "
                    + frames + ", " + width + "] (" + expected + " values), got "
                    + (a == null ? "null" : a.length + " values"));
        }
    }
}
