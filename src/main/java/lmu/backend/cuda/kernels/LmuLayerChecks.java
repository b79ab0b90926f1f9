package lmu.backend.cuda.kernels;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import lmu.backend.Backend;
import lmu.backend.Backends;
import lmu.backend.cuda.CudaBackend;
import lmu.backend.cuda.ParityCheck;
import lmu.backend.cuda.ParityRun;
import lmu.backend.cuda.Tolerance;
import lmu.nn.lmu.Activation;
import lmu.nn.lmu.Discretizer;
import lmu.nn.lmu.LmuConfig;
import lmu.nn.lmu.LmuLayer;
import lmu.nn.lmu.LmuLayer.Mode;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.Tensor;
import lmu.util.Rng;

/**
 * CPU-versus-CUDA parity of the whole {@link LmuLayer} on the device path (generic ops plus {@link
 * CudaLmuKernels}), forward and backward through autograd: the layer moved to the GPU against the
 * same weights in a float64 layer on the CPU, for h, dx and every parameter gradient, in both modes
 * with padded batches (a length-0 sequence included). Tolerance: the backend's matrix-product
 * tolerance (TF32 when cuBLAS uses tensor cores). Registered in {@link
 * lmu.backend.cuda.CudaSelfTest#checks()}; a subset: {@code java -cp lmu-engine.jar
 * lmu.backend.cuda.CudaSelfTest 'lmu-layer'}.
 */
public final class LmuLayerChecks {
    private LmuLayerChecks() {}

    /** Every check, in the order they run. */
    public static List<ParityCheck> all() {
        List<ParityCheck> c = new ArrayList<>();
        c.add(ParityCheck.of("lmu-layer parallel B3 T70 C5 H13 K2 d33", p -> layer(p,
                LmuConfig.of(5, 13, 2, 33, 40).withHidden(true, false, Activation.TANH).withBiases(true, true), Mode.AUTO,
                70, new int[] {70, 0, 41})));
        c.add(ParityCheck.of("lmu-layer parallel B2 T207 C4 H37 d192", p -> layer(p,
                LmuConfig.of(4, 37, 1, 192, 400), Mode.PARALLEL, 207, new int[] {100, 207})));
        c.add(ParityCheck.of("lmu-layer recurrent all feedback B3 T11 C5 H13 K2 d7", p -> layer(p,
                new LmuConfig(5, 13, 2, 7, 9, Discretizer.ZOH, true, true, true, true, Activation.TANH, true, true, 64),
                Mode.RECURRENT, 11, new int[] {11, 0, 6})));
        c.add(ParityCheck.of("lmu-layer recurrent no feedback B2 T23 C3 H37 d64", p -> layer(p,
                LmuConfig.of(3, 37, 1, 64, 80).withHidden(false, false, Activation.RELU), Mode.RECURRENT, 23,
                new int[] {17, 23})));
        return c;
    }

    private static void layer(ParityRun p, LmuConfig c, Mode mode, int frames, int[] lengths) {
        CudaBackend backend = p.backend();
        Device gpu = backend.device();
        int batch = lengths.length, in = c.inputSize(), hid = c.hiddenSize(), w = c.memoryWidth();
        long seed = p.random().nextLong();
        LmuLayer dev = new LmuLayer(c, mode, new Rng(seed), DType.F32);
        LmuLayer ref = new LmuLayer(c, mode, new Rng(seed), DType.F64);
        Random r = p.random();
        for (Map.Entry<String, Tensor> e : dev.namedParameters().entrySet()) {
            Tensor a = e.getValue(), b = ref.namedParameters().get(e.getKey());
            for (int i = 0; i < a.numel(); i++) {
                float v = (float) (0.3 * r.nextGaussian());
                a.storage().set(i, v);
                b.storage().set(i, v);
            }
        }
        float[] x = p.randn(batch * frames * in, 1);
        float[] g = p.randn(batch * frames * hid, 1);
        Tensor xr = Tensor.of(toDouble(x), batch, frames, in).requiresGrad(true);
        Tensor hr = ref.forward(xr, lengths);
        hr.mul(Tensor.of(toDouble(g), batch, frames, hid)).sum().backward();

        Backend previous = registered(gpu);
        Backends.registerCuda(backend);
        try {
            dev.to(gpu);
            Tensor xd = backend.fromHost(x, batch, frames, in).requiresGrad(true);
            Tensor hd = dev.forward(xd, lengths);
            hd.mul(backend.fromHost(g, batch, frames, hid)).sum().backward();
            Tolerance tol = backend.matmulTolerance();
            int sums = frames * (w + hid + in); // every frame's products feed the later ones
            p.compare("h", backend.toHost(hd).f32(), hr.toDoubleArray(), sums, tol);
            p.compare("dx", backend.toHost(xd.grad()).f32(), xr.grad().toDoubleArray(), sums, tol);
            for (Map.Entry<String, Tensor> e : dev.namedParameters().entrySet()) {
                p.compare("d" + e.getKey(), backend.toHost(e.getValue().grad()).f32(),
                        ref.namedParameters().get(e.getKey()).grad().toDoubleArray(), sums * batch, tol);
            }
        } finally {
            if (previous != null) Backends.registerCuda(previous);
            else Backends.unregisterCuda(backend);
        }
    }

    /** The backend registered for device, or null. */
    private static Backend registered(Device device) {
        try {
            return Backends.of(device);
        } catch (IllegalStateException none) {
            return null;
        }
    }

    private static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }
}
