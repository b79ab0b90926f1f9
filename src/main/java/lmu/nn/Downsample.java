package lmu.nn;

import lmu.ops.Conv1d;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Checks;
import lmu.util.Rng;

/**
 * Time downsampling by a strided 1-D convolution (C → C channels), with the lengths carried
 * exactly: sequence b of L_b frames becomes {@code outputLength(L_b)} = ⌊(L_b + 2·padding − kernel) /
 * stride⌋ + 1 frames, the length it would have alone. Padded input frames are set to zero before the
 * convolution, so each valid output frame equals what the sequence would give without batch padding
 * (with kernel 3, stride 2, padding 1 and an odd L the last window reaches one frame past the end).
 * Weight (C, C, K) and bias (C) are initialised uniform in ±1/√(C·K), PyTorch's Conv1d default.
 */
public final class Downsample extends Module {
    private final int channels, kernel, stride, padding;
    private final Tensor weight;
    private final Tensor bias;

    /**
     * @throws IllegalArgumentException if a size is not positive or padding is negative
     */
    public Downsample(int channels, int kernel, int stride, int padding, Rng rng, DType dtype) {
        Checks.positive("Downsample channels", channels);
        Checks.positive("Downsample kernel", kernel);
        Checks.positive("Downsample stride", stride);
        Checks.nonNegative("Downsample padding", padding);
        this.channels = channels;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        double bound = 1 / Math.sqrt((double) channels * kernel);
        this.weight = param("weight", Tensor.uniform(rng, dtype, -bound, bound, channels, channels, kernel));
        this.bias = param("bias", Tensor.uniform(rng, dtype, -bound, bound, channels));
    }

    /** Kernel 3, stride 2, padding 1: halves the frame count (rounding up). */
    public Downsample(int channels, Rng rng) {
        this(channels, 3, 2, 1, rng, DType.F32);
    }

    /** Frames of a sequence of {@code frames} frames after the convolution (0 when it is too short). */
    public static int outputLength(int frames, int kernel, int stride, int padding) {
        return frames <= 0 ? 0 : Conv1d.outputLength(frames, kernel, stride, padding);
    }

    /** Per-sequence output lengths. */
    public int[] outputLengths(int[] lengths) {
        int[] out = new int[lengths.length];
        for (int b = 0; b < lengths.length; b++) out[b] = outputLength(lengths[b], kernel, stride, padding);
        return out;
    }

    /**
     * @param x input, shape (B, T, C)
     * @param lengths valid frames per sequence, length B, each in [1, T]
     * @return features of shape (B, T', C) with T' = outputLength(T), and the new lengths
     * @throws IllegalArgumentException if x is not (B, T, C), a length is out of range, or a sequence would keep no frames
     */
    public EncoderOutput forward(Tensor x, int[] lengths) {
        Checks.shape(x.rank() == 3 && x.dim(2) == channels, "Downsample", "input", "(B, T, " + channels + ")", x.shape());
        Masks.checkLengths("Downsample", lengths, x.dim(0), x.dim(1), 1);
        int[] out = outputLengths(lengths);
        for (int b = 0; b < out.length; b++) {
            if (out[b] < 1) {
                throw new IllegalArgumentException("Downsample: sequence " + b + " of " + lengths[b] + " frames keeps no frames"
                        + " (kernel " + kernel + ", stride " + stride + ", padding " + padding + ")");
            }
        }
        Tensor device = FrameLengths.deviceFor(lengths);
        Tensor masked = device != null ? Masks.zeroPadding(x, device) : Masks.zeroPadding(x, lengths);
        Tensor y = Conv1d.apply(masked, weight, bias, stride, padding);
        return new EncoderOutput(y, out);
    }

    public int kernel() {
        return kernel;
    }

    public int stride() {
        return stride;
    }

    public int padding() {
        return padding;
    }
}
