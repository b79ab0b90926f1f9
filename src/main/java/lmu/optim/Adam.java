package lmu.optim;

import java.util.LinkedHashMap;
import java.util.Map;
import lmu.backend.Backends;
import lmu.backend.OptimizerKernels;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.DeviceStorage;
import lmu.tensor.Tensor;
import lmu.util.Checks;

/**
 * Adam (Kingma & Ba) with bias correction. Weight decay is either added to the gradient (Adam's
 * L2 form) or applied to the weights directly (AdamW's decoupled form, Loshchilov & Hutter):
 * <pre>
 *   m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
 *   p −= lr · ( m/(1−β1^t) / (sqrt(v/(1−β2^t)) + eps)  + wd·p  [decoupled only] )
 * </pre>
 * Moments are float32 whatever the parameters' storage, and live on each parameter's device; the
 * update is the device's fused {@link OptimizerKernels#adamUpdate}. Parameters without a gradient
 * are skipped.
 */
public final class Adam {
    private final Map<String, Tensor> params;
    private final double beta1, beta2, eps, weightDecay;
    private final boolean decoupled;
    private final Map<String, Tensor> m = new LinkedHashMap<>();
    private final Map<String, Tensor> v = new LinkedHashMap<>();
    private long step;

    private Adam(Map<String, Tensor> params, double beta1, double beta2, double eps, double weightDecay, boolean decoupled) {
        Checks.inRange("beta1", beta1, 0, 1);
        Checks.inRange("beta2", beta2, 0, 1);
        Checks.positive("eps", eps);
        if (weightDecay < 0) throw new IllegalArgumentException("weight_decay : " + weightDecay + " (expected: >= 0)");
        this.params = new LinkedHashMap<>(params);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.decoupled = decoupled;
        params.forEach((k, t) -> {
            m.put(k, moment(t));
            v.put(k, moment(t));
        });
    }

    /** Adam with L2 weight decay added to the gradient. */
    public static Adam adam(Map<String, Tensor> params, double beta1, double beta2, double eps, double weightDecay) {
        return new Adam(params, beta1, beta2, eps, weightDecay, false);
    }

    /** AdamW: weight decay decoupled from the gradient. */
    public static Adam adamW(Map<String, Tensor> params, double beta1, double beta2, double eps, double weightDecay) {
        return new Adam(params, beta1, beta2, eps, weightDecay, true);
    }

    /** Number of updates taken. */
    public long steps() {
        return step;
    }

    /** A zero float32 moment on the parameter's device. */
    private static Tensor moment(Tensor p) {
        if (p.device().kind() == Device.Kind.CPU) return Tensor.zeros(DType.F32, p.numel());
        return Backends.of(p).empty(DType.F32, p.numel());
    }

    /**
     * One update with learning rate {@code lr}.
     *
     * @throws IllegalStateException when a parameter has moved to another device since this optimizer was made
     */
    public void step(double lr) {
        step++;
        params.forEach((name, p) -> {
            Tensor g = p.grad();
            if (g == null) return;
            Tensor mm = m.get(name), vv = v.get(name);
            if (!mm.device().equals(p.device())) {
                throw new IllegalStateException("Adam: parameter " + name + " is on " + p.device() + ", its moments on "
                        + mm.device() + " (make the optimizer after moving the model)");
            }
            Backends.kernels(p, OptimizerKernels.class).adamUpdate(p, g, mm, vv, lr, beta1, beta2, eps, weightDecay, decoupled,
                    step);
        });
    }

    /**
     * One update with the learning rate and bias corrections read from a device-side step state
     * ({@link OptimizerKernels#adamUpdate(Tensor, Tensor, Tensor, Tensor, Tensor, double, double,
     * double, double, boolean)}), skipped on the device when the state says the gradients were not
     * finite. The host fills the state before the step (see {@link #biasCorrections}) and, once it
     * has read that the update was applied, calls {@link #countStep}: nothing of this call depends
     * on host values that change from step to step.
     *
     * @param state the step state, float32, {@link OptimizerKernels#STEP_STATE_SIZE} elements on the parameters' device
     * @throws IllegalStateException when a parameter has moved to another device since this optimizer was made
     */
    public void step(Tensor state) {
        params.forEach((name, p) -> {
            Tensor g = p.grad();
            if (g == null) return;
            Tensor mm = m.get(name), vv = v.get(name);
            if (!mm.device().equals(p.device())) {
                throw new IllegalStateException("Adam: parameter " + name + " is on " + p.device() + ", its moments on "
                        + mm.device() + " (make the optimizer after moving the model)");
            }
            Backends.kernels(p, OptimizerKernels.class).adamUpdate(p, g, mm, vv, state, beta1, beta2, eps, weightDecay,
                    decoupled);
        });
    }

    /** Counts an update applied by {@link #step(Tensor)}. */
    public void countStep() {
        step++;
    }

    /**
     * The bias corrections {@code 1 - beta1^t} and {@code 1 - beta2^t} of update number {@code t}.
     *
     * @throws IllegalArgumentException when t &lt; 1
     */
    public double[] biasCorrections(long t) {
        if (t < 1) throw new IllegalArgumentException("Adam: step must be >= 1, got " + t);
        return new double[] {1 - Math.pow(beta1, t), 1 - Math.pow(beta2, t)};
    }

    public void zeroGrad() {
        params.values().forEach(Tensor::zeroGrad);
    }

    /**
     * Moments, for checkpoints: keys {@code <param>.exp_avg}, {@code <param>.exp_avg_sq}. For CPU
     * parameters the arrays are the moments themselves (writing them changes the optimizer); for
     * parameters on a device they are host copies.
     */
    public Map<String, float[]> state() {
        Map<String, float[]> s = new LinkedHashMap<>();
        m.forEach((k, a) -> s.put(k + ".exp_avg", host(a)));
        v.forEach((k, a) -> s.put(k + ".exp_avg_sq", host(a)));
        return s;
    }

    private static float[] host(Tensor t) {
        return t.storage() instanceof DeviceStorage d ? d.toHost() : t.f32();
    }

    /**
     * Restores what {@link #state()} and {@link #steps()} returned (copied to the moments' device).
     *
     * @throws IllegalArgumentException when an entry is missing or has the wrong length
     */
    public void load(Map<String, float[]> s, long steps) {
        for (String k : m.keySet()) {
            copyInto(s, k + ".exp_avg", m.get(k));
            copyInto(s, k + ".exp_avg_sq", v.get(k));
        }
        this.step = steps;
    }

    private static void copyInto(Map<String, float[]> s, String key, Tensor dst) {
        float[] src = s.get(key);
        if (src == null) throw new IllegalArgumentException("Adam: optimizer state has no entry " + key);
        if (src.length != dst.numel()) {
            throw new IllegalArgumentException("Adam: optimizer state " + key + " has " + src.length + " values, parameter has "
                    + dst.numel());
        }
        if (dst.storage() instanceof DeviceStorage d) {
            d.fromHost(src);
        } else if (src != dst.f32()) {
            System.arraycopy(src, 0, dst.f32(), 0, src.length);
        }
    }
}
