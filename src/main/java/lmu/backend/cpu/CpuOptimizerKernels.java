package lmu.backend.cpu;

import lmu.backend.OptimizerKernels;
import lmu.tensor.F32Storage;
import lmu.tensor.F64Storage;
import lmu.tensor.Storage;
import lmu.tensor.Tensor;

/**
 * The reference optimizer kernels: scalar loops in double over any compute dtype (float32 or
 * float64 parameters and gradients; float32 moments), the arithmetic that {@code lmu.optim.Adam},
 * {@code lmu.optim.GradClip} and {@code lmu.amp.DynamicLossScaler} define.
 */
public final class CpuOptimizerKernels implements OptimizerKernels {
    public static final CpuOptimizerKernels INSTANCE = new CpuOptimizerKernels();

    private CpuOptimizerKernels() {}

    @Override
    public void adamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps,
            double weightDecay, boolean decoupled, long step) {
        int n = param.numel();
        if (grad.numel() != n || m.numel() != n || v.numel() != n) {
            throw new IllegalArgumentException("OptimizerKernels.adamUpdate: grad, m and v must have " + n
                    + " elements like param, got " + grad.numel() + ", " + m.numel() + ", " + v.numel());
        }
        if (step < 1) throw new IllegalArgumentException("OptimizerKernels.adamUpdate: step must be >= 1, got " + step);
        double c1 = 1 - Math.pow(beta1, step), c2 = 1 - Math.pow(beta2, step);
        Storage p = param.storage(), g = grad.storage();
        float[] mm = m.f32(), vv = v.f32();
        for (int i = 0; i < n; i++) {
            double pi = p.get(i);
            double gi = g.get(i);
            if (!decoupled) gi += weightDecay * pi;
            double mi = beta1 * mm[i] + (1 - beta1) * gi;
            double vi = beta2 * vv[i] + (1 - beta2) * gi * gi;
            mm[i] = (float) mi;
            vv[i] = (float) vi;
            double upd = (mi / c1) / (Math.sqrt(vi / c2) + eps);
            if (decoupled) upd += weightDecay * pi;
            p.set(i, pi - lr * upd);
        }
    }

    @Override
    public double globalNorm(Tensor[] grads) {
        double s = 0;
        for (Tensor t : grads) {
            Storage g = t.storage();
            for (int i = 0; i < g.size(); i++) {
                double v = g.get(i);
                s += v * v;
            }
        }
        return Math.sqrt(s);
    }

    @Override
    public double clipGlobalNorm(Tensor[] grads, double maxNorm) {
        double norm = globalNorm(grads);
        if (!Double.isFinite(norm) || maxNorm <= 0 || norm <= maxNorm) return norm;
        double scale = maxNorm / (norm + 1e-6);
        for (Tensor t : grads) {
            Storage g = t.storage();
            for (int i = 0; i < g.size(); i++) g.set(i, g.get(i) * scale);
        }
        return norm;
    }

    @Override
    public boolean unscaleAllFinite(Tensor[] grads, double invScale) {
        for (Tensor t : grads) {
            if (!unscaleInPlace(t.storage(), invScale)) return false;
        }
        return true;
    }

    /** g ·= inv; false as soon as a non-finite value is met. */
    private static boolean unscaleInPlace(Storage s, double inv) {
        if (s instanceof F32Storage f) {
            float[] a = f.data();
            float k = (float) inv; // exact when the scale is a power of two
            if (inv == 1) return allFinite(a);
            for (int i = 0; i < a.length; i++) {
                float v = a[i];
                if (!Float.isFinite(v)) return false;
                a[i] = v * k;
            }
            return true;
        }
        if (s instanceof F64Storage d) {
            double[] a = d.data();
            for (int i = 0; i < a.length; i++) {
                if (!Double.isFinite(a[i])) return false;
                a[i] *= inv;
            }
            return true;
        }
        throw new IllegalArgumentException("OptimizerKernels.unscaleAllFinite: gradients must be F32 or F64 CPU tensors, got "
                + s.dtype() + " in " + s.getClass().getSimpleName());
    }

    private static boolean allFinite(float[] a) {
        for (float v : a) if (!Float.isFinite(v)) return false;
        return true;
    }
}
