package lmu.nn;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.WeakHashMap;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.backend.DeviceLengths;
import lmu.ops.AddScalar;
import lmu.ops.MaskedFill;
import lmu.ops.Mul;
import lmu.ops.Relu;
import lmu.ops.Reshape;
import lmu.ops.Sub;
import lmu.tensor.Device;
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

    /** Frame indices 0 … T−1, shape (1, T), float32, per device backend and T (built once each). */
    private static final Map<Backend, Map<Integer, Tensor>> FRAME_INDEX = new WeakHashMap<>();

    /**
     * {@link #zeroPadding(Tensor, int[])} with the lengths in a tensor of x's device ({@link
     * DeviceLengths}: float32 whole numbers in [0, T], shape (B)), read by the ops when they run, so
     * that a captured step replays with the lengths written there. The mask is computed by ops from
     * the lengths, {@code keep[b, t] = relu(len[b] − t) − relu(len[b] − t − 1)} (1 for t &lt; len[b],
     * 0 otherwise, exact in float32), and multiplied into x; the gradient is the incoming gradient
     * times the same mask. Nothing depends on the values on the host, so the work is the same
     * whether or not any frame is padded; the result is always a new tensor.
     *
     * @param x input, shape (B, T, C), float32
     * @param lengths valid frames per sequence, shape (B), on x's device
     * @return x with the padded frames zero, shape (B, T, C)
     * @throws IllegalArgumentException if x is not (B, T, C) or lengths is not of shape (B)
     */
    public static Tensor zeroPadding(Tensor x, Tensor lengths) {
        if (x.shape().length != 3) {
            throw new IllegalArgumentException("Masks.zeroPadding: x must have shape (B, T, C), got "
                    + Arrays.toString(x.shape()));
        }
        Tensor keep = keep(lengths, x.dim(0), x.dim(1));
        return Mul.apply(x, Reshape.apply(keep, x.dim(0), x.dim(1), 1));
    }

    /**
     * The keep mask of device lengths: 1 at t &lt; lengths[b], 0 elsewhere, computed by ops on the
     * lengths' device (no host read).
     *
     * @param lengths valid frames per sequence, float32 whole numbers in [0, T], shape (B)
     * @param batch B
     * @param frames T
     * @return the mask, shape (B, T), float32, on the lengths' device
     * @throws IllegalArgumentException if lengths is not of shape (B)
     */
    public static Tensor keep(Tensor lengths, int batch, int frames) {
        DeviceLengths.check("Masks.keep", lengths, batch);
        Tensor d = Sub.apply(Reshape.apply(lengths.detach(), batch, 1), frameIndex(lengths.device(), frames)); // len − t
        return Sub.apply(Relu.apply(d), Relu.apply(AddScalar.apply(d, -1)));
    }

    /**
     * Builds the device's frame indices for T frames now, so that a later {@link #keep} at this T
     * makes no host-to-device copy (call it before capturing a step).
     *
     * @param device the device of the lengths tensors to come
     * @param frames T
     */
    public static void prepare(Device device, int frames) {
        frameIndex(device, frames);
    }

    /** 0 … T−1 as a (1, T) float32 tensor on the device (a device copy is built once per backend and T). */
    private static Tensor frameIndex(Device device, int frames) {
        float[] t = new float[frames];
        for (int i = 0; i < frames; i++) t[i] = i;
        Tensor host = Tensor.of(t, 1, frames);
        if (device.equals(Device.CPU)) return host;
        Backend backend = Backends.of(device);
        synchronized (FRAME_INDEX) {
            return FRAME_INDEX.computeIfAbsent(backend, b -> new HashMap<>()).computeIfAbsent(frames, f -> backend.toDevice(host));
        }
    }
}
