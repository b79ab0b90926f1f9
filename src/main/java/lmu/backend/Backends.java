package lmu.backend;

import lmu.backend.cpu.CpuBackend;
import lmu.tensor.Device;
import lmu.tensor.Tensor;

/** Chooses the backend of a tensor's device. CUDA classes are looked up only for CUDA tensors. */
public final class Backends {
    private static volatile Backend cuda;

    private Backends() {}

    public static Backend of(Tensor t) {
        return of(t.device());
    }

    public static Backend of(Device d) {
        if (d.kind() == Device.Kind.CPU) return CpuBackend.INSTANCE;
        Backend b = cuda;
        if (b == null) {
            throw new IllegalStateException("Backends: no CUDA backend is registered for " + d
                    + " (run `java -jar lmu-engine.jar check` to see why CUDA is unavailable)");
        }
        return b;
    }

    /** The fused kernels of {@code type} on tensor {@code t}'s device (see {@link Backend#kernels}). */
    public static <T> T kernels(Tensor t, Class<T> type) {
        return of(t).kernels(type);
    }

    /** Registers the CUDA backend once it has initialised. */
    public static void registerCuda(Backend backend) {
        cuda = backend;
    }

    /** Unregisters {@code backend} if it is the registered CUDA backend (tests install stand-ins). */
    public static synchronized void unregisterCuda(Backend backend) {
        if (cuda == backend) cuda = null;
    }

    /**
     * {@code t} on {@code device}: itself when it is there already, else a float32 copy (host to
     * device through the device backend's staging, device to host, or between devices through the host).
     *
     * @throws IllegalStateException when no backend is registered for {@code device}
     */
    public static Tensor to(Tensor t, Device device) {
        if (t.device().equals(device)) return t;
        Tensor host = t.device().kind() == Device.Kind.CPU ? t : of(t).toHost(t);
        return device.kind() == Device.Kind.CPU ? host : of(device).toDevice(host);
    }
}
