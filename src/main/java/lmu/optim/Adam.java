package lmu.optim;

import java.util.LinkedHashMap;
import java.util.Map;
import lmu.tensor.Storage;
import lmu.tensor.Tensor;
import lmu.util.Checks;

/**
 * Adam (Kingma & Ba) with bias correction. Weight decay is either added to the gradient (Adam's
 * L2 form) or applied to the weights directly (AdamW's decoupled form, Loshchilov & Hutter):
 * <pre>
 *   m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
 *   p −= lr · ( m/(1−β1^t) / (sqrt(v/(1−β2^t)) + eps)  + wd·p  [decoupled only] )
 * </pre>
 * Moments are float32 whatever the parameters' storage. Parameters without a gradient are skipped.
 */
public final class Adam {
    private final Map<String, Tensor> params;
    private final double beta1, beta2, eps, weightDecay;
    private final boolean decoupled;
    private final Map<String, float[]> m = new LinkedHashMap<>();
    private final Map<String, float[]> v = new LinkedHashMap<>();
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
            m.put(k, new float[t.numel()]);
            v.put(k, new float[t.numel()]);
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

    /** One update with learning rate {@code lr}. */
    public void step(double lr) {
        step++;
        double c1 = 1 - Math.pow(beta1, step), c2 = 1 - Math.pow(beta2, step);
        params.forEach((name, p) -> {
            Tensor g = p.grad();
            if (g == null) return;
            update(p.storage(), g.storage(), m.get(name), v.get(name), lr, c1, c2);
        });
    }

    private void update(Storage p, Storage g, float[] mm, float[] vv, double lr, double c1, double c2) {
        for (int i = 0; i < mm.length; i++) {
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

    public void zeroGrad() {
        params.values().forEach(Tensor::zeroGrad);
    }

    /** Moments and step count, for checkpoints: keys {@code <param>.exp_avg}, {@code <param>.exp_avg_sq}. */
    public Map<String, float[]> state() {
        Map<String, float[]> s = new LinkedHashMap<>();
        m.forEach((k, a) -> s.put(k + ".exp_avg", a));
        v.forEach((k, a) -> s.put(k + ".exp_avg_sq", a));
        return s;
    }

    /** Restores what {@link #state()} and {@link #steps()} returned. */
    public void load(Map<String, float[]> s, long steps) {
        for (String k : m.keySet()) {
            copyInto(s, k + ".exp_avg", m.get(k));
            copyInto(s, k + ".exp_avg_sq", v.get(k));
        }
        this.step = steps;
    }

    private static void copyInto(Map<String, float[]> s, String key, float[] dst) {
        float[] src = s.get(key);
        if (src == null) throw new IllegalArgumentException("Adam: optimizer state has no entry " + key);
        if (src.length != dst.length) {
            throw new IllegalArgumentException("Adam: optimizer state " + key + " has " + src.length + " values, parameter has " + dst.length);
        }
        System.arraycopy(src, 0, dst, 0, dst.length);
    }
}
