package lmu.distributed;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * The NCCL line of the {@code check} command: one communicator per visible GPU in this JVM, one
 * thread each ({@link NcclCommunicator#forLocalDevices}, {@link Ranks#run(List, String, Ranks.Body)}),
 * and an all-reduce whose result has a closed form: rank r contributes {@code (r + 1) * v[i]}, so
 * every rank must get {@code n (n + 1) / 2 * v[i]} (with one GPU: v itself, after the round trip
 * through NCCL). Also a float64 MAX all-reduce, a broadcast and an all-gather of a few values, and
 * the training path: tensors on each GPU reduced in place there.
 *
 * <p>Call only where CUDA is available; loading this class touches no native library.
 */
public final class NcclCheck {
    /** Values per all-reduce: 4 MiB of float32, as a small gradient bucket. */
    static final int VALUES = 1 << 20;

    private NcclCheck() {}

    /**
     * Runs the collectives on GPUs 0 .. gpus - 1 and describes the outcome.
     *
     * @return "PASS: ..." with the NCCL version and the all-reduce time
     * @throws IllegalStateException when a result differs from its closed form
     * @throws CommunicatorException when NCCL fails or does not finish within {@code timeout}
     */
    public static String run(int gpus, Duration timeout) {
        List<NcclCommunicator> comms = NcclCommunicator.forLocalDevices(gpus, timeout);
        List<Double> millis = Ranks.run(comms, "nccl-check", c -> {
            int r = c.rank(), n = c.size();
            float[] x = new float[VALUES];
            for (int i = 0; i < VALUES; i++) x[i] = (r + 1) * value(i);
            long t0 = System.nanoTime();
            c.allReduce(x, Communicator.Op.SUM);
            double ms = (System.nanoTime() - t0) / 1e6;
            float factor = n * (n + 1) / 2f;
            for (int i = 0; i < VALUES; i++) {
                if (x[i] != factor * value(i)) {
                    throw new IllegalStateException(String.format(Locale.ROOT, "NCCL all-reduce (sum) on rank %d of %d: value %d is %s,"
                            + " expected %s", r, n, i, x[i], factor * value(i)));
                }
            }
            double[] m = {r, -r};
            c.allReduce(m, Communicator.Op.MAX);
            float[] b = {r == n - 1 ? 42.5f : -1f};
            c.broadcast(b, 0, 1, n - 1);
            float[] g = new float[n];
            c.allGather(new float[] {10 * r}, g);
            if (m[0] != n - 1 || m[1] != 0 || b[0] != 42.5f) {
                throw new IllegalStateException("NCCL on rank " + r + " of " + n + ": max all-reduce gave [" + m[0] + ", " + m[1]
                        + "] (expected [" + (n - 1) + ", 0.0]), broadcast gave " + b[0] + " (expected 42.5)");
            }
            for (int k = 0; k < n; k++) {
                if (g[k] != 10 * k) throw new IllegalStateException("NCCL all-gather on rank " + r + ": slot " + k + " is " + g[k]);
            }
            deviceAllReduce((NcclCommunicator) c);
            return ms;
        });
        double slowest = millis.stream().mapToDouble(Double::doubleValue).max().orElse(0);
        return String.format(Locale.ROOT, "PASS: NCCL %s, %d GPU(s) in this JVM: all-reduce of %d float32 (%.0f MiB, staged through"
                + " the host) in %.2f ms; max, broadcast, all-gather and an all-reduce of GPU tensors in place right", NcclCommunicator.libraryVersion(), gpus, VALUES,
                VALUES * 4 / 1048576.0, slowest);
    }

    /**
     * The training path: two tensors on this rank's GPU (a backend of its own, not registered)
     * all-reduced in place on the backend's stream ({@link NcclCommunicator#allReduce(List,
     * Communicator.Op)}), rank r contributing {@code (r + 1) * v[i]} and {@code r - i}.
     */
    private static void deviceAllReduce(NcclCommunicator c) {
        int r = c.rank(), n = c.size(), len = 4099;
        float[] a = new float[len], b = new float[7];
        for (int i = 0; i < len; i++) a[i] = (r + 1) * value(i);
        for (int i = 0; i < b.length; i++) b[i] = r - i;
        try (lmu.backend.cuda.CudaContext ctx = lmu.backend.cuda.CudaContext.open(c.device());
                lmu.backend.cuda.CudaBackend gpu = lmu.backend.cuda.CudaBackend.on(ctx)) {
            lmu.tensor.Tensor ta = gpu.toDevice(lmu.tensor.Tensor.of(a, len)), tb = gpu.toDevice(lmu.tensor.Tensor.of(b, b.length));
            c.allReduce(List.of(ta, tb), Communicator.Op.SUM);
            float[] ga = gpu.toHost(ta).f32(), gb = gpu.toHost(tb).f32();
            float factor = n * (n + 1) / 2f;
            for (int i = 0; i < len; i++) {
                if (ga[i] != factor * value(i)) {
                    throw new IllegalStateException(String.format(Locale.ROOT, "NCCL all-reduce of GPU tensors on rank %d of %d: value %d"
                            + " is %s, expected %s", r, n, i, ga[i], factor * value(i)));
                }
            }
            for (int i = 0; i < gb.length; i++) {
                float want = n * (n - 1) / 2f - n * i;
                if (gb[i] != want) {
                    throw new IllegalStateException("NCCL all-reduce of GPU tensors on rank " + r + " of " + n + ": second tensor's value "
                            + i + " is " + gb[i] + ", expected " + want);
                }
            }
        }
    }

    /** Exactly representable test values whose small multiples stay exact in float32. */
    private static float value(int i) {
        return (i % 1024) * 0.25f - 100;
    }
}
