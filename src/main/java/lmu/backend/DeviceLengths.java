package lmu.backend;

import lmu.tensor.Tensor;

/**
 * Sequence lengths held in a device tensor: shape (B), float32, whole numbers (exact up to 2^24).
 * The device forms of the fused kernels ({@link LmuKernels}, {@link AttentionKernels}) take lengths
 * this way so that a captured launch reads them when it runs; implementations that have no device
 * form of their own read them to the host with {@link #read} and call the host form.
 */
public final class DeviceLengths {
    private DeviceLengths() {}

    /**
     * Checks the shape of a lengths tensor (its values are not read).
     *
     * @param op the calling op, for messages
     * @param lengths the tensor, shape (B)
     * @param batch B
     * @throws IllegalArgumentException if lengths is null or not of shape (B)
     */
    public static void check(String op, Tensor lengths, int batch) {
        if (lengths == null) throw new IllegalArgumentException(op + ": lengths tensor must not be null");
        if (lengths.shape().length != 1 || lengths.dim(0) != batch) {
            throw new IllegalArgumentException(op + ": lengths tensor must have shape (B) = [" + batch + "], got "
                    + java.util.Arrays.toString(lengths.shape()));
        }
    }

    /**
     * The lengths as host integers (rounded to the nearest), read from the tensor's device.
     *
     * @param op the calling op, for messages
     * @param lengths the tensor, shape (B)
     * @param batch B
     * @return B integers
     * @throws IllegalArgumentException if lengths is null or not of shape (B)
     */
    public static int[] read(String op, Tensor lengths, int batch) {
        check(op, lengths, batch);
        float[] f = Backends.of(lengths).toHost(lengths).toFloatArray();
        int[] r = new int[f.length];
        for (int i = 0; i < f.length; i++) r[i] = Math.round(f[i]);
        return r;
    }
}
