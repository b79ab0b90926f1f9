package lmu.backend.cuda.kernels;

import lmu.backend.cuda.LaunchGeometry;

/**
 * Block sizes and shared-memory sizes of the model kernels, as each {@code .cu} file's "launch
 * geometry" note prescribes. Plain Java: tested without a GPU.
 */
public final class ModelKernelGeometry {
    private ModelKernelGeometry() {}

    /** Frames (and coefficients) per block of {@code lmu_conv.cu}. */
    public static final int CONV_TILE = 64;
    /** Threads per block of {@code lmu_conv.cu}. */
    public static final int CONV_THREADS = 256;
    /** Threads per block of the FFT kernels of {@code lmu_conv.cu} (fft.cuh's FFT_THREADS). */
    public static final int CONV_FFT_THREADS = 512;
    /** Threads per block of {@code lmu_conv_fft_backward_kernel} (fft.cuh's FFT_WIDE_THREADS). */
    public static final int CONV_FFT_WIDE_THREADS = 1024;
    /** Threads per block of {@code lmu_conv_fft_twiddle_kernel}. */
    public static final int CONV_FFT_TWIDDLE_THREADS = 256;
    /** Complex values in the shared-memory buffer of an FFT block, the largest FFT length (FFT_BUF). */
    public static final int CONV_FFT_BUFFER = 8192;
    /** log2 of the smallest FFT length (FFT_MIN_LOGN). */
    public static final int CONV_FFT_MIN_LOG2 = 4;
    /** Column pairs per block of the FFT backward, at least (rounded up to a multiple of the lanes). */
    public static final int CONV_FFT_PAIRS_PER_SLICE = 16;
    /** Threads per block of every {@code attention.cu} kernel. */
    public static final int ATTENTION_THREADS = 128;
    /** Query rows per block of the attention forward and dq kernels. */
    public static final int ATTENTION_QUERY_TILE = 32;
    /** Keys per block of the attention dk/dv kernel. */
    public static final int ATTENTION_KEY_TILE = 64;
    /** Query rows per block of the half-precision attention forward and dq kernels ({@code attention_half.cu}). */
    public static final int HALF_ATTENTION_QUERY_TILE = 64;
    /** Keys per block of the half-precision attention dk/dv kernel. */
    public static final int HALF_ATTENTION_KEY_TILE = 64;

    /**
     * Threads per block of the CTC kernels: a multiple of 32 from 64 to 512 that covers the S = 2L+1
     * states of the longest target when it can.
     *
     * @param states S_max = 2 L_max + 1, &gt; 0
     */
    public static int ctcThreads(int states) {
        if (states <= 0) throw new IllegalArgumentException("ctcThreads: states : " + states + " (expected: > 0)");
        return (int) Math.min(512, Math.max(64, 32L * ((states + 31L) / 32)));
    }

    /** Dynamic shared memory of {@code ctc_loss_forward_kernel}: two state rows and the labels. */
    public static long ctcForwardSharedBytes(int states) {
        return 12L * states;
    }

    /** Dynamic shared memory of {@code ctc_loss_backward_kernel}: three state rows, labels, chains, heads. */
    public static long ctcBackwardSharedBytes(int states, int vocabulary) {
        return 20L * states + 4L * vocabulary;
    }

    /**
     * Threads per block of the LMU recurrence: a multiple of 32, at least H / 4 (the forward keeps
     * up to 4 hidden units per thread), at least 256, at most 1024.
     *
     * @param hidden H, &gt; 0 and at most 4096
     * @throws IllegalArgumentException when H exceeds 4096
     */
    public static int lmuRecurrentThreads(int hidden) {
        if (hidden <= 0 || hidden > 4096) {
            throw new IllegalArgumentException("lmuRecurrentThreads: hidden : " + hidden + " (expected: 1 to 4096)");
        }
        int quarter = (hidden + 3) / 4;
        return Math.min(1024, Math.max(256, 32 * ((quarter + 31) / 32)));
    }

    /**
     * Dynamic shared memory of the LMU recurrence without the system matrix: forward 2Kd + H + K
     * floats, backward 2Kd + 2H + K floats.
     */
    public static long lmuRecurrentStateBytes(int hidden, int memoryD, int order, boolean backward) {
        long w = (long) memoryD * order;
        return 4L * (2 * w + (backward ? 2L : 1L) * hidden + memoryD);
    }

    /** Dynamic shared memory of the d x d system matrix when it is kept on chip. */
    public static long lmuMatrixBytes(int order) {
        return 4L * order * order;
    }

    /**
     * Whether the LMU recurrence keeps Abar in shared memory: when the state and the matrix fit
     * the device's opt-in limit together.
     */
    public static boolean lmuMatrixShared(int hidden, int memoryD, int order, boolean backward, int sharedOptin) {
        return lmuRecurrentStateBytes(hidden, memoryD, order, backward) + lmuMatrixBytes(order) <= sharedOptin;
    }

    /** Blocks along the frame axis of the convolution kernels. */
    public static int convFrameBlocks(int frames) {
        return LaunchGeometry.blocksFor(frames, CONV_TILE);
    }

    /** Blocks along the coefficient axis of the convolution forward. */
    public static int convCoefficientBlocks(int order) {
        return LaunchGeometry.blocksFor(order, CONV_TILE);
    }

