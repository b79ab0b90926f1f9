package lmu.backend.cuda;

import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * The part of {@link Cuda}'s probe that touches JCuda. Loaded only by {@code Cuda.Holder}, which
 * catches the {@link UnsatisfiedLinkError} JCuda's static initialiser throws where {@code
 * libcuda.so.1} is missing. Calls {@code cuDriverGetVersion} then {@code cuInit} and {@code
 * cuDeviceGetCount}, and stops at the first failure (the stub driver in {@code native/} provides
 * exactly these three functions).
 */
final class DriverProbe {
    private DriverProbe() {}

    static Cuda.Status run(KernelManifest manifest) {
        // Enabled once, here: every later driver call that fails throws instead of returning a code.
        JCudaDriver.setExceptionsEnabled(true);
        int[] version = new int[1];
        int rc = Driver.code(() -> JCudaDriver.cuDriverGetVersion(version));
        if (rc != CUresult.CUDA_SUCCESS) {
            return new Cuda.Status(0, 0, Driver.exception("cuDriverGetVersion", rc, Cuda.initHint(rc, 0)));
        }
        rc = Driver.code(() -> JCudaDriver.cuInit(0));
        if (rc != CUresult.CUDA_SUCCESS) {
            return new Cuda.Status(version[0], 0, Driver.exception("cuInit", rc, Cuda.initHint(rc, version[0])));
        }
        int[] count = new int[1];
        rc = Driver.code(() -> JCudaDriver.cuDeviceGetCount(count));
        if (rc != CUresult.CUDA_SUCCESS || count[0] == 0) {
            int code = rc != CUresult.CUDA_SUCCESS ? rc : CudaException.CUDA_ERROR_NO_DEVICE;
            return new Cuda.Status(version[0], 0, Driver.exception("cuDeviceGetCount", code, Cuda.initHint(code, version[0])));
        }
        if (manifest.nvccMajor() > 0 && version[0] / 1000 < manifest.nvccMajor()) {
            return new Cuda.Status(version[0], count[0], Driver.exception("cuDriverGetVersion",
                    CudaException.CUDA_ERROR_INSUFFICIENT_DRIVER, Cuda.driverTooOldHint(version[0], manifest)));
        }
        return new Cuda.Status(version[0], count[0], null);
    }
}
