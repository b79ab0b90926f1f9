package lmu.optim;

import java.util.Collection;
import lmu.tensor.Storage;
import lmu.tensor.Tensor;

/** Global-norm gradient clipping over a set of parameters. */
public final class GradClip {
    private GradClip() {}

    /** L2 norm over all gradients (NaN or infinity when any gradient is non-finite). */
    public static double globalNorm(Collection<Tensor> params) {
        double s = 0;
        for (Tensor p : params) {
            if (p.grad() == null) continue;
            Storage g = p.grad().storage();
            for (int i = 0; i < g.size(); i++) {
                double v = g.get(i);
                s += v * v;
            }
        }
        return Math.sqrt(s);
    }

    /**
     * Scales all gradients by maxNorm/norm when the global norm exceeds maxNorm.
     *
     * @return the norm before clipping (non-finite values are returned untouched, for the caller to skip the step)
     */
    public static double clipGlobalNorm(Collection<Tensor> params, double maxNorm) {
        double norm = globalNorm(params);
        if (!Double.isFinite(norm) || maxNorm <= 0 || norm <= maxNorm) return norm;
        double scale = maxNorm / (norm + 1e-6);
        for (Tensor p : params) {
            if (p.grad() == null) continue;
            Storage g = p.grad().storage();
            for (int i = 0; i < g.size(); i++) g.set(i, g.get(i) * scale);
        }
        return norm;
    }
}