    /**
     * log2 of the FFT length N of the convolution's FFT form: the smallest power of two with
     * N &ge; 2T - 1 (the circular convolution then equals the linear one on every frame), at
     * least 16.
     *
     * @param frames T, 1 to {@link #CONV_FFT_BUFFER} / 2
     * @throws IllegalArgumentException outside that range
     */
    public static int convFftLog2(int frames) {
        if (frames <= 0 || frames > CONV_FFT_BUFFER / 2) {
            throw new IllegalArgumentException("LegendreConvolution FFT: frames : " + frames + " (expected: 1 to "
                    + CONV_FFT_BUFFER / 2 + ")");
        }
        int log2 = 32 - Integer.numberOfLeadingZeros(2 * frames - 2); // ceil(log2(2T - 1)), 0 for T = 1
        return Math.max(CONV_FFT_MIN_LOG2, log2);
    }

    /** Sequences of length N = 2^log2 an FFT block transforms at once: 8192 / N. */
    public static int convFftLanes(int log2) {
        if (log2 < CONV_FFT_MIN_LOG2 || (1 << log2) > CONV_FFT_BUFFER) {
            throw new IllegalArgumentException("LegendreConvolution FFT: log2 N : " + log2 + " (expected: "
                    + CONV_FFT_MIN_LOG2 + " to " + Integer.numberOfTrailingZeros(CONV_FFT_BUFFER) + ")");
        }
        return CONV_FFT_BUFFER >> log2;
    }

    /** Frequencies of a half spectrum: N / 2 + 1. */
    public static int convFftHalf(int log2) {
        return (1 << log2) / 2 + 1;
    }

    /**
     * Dynamic shared memory of the FFT kernels (fft.cuh's fft_buffer_values): the buffer of all
     * lanes, A = 8192 + lanes float2 (one of padding per lane) plus one per 16 (a bank row) plus 1,
     * 8 bytes each; {@code lmu_conv_fft_backward_kernel} adds the accumulated half spectrum,
     * 8 (N / 2 + 1) bytes.
     */
    public static int convFftSharedBytes(int log2, boolean backwardPartial) {
        int a = CONV_FFT_BUFFER + convFftLanes(log2);
        int values = a + (a >> 4) + 1 + (backwardPartial ? convFftHalf(log2) : 0);
        return 8 * values;
    }

    /** Column pairs per block of the FFT backward: {@link #CONV_FFT_PAIRS_PER_SLICE} rounded up to a multiple of the lanes. */
    public static int convFftPairsPerSlice(int log2) {
        int lanes = convFftLanes(log2);
        return lanes * ((Math.max(lanes, CONV_FFT_PAIRS_PER_SLICE) + lanes - 1) / lanes);
    }

    /** Blocks along the column axis of the FFT backward: slices of {@link #convFftPairsPerSlice} pairs. */
    public static int convFftSlices(int order, int log2) {
        return LaunchGeometry.blocksFor((order + 1) / 2, convFftPairsPerSlice(log2));
    }

    /** Blocks of the FFT kernels that take 2 lanes real sequences (or columns) per block. */
    public static int convFftBlocks(long sequences, int log2) {
        return LaunchGeometry.blocksFor(sequences, 2 * convFftLanes(log2));
    }

    /** Rows of H that enter its spectrum: min(hLength, N / 2), every lag a frame t &lt; T needs and none that wraps. */
    public static int convFftResponseRows(int hLength, int log2) {
        return Math.min(hLength, (1 << log2) / 2);
    }

    /** Blocks along the query axis of the attention forward and dq kernels. */
    public static int attentionQueryBlocks(int frames) {
        return LaunchGeometry.blocksFor(frames, ATTENTION_QUERY_TILE);
    }

    /** Blocks along the key axis of the attention dk/dv kernel. */
    public static int attentionKeyBlocks(int frames) {
        return LaunchGeometry.blocksFor(frames, ATTENTION_KEY_TILE);
    }

    /** Blocks of the attention dot kernel: one warp per (b, t, h) row, 4 warps per block. */
    public static int attentionDotBlocks(int batch, int frames, int heads) {
        return LaunchGeometry.blocksFor((long) batch * frames * heads, ATTENTION_THREADS / 32);
    }

    /** Blocks along the query axis of the half-precision attention forward and dq kernels. */
    public static int halfAttentionQueryBlocks(int frames) {
        return LaunchGeometry.blocksFor(frames, HALF_ATTENTION_QUERY_TILE);
    }

    /** Blocks along the key axis of the half-precision attention dk/dv kernel. */
    public static int halfAttentionKeyBlocks(int frames) {
        return LaunchGeometry.blocksFor(frames, HALF_ATTENTION_KEY_TILE);
    }

    /**
     * The kernel suffix of {@code attention_half.cu} for a head dimension and 16-bit format: {@code
     * "hd64_f16"}, {@code "hd64_bf16"}, {@code "hd32_f16"} or {@code "hd32_bf16"}.
     *
     * @param format F16 or BF16
     * @throws IllegalArgumentException for other head dimensions or formats
     */
    public static String halfAttentionVariant(int headDim, lmu.tensor.DType format) {
        if (format != lmu.tensor.DType.F16 && format != lmu.tensor.DType.BF16) {
            throw new IllegalArgumentException("attention_half: format : " + format + " (expected: F16 or BF16)");
        }
        return attentionVariant(headDim) + "_" + format.name().toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * The kernel suffix for a head dimension: {@code "hd64"} or {@code "hd32"}.
     *
     * @throws IllegalArgumentException for other head dimensions
     */
    public static String attentionVariant(int headDim) {
        if (headDim != 32 && headDim != 64) {
            throw new IllegalArgumentException("attention: head dimension : " + headDim + " (expected: 32 or 64)");
        }
        return "hd" + headDim;
    }
}
