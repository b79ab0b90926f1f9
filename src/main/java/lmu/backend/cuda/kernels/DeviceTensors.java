package lmu.backend.cuda.kernels;

import java.util.Locale;
import jcuda.driver.CUdeviceptr;
import lmu.backend.cuda.CudaBackend;
import lmu.backend.cuda.CudaStorage;
import lmu.tensor.DType;
import lmu.tensor.Tensor;

/**
 * The argument check every fused-kernel family of this package runs on a tensor before its
 * device pointer goes to a launch: the tensor must live on the family's backend and hold the
 * element type the kernel reads (float32 for every fp32 kernel). A kernel handed 16-bit elements
 * as floats would read garbage, so the mismatch is refused on the host with the op, the argument
 * and both dtypes named.
 */
final class DeviceTensors {
    private DeviceTensors() {}

    /**
     * The device pointer of an f32 tensor of {@code backend}.
     *
     * @param op the family and method, for messages (e.g. {@code "CudaLmuKernels.convolutionForward"})
     * @param arg the argument's name
     * @throws IllegalArgumentException if t is null, not on this backend, or not F32
     */
    static CUdeviceptr f32(CudaBackend backend, String op, String arg, Tensor t) {
        return of(backend, op, arg, t, DType.F32);
    }

    /**
     * The device pointer of a tensor of {@code backend} with element type {@code dtype}.
     *
     * @throws IllegalArgumentException if t is null, not on this backend, or of another dtype
     */
    static CUdeviceptr of(CudaBackend backend, String op, String arg, Tensor t, DType dtype) {
        if (t == null) throw new IllegalArgumentException(op + ": " + arg + " must not be null");
        if (!(t.storage() instanceof CudaStorage s) || s.backend() != backend) {
            throw new IllegalArgumentException(op + ": " + arg + " must be " + name(dtype) + " tensor on " + backend.device()
                    + " of this backend, got " + lower(t.dtype()) + " on " + t.device());
        }
        requireDtype(op, arg, s.dtype(), dtype);
        return s.ptr();
    }

    /**
     * Refuses an element type other than the one a kernel reads.
     *
     * @param actual the storage's dtype
     * @param expected what the kernel reads
     * @throws IllegalArgumentException naming op, arg and both dtypes when they differ
     */
    static void requireDtype(String op, String arg, DType actual, DType expected) {
        if (actual != expected) {
            throw new IllegalArgumentException(op + ": " + arg + " must be " + name(expected) + " tensor (the kernel reads "
                    + lower(expected) + " elements), got " + lower(actual));
        }
    }

    private static String name(DType dtype) {
        String n = lower(dtype);
        return (n.startsWith("f") ? "an " : "a ") + n;
    }

    private static String lower(DType dtype) {
        return dtype.name().toLowerCase(Locale.ROOT);
    }
}
