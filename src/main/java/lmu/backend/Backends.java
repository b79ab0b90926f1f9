package lmu.backend;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import lmu.backend.cpu.CpuBackend;
import lmu.tensor.Device;
import lmu.tensor.Tensor;

/**
 * Chooses the backend of a tensor's device: the CPU backend, or the CUDA backend registered for
 * that device's index (one per GPU, so that the GPUs of one process each have their own backend,
 * driven by that GPU's thread). CUDA classes are looked up only for CUDA tensors.
 */
public final class Backends {
    /** CUDA device index -> its backend. */
    private static final ConcurrentMap<Integer, Backend> CUDA = new ConcurrentHashMap<>();

    private Backends() {}

    public static Backend of(Tensor t) {
        return of(t.device());
    }

    /**
     * The backend of {@code d}.
     *
     * @throws IllegalStateException when no backend is registered for a CUDA device
     */
    public static Backend of(Device d) {
        if (d.kind() == Device.Kind.CPU) return CpuBackend.INSTANCE;
        Backend b = CUDA.get(d.index());
        if (b == null) {
            throw new IllegalStateException("Backends: no CUDA backend is registered for " + d + (CUDA.isEmpty() ? ""
                    : " (registered: " + new java.util.TreeSet<>(CUDA.keySet()).stream().map(i -> "cuda:" + i).toList() + ")")
                    + " (run `java -jar lmu-engine.jar check` to see why CUDA is unavailable)");
        }
        return b;
    }

    /** The fused kernels of {@code type} on tensor {@code t}'s device (see {@link Backend#kernels}). */
    public static <T> T kernels(Tensor t, Class<T> type) {
        return of(t).kernels(type);
    }

    /**
     * Registers a CUDA backend once it has initialised, for its {@link Backend#device() device}'s
     * index (replacing the one registered there before).
     *
     * @throws IllegalArgumentException when the backend's device is not a CUDA device
     */
    public static void registerCuda(Backend backend) {
        CUDA.put(cudaIndex(backend, "registerCuda"), backend);
    }

    /** Unregisters {@code backend} if it is the backend registered for its device (tests install stand-ins). */
    public static void unregisterCuda(Backend backend) {
        CUDA.remove(cudaIndex(backend, "unregisterCuda"), backend);
    }

    private static int cudaIndex(Backend backend, String op) {
        Device d = backend.device();
        if (d.kind() != Device.Kind.CUDA) {
            throw new IllegalArgumentException("Backends." + op + ": the backend's device must be cuda:N, got " + d + " ("
                    + backend.getClass().getSimpleName() + ")");
        }
        return d.index();
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
