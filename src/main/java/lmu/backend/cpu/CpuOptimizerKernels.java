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
        update(param, grad, m, v, lr, 1 - Math.pow(beta1, step), 1 - Math.pow(beta2, step), beta1, beta2, eps, weightDecay,
                decoupled);
    }

    /** The Adam arithmetic with the bias corrections given. */
    private static void update(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double c1, double c2, double beta1,
            double beta2, double eps, double weightDecay, boolean decoupled) {
        int n = param.numel();
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

    @Override
    public void unscaleToState(Tensor[] grads, Tensor state) {
        float[] st = state(state, "unscaleToState");
        double inv = st[INV_LOSS_SCALE];
        boolean finite = true;
        for (Tensor t : grads) {
            Storage s = t.storage();
            if (s instanceof F32Storage f) {
                float[] a = f.data();
                float k = (float) inv;
                for (int i = 0; i < a.length; i++) {
                    float x = a[i] * k;
                    a[i] = x;
                    finite &= Float.isFinite(x);
                }
            } else {
                for (int i = 0; i < s.size(); i++) {
                    double x = s.get(i) * inv;
                    s.set(i, x);
                    finite &= Double.isFinite(x);
                }
            }
        }
        st[FOUND_INF] = finite ? 0 : 1;
    }

    @Override
    public void clipToState(Tensor[] grads, Tensor state, double maxNorm) {
        float[] st = state(state, "clipToState");
        double sumsq = 0;
        for (Tensor t : grads) {
            Storage g = t.storage();
            for (int i = 0; i < g.size(); i++) {
                double x = g.get(i);
                sumsq += x * x;
            }
        }
        st[SUM_SQUARES] = (float) sumsq;
        double norm = Math.sqrt(sumsq);
        if (!Double.isFinite(norm) || maxNorm <= 0 || norm <= maxNorm) return;
        double scale = maxNorm / (norm + 1e-6);
        for (Tensor t : grads) {
            Storage g = t.storage();
            for (int i = 0; i < g.size(); i++) g.set(i, g.get(i) * scale);
        }
    }

    @Override
    public void adamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor state, double beta1, double beta2, double eps,
            double weightDecay, boolean decoupled) {
        int n = param.numel();
        if (grad.numel() != n || m.numel() != n || v.numel() != n) {
            throw new IllegalArgumentException("OptimizerKernels.adamUpdate: grad, m and v must have " + n
                    + " elements like param, got " + grad.numel() + ", " + m.numel() + ", " + v.numel());
        }
        float[] st = state(state, "adamUpdate");
        if (st[FOUND_INF] != 0 || !Float.isFinite(st[SUM_SQUARES])) return; // the step is skipped
        update(param, grad, m, v, st[LR], st[BIAS_CORRECTION1], st[BIAS_CORRECTION2], beta1, beta2, eps, weightDecay,
                decoupled);
    }

    /** The step state's floats, checked. */
    private static float[] state(Tensor state, String op) {
        if (state == null || !(state.storage() instanceof F32Storage f) || state.numel() != STEP_STATE_SIZE) {
            throw new IllegalArgumentException("OptimizerKernels." + op + ": state must be an f32 tensor of " + STEP_STATE_SIZE
                    + " elements, got " + (state == null ? "null" : state.dtype() + " " + java.util.Arrays.toString(state.shape())));
        }
        return f.data();
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
