package lmu.backend.cuda;

/**
 * A CUDA driver call or kernel launch failed. Carries the op (the driver function or the kernel
 * that failed), the driver's {@code CUresult} code and name, and for launches the grid and block
 * that were used, so that a failure in the middle of a training step names the kernel and its
 * geometry: {@code "softmax_forward_kernel: CUDA_ERROR_INVALID_VALUE (1), grid (12, 1, 1), block
 * (1024, 2, 1): ..."}.
 *
 * <p>This class refers to no JCuda type, so it can be thrown and caught on machines without a GPU.
 */
public final class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** {@code CUresult} values this package tests for (same numbers as {@code cuda.h}). */
    public static final int CUDA_SUCCESS = 0;
    public static final int CUDA_ERROR_INVALID_VALUE = 1;
    public static final int CUDA_ERROR_OUT_OF_MEMORY = 2;
    public static final int CUDA_ERROR_NOT_INITIALIZED = 3;
    public static final int CUDA_ERROR_STUB_LIBRARY = 34;
    public static final int CUDA_ERROR_INSUFFICIENT_DRIVER = 35;
    public static final int CUDA_ERROR_NO_DEVICE = 100;
    public static final int CUDA_ERROR_INVALID_DEVICE = 101;
    public static final int CUDA_ERROR_NO_BINARY_FOR_GPU = 209;
    public static final int CUDA_ERROR_INVALID_PTX = 218;
    public static final int CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222;
    public static final int CUDA_ERROR_NOT_FOUND = 500;
    public static final int CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES = 701;
    public static final int CUDA_ERROR_ILLEGAL_ADDRESS = 700;
    public static final int CUDA_ERROR_UNKNOWN = 999;

    private final String op;
    private final int code;
    private final String codeName;
    private final Dim3 grid;
    private final Dim3 block;

    /**
     * @param op the driver function or kernel that failed, e.g. {@code "cuModuleLoadData"}
     * @param code the driver's {@code CUresult} value
     * @param codeName its name, e.g. {@code "CUDA_ERROR_NO_DEVICE"}; null when unknown
     * @param grid the launch grid, null for calls that are not launches
     * @param block the launch block, null for calls that are not launches
     * @param message what was attempted and how to fix it; may be null
     */
    public CudaException(String op, int code, String codeName, Dim3 grid, Dim3 block, String message) {
        this(op, code, codeName, grid, block, message, null);
    }

    /** As {@link #CudaException(String, int, String, Dim3, Dim3, String)} with a cause. */
    public CudaException(
            String op, int code, String codeName, Dim3 grid, Dim3 block, String message, Throwable cause) {
        super(format(op, code, codeName, grid, block, message), cause);
        this.op = op;
        this.code = code;
        this.codeName = codeName == null ? "CUresult " + code : codeName;
        this.grid = grid;
        this.block = block;
    }

    private static String format(String op, int code, String codeName, Dim3 grid, Dim3 block, String message) {
        StringBuilder sb = new StringBuilder();
        sb.append(op).append(": ").append(codeName == null ? "CUresult" : codeName).append(" (").append(code).append(')');
        if (grid != null) sb.append(", grid ").append(grid);
        if (block != null) sb.append(", block ").append(block);
        if (message != null && !message.isEmpty()) sb.append(": ").append(message);
        return sb.toString();
    }

    /** The driver function or kernel that failed. */
    public String op() {
        return op;
    }

    /** The driver's {@code CUresult} value. */
    public int code() {
        return code;
    }

    /** The name of {@link #code()}, e.g. {@code "CUDA_ERROR_NO_DEVICE"}. */
    public String codeName() {
        return codeName;
    }

    /** The launch grid, or null when the failure was not a launch. */
    public Dim3 grid() {
        return grid;
    }

    /** The launch block, or null when the failure was not a launch. */
    public Dim3 block() {
        return block;
    }
}
