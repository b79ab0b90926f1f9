package lmu.optim;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import lmu.backend.Backends;
import lmu.backend.OptimizerKernels;
import lmu.tensor.Tensor;

/**
 * Global-norm gradient clipping over a set of parameters, on their device through {@link
 * OptimizerKernels} (one wait for the device, for the norm).
 */
public final class GradClip {
    private GradClip() {}

    /** L2 norm over all gradients (NaN or infinity when any gradient is non-finite). */
    public static double globalNorm(Collection<Tensor> params) {
        Tensor[] g = grads(params);
        return g.length == 0 ? 0 : Backends.kernels(g[0], OptimizerKernels.class).globalNorm(g);
    }

    /**
     * Scales all gradients by maxNorm/(norm + 1e-6) when the global norm exceeds maxNorm.
     *
     * @return the norm before clipping (non-finite values are returned untouched, for the caller to skip the step)
     */
    public static double clipGlobalNorm(Collection<Tensor> params, double maxNorm) {
        Tensor[] g = grads(params);
        return g.length == 0 ? 0 : Backends.kernels(g[0], OptimizerKernels.class).clipGlobalNorm(g, maxNorm);
    }

    /**
     * The gradients of the parameters that have one.
     *
     * @throws IllegalArgumentException when they are on different devices
     */
    static Tensor[] grads(Collection<Tensor> params) {
        List<Tensor> out = new ArrayList<>();
        for (Tensor p : params) {
            Tensor g = p.grad();
            if (g == null) continue;
            if (!out.isEmpty() && !g.device().equals(out.get(0).device())) {
                throw new IllegalArgumentException("GradClip: gradients must share one device, got " + out.get(0).device()
                        + " and " + g.device() + (p.name() == null ? "" : " (" + p.name() + ")"));
            }
            out.add(g);
        }
        return out.toArray(new Tensor[0]);
    }
}
