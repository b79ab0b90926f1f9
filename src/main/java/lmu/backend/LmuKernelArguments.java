package lmu.backend;

import java.util.Arrays;
import lmu.nn.lmu.Activation;
import lmu.nn.lmu.LegendreImpulseResponse;
import lmu.nn.lmu.LegendreStateSpace;
import lmu.tensor.Tensor;

/**
 * Argument checks of {@link LmuKernels}, shared by every implementation so that each device
 * rejects the same calls with the same messages (naming the implementation, the argument, the
 * expected layout and what it got).
 */
public final class LmuKernelArguments {
    private LmuKernelArguments() {}

    /**
     * Checks a convolution call and returns its sizes.
     *
     * @param op implementation and method, for messages (e.g. {@code "CpuLmuKernels.convolutionForward"})
     * @param ir impulse response
     * @param a u (B, T, K) in forward, dm (B, T, K·d) in backward
     * @param backward whether a is dm
     * @param lengths shape (B), each in [0, min(T, ir.maxLength())]
     * @return {B, T, K}
     * @throws IllegalArgumentException on a mismatch
     */
    public static int[] convolution(String op, LegendreImpulseResponse ir, Tensor a, boolean backward, int[] lengths) {
        if (ir == null) throw new IllegalArgumentException(op + ": ir must not be null");
        String name = backward ? "dm" : "u", layout = backward ? "(B, T, K*d)" : "(B, T, K)";
        if (a == null || a.rank() != 3 || a.dim(0) == 0 || a.dim(1) == 0 || a.dim(2) == 0
                || backward && a.dim(2) % ir.order() != 0) {
            throw new IllegalArgumentException(op + ": " + name + " must have shape " + layout
                    + (backward ? " with d = " + ir.order() : "") + ", got " + shape(a));
        }
        int batch = a.dim(0), frames = a.dim(1), channels = backward ? a.dim(2) / ir.order() : a.dim(2);
        lengths(op, lengths, batch, Math.min(frames, ir.maxLength()), "min of T and maxLength");
        return new int[] {batch, frames, channels};
    }

    /**
     * Checks a recurrent call and returns its sizes.
     *
     * @param op implementation and method, for messages
     * @param first ux (B, T, K) in forward, dh (B, T, hidden) in backward
     * @param second ax (B, T, hidden) in forward, h (B, T, hidden) in backward
     * @param backward which of the two calls
     * @return {B, T, hidden, K}
     * @throws IllegalArgumentException on a mismatch
     */
    public static int[] recurrent(String op, LegendreStateSpace ss, Activation f, Tensor first, Tensor second, Tensor eh,
            Tensor em, Tensor wh, Tensor wm, int[] lengths, boolean backward) {
        if (ss == null || f == null) throw new IllegalArgumentException(op + ": ss and f must not be null");
        String n1 = backward ? "dh" : "ux", n2 = backward ? "h" : "ax";
        int d = ss.order();
        if (first == null || first.rank() != 3 || first.dim(0) == 0 || first.dim(1) == 0 || first.dim(2) == 0) {
            throw new IllegalArgumentException(op + ": " + n1 + " must have shape " + (backward ? "(B, T, hidden)" : "(B, T, K)")
                    + ", got " + shape(first));
        }
        int batch = first.dim(0), frames = first.dim(1);
        if (second == null || second.rank() != 3 || second.dim(0) != batch || second.dim(1) != frames
                || second.dim(2) == 0 || backward && second.dim(2) != first.dim(2)) {
            throw new IllegalArgumentException(op + ": " + n2 + " must have shape (B, T, hidden) = [" + batch + ", " + frames
                    + ", " + (backward ? first.dim(2) : "hidden") + "], got " + shape(second));
        }
        int hidden = second.dim(2);
        if (wm == null || wm.rank() != 2 || wm.dim(1) != hidden || wm.dim(0) == 0 || wm.dim(0) % d != 0
                || !backward && wm.dim(0) != first.dim(2) * d) {
            throw new IllegalArgumentException(op + ": wm must have shape (K*d, hidden) = ["
                    + (backward ? "K*" + d : String.valueOf(first.dim(2) * d)) + ", " + hidden + "], got " + shape(wm));
        }
        int channels = wm.dim(0) / d;
        weight(op, "eh", eh, hidden, channels);
        weight(op, "em", em, channels * d, channels);
        weight(op, "wh", wh, hidden, hidden);
        for (Tensor t : new Tensor[] {second, eh, em, wh, wm}) {
            if (t != null && (t.dtype() != first.dtype() || !t.device().equals(first.device()))) {
                throw new IllegalArgumentException(op + ": every tensor must be " + first.dtype() + " on " + first.device()
                        + " like " + n1 + ", got " + t.dtype() + " on " + t.device());
            }
        }
        lengths(op, lengths, batch, frames, "T");
        return new int[] {batch, frames, hidden, channels};
    }

    private static void weight(String op, String name, Tensor t, int rows, int cols) {
        if (t != null && (t.rank() != 2 || t.dim(0) != rows || t.dim(1) != cols)) {
            throw new IllegalArgumentException(op + ": " + name + " must have shape [" + rows + ", " + cols + "], got "
                    + shape(t));
        }
    }

    private static void lengths(String op, int[] lengths, int batch, int max, String bound) {
        if (lengths == null || lengths.length != batch) {
            throw new IllegalArgumentException(op + ": lengths must have shape (B) = [" + batch + "], got "
                    + (lengths == null ? "null" : "[" + lengths.length + "]"));
        }
        for (int b = 0; b < batch; b++) {
            if (lengths[b] < 0 || lengths[b] > max) {
                throw new IllegalArgumentException(op + ": lengths[" + b + "] must be in [0, " + max + "] (" + bound
                        + "), got " + lengths[b]);
            }
        }
    }

    private static String shape(Tensor t) {
        return t == null ? "null" : Arrays.toString(t.shape());
    }
}
