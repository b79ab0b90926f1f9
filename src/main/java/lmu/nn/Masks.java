package lmu.nn;

import java.util.Arrays;
import lmu.ops.MaskedFill;
import lmu.tensor.Tensor;

/** Padding masks built from per-sequence lengths. */
public final class Masks {
    private Masks() {}

    /**
     * Checks that {@code lengths} has one entry per sequence, each in [min, frames].
     *
     * @throws IllegalArgumentException naming {@code owner}, the sequence and its length
     */
    public static void checkLengths(String owner, int[] lengths, int batch, int frames, int min) {
        if (lengths == null) throw new IllegalArgumentException(owner + ": lengths must not be null");
        if (lengths.length != batch) {
            throw new IllegalArgumentException(owner + ": lengths must have " + batch + " entries (one per sequence), got "
                    + lengths.length);
        }
        for (int b = 0; b < batch; b++) {
            if (lengths[b] < min || lengths[b] > frames) {
                throw new IllegalArgumentException(owner + ": lengths[" + b + "] = " + lengths[b] + " outside [" + min + ", "
                        + frames + "] (input has " + frames + " frames)");
            }
        }
    }

    /** Whether every sequence is full length, so no mask is needed. */
    public static boolean allFull(int[] lengths, int frames) {
        for (int l : lengths) if (l != frames) return false;
        return true;
    }

    /**
     * Flags of the padded frames: entry {@code b·T + t} is true when t ≥ lengths[b]. Row-major
     * shape (B, T); callers view it as (B, 1, 1, T) for attention keys or (B, T, 1) for features.
     */
    public static boolean[] padding(int[] lengths, int frames) {
        boolean[] mask = new boolean[lengths.length * frames];
        for (int b = 0; b < lengths.length; b++) Arrays.fill(mask, b * frames + lengths[b], (b + 1) * frames, true);
        return mask;
    }

    /**
     * Sets the frames at t ≥ lengths[b] to zero (differentiable; no gradient reaches them).
     *
     * @param x input, shape (B, T, C)
     * @param lengths valid frames per sequence, length B
     * @return x when nothing is padded, otherwise a new tensor of shape (B, T, C)
     */
    public static Tensor zeroPadding(Tensor x, int[] lengths) {
        int frames = x.dim(1);
        if (allFull(lengths, frames)) return x;
        return MaskedFill.apply(x, padding(lengths, frames), new int[] {x.dim(0), frames, 1}, 0);
    }
}
