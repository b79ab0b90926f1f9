package lmu.backend.cuda;

import java.util.Locale;

/**
 * Whether CUDA can be used in this JVM, decided once: the JCuda driver library is loaded, the
 * driver's version read and {@code cuInit} called the first time any method here runs, and the
 * outcome (or the reason it failed) is kept for the life of the JVM.
 *
 * <p>This class refers to no JCuda type: loading it, or calling {@link #isAvailable()} on a machine
 * without a driver, never throws. The probe itself lives in a separate class that is loaded only by
 * the holder below. {@code -Dlmu.cuda.disable=true} skips the probe entirely (CUDA unavailable,
 * nothing native loaded).
 *
 * <pre>{@code
 * if (!Cuda.isAvailable()) System.err.println(Cuda.unavailabilityCause().getMessage());
 * Cuda.ensureAvailable(); // throws with a fix-it hint where there is no usable GPU
 * }</pre>
 */
public final class Cuda {
    /** The system property that turns the probe off. */
    public static final String DISABLE_PROPERTY = "lmu.cuda.disable";

    private Cuda() {}

    /** What the probe found: driver version, device count, or why CUDA cannot be used. */
    record Status(int driverVersion, int deviceCount, Throwable cause) {}

    private static final class Holder {
        static final Status STATUS = probe();

        private static Status probe() {
            if (Boolean.getBoolean(DISABLE_PROPERTY)) {
                return new Status(0, 0, new IllegalStateException(
                        "CUDA disabled by -D" + DISABLE_PROPERTY + "=true; remove it to use the GPU"));
            }
            try {
                return DriverProbe.run(KernelManifest.load());
            } catch (Throwable t) { // LinkageError from JCuda's static initialiser, or anything unforeseen
                return new Status(0, 0, explain(t));
            }
        }
    }

    /** True when the driver loaded, {@code cuInit} succeeded and at least one device is visible. */
    public static boolean isAvailable() {
        return Holder.STATUS.cause() == null;
    }

    /**
     * Why CUDA is not available, with a fix-it hint in the message; null when it is available.
     *
     * @return the cause, or null
     */
    public static Throwable unavailabilityCause() {
        return Holder.STATUS.cause();
    }

    /**
     * Returns normally when CUDA is available.
     *
     * @throws IllegalStateException with the reason and a hint (install or update the driver, check
     *     the visible devices, or run with {@code --device cpu}), caused by the original failure
     */
    public static void ensureAvailable() {
        Throwable cause = unavailabilityCause();
        if (cause != null) {
            throw new IllegalStateException("CUDA is not available: " + cause.getMessage(), cause);
        }
    }

    /**
     * The driver's CUDA version as {@code 1000 * major + 10 * minor} (13000 for CUDA 13.0), or 0 when
     * the driver could not be loaded.
     */
    public static int driverVersion() {
        return Holder.STATUS.driverVersion();
    }

    /** The number of visible CUDA devices, 0 when CUDA is not available. */
    public static int deviceCount() {
        return Holder.STATUS.deviceCount();
    }

    /** {@code 13000 -> "13.0"}. */
    public static String versionString(int version) {
        return version / 1000 + "." + (version % 1000) / 10;
    }

    /** Turns a failure to load JCuda's native library into one with a hint. */
    static Throwable explain(Throwable t) {
        String all = chainMessages(t);
        String where = "os " + System.getProperty("os.name") + ", arch " + System.getProperty("os.arch");
        String hint;
        if (all.contains("libcuda.so")) {
            hint = "no NVIDIA driver: libcuda.so.1 was not found (" + where + "). Install the NVIDIA driver"
                    + " (CUDA 13: driver 580 or newer), or add the directory holding libcuda.so.1 to"
                    + " LD_LIBRARY_PATH; or run on the CPU with --device cpu";
        } else if (all.contains("GLIBC")) {
            hint = "the CUDA bindings need a newer C library than this system's (" + where + "): " + firstLine(all)
                    + "; run on the CPU with --device cpu";
        } else if (t instanceof LinkageError) {
            hint = "the JCuda driver bindings could not be loaded (" + where + "): " + firstLine(all)
                    + "; run on the CPU with --device cpu";
        } else {
            hint = "CUDA initialisation failed: " + t + "; run on the CPU with --device cpu";
        }
        if (t instanceof UnsatisfiedLinkError) {
            Throwable e = new UnsatisfiedLinkError(hint);
            e.initCause(t);
            return e;
        }
        return new IllegalStateException(hint, t);
    }

    private static String chainMessages(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) sb.append(c).append('\n');
        return sb.toString();
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).trim();
    }

    /** Hint for a {@code cuInit} or device-count failure, given the driver's {@code CUresult}. */
    static String initHint(int code, int driverVersion) {
        String visible = System.getenv("CUDA_VISIBLE_DEVICES");
        String driver = driverVersion > 0 ? "driver for CUDA " + versionString(driverVersion) : "driver";
        switch (code) {
            case CudaException.CUDA_ERROR_NO_DEVICE:
                return String.format(Locale.ROOT, "no CUDA device: the %s loaded but sees no GPU. Check nvidia-smi,"
                        + " CUDA_VISIBLE_DEVICES (%s) and that the job asked for GPUs (SLURM --gpus);"
                        + " or run on the CPU with --device cpu", driver, visible == null ? "unset" : "'" + visible + "'");
            case CudaException.CUDA_ERROR_INSUFFICIENT_DRIVER:
                return "the NVIDIA driver is too old for this CUDA version: update the driver (CUDA 13: 580 or newer)"
                        + " or run on the CPU with --device cpu";
            case CudaException.CUDA_ERROR_STUB_LIBRARY:
                return "libcuda.so.1 on the library path is the CUDA toolkit's stub (lib64/stubs), not a driver:"
                        + " remove that directory from LD_LIBRARY_PATH, or run on the CPU with --device cpu";
            case CudaException.CUDA_ERROR_INVALID_DEVICE:
                return "invalid device: check CUDA_VISIBLE_DEVICES (" + (visible == null ? "unset" : "'" + visible + "'")
                        + ") or run on the CPU with --device cpu";
            default:
                return "cuInit failed on the " + driver + "; check nvidia-smi and dmesg, or run on the CPU with --device cpu";
        }
    }

    /** Hint when the kernels were built by an nvcc newer than the driver supports. */
    static String driverTooOldHint(int driverVersion, KernelManifest manifest) {
        return "the driver supports CUDA " + versionString(driverVersion) + " but the kernels in this jar were built"
                + " by nvcc " + manifest.nvccVersion() + ": update the NVIDIA driver (CUDA " + manifest.nvccMajor()
                + " needs " + (manifest.nvccMajor() >= 13 ? "580" : "525") + " or newer), or rebuild the jar with the"
                + " CUDA " + driverVersion / 1000 + " toolkit (mvn -Pcuda12 package); or run on the CPU with --device cpu";
    }
}
