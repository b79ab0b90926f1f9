package lmu.nn;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import lmu.tensor.Tensor;

/**
 * A layer with named parameters and sub-layers. Parameter names are dotted paths
 * ({@code blocks.0.attention.query.weight}) in registration order: the order checkpoints, gradient
 * buckets and optimizers see.
 */
public abstract class Module {
    private final Map<String, Tensor> params = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    /** Registers a parameter (marked requiresGrad) under {@code name}. */
    protected final Tensor param(String name, Tensor t) {
        if (params.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": name '" + name + "' registered twice");
        }
        t.requiresGrad(true).named(name);
        params.put(name, t);
        return t;
    }

    /** Registers a sub-layer under {@code name}. */
    protected final <M extends Module> M child(String name, M m) {
        if (params.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": name '" + name + "' registered twice");
        }
        children.put(name, m);
        return m;
    }

    /** Every parameter of this layer and its sub-layers, by dotted name, in registration order. */
    public final Map<String, Tensor> namedParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collect("", out);
        return out;
    }

    private void collect(String prefix, Map<String, Tensor> out) {
        params.forEach((k, v) -> out.put(prefix + k, v));
        children.forEach((k, m) -> m.collect(prefix + k + ".", out));
    }

    public final List<Tensor> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** Total number of parameter elements. */
    public final long parameterCount() {
        long n = 0;
        for (Tensor t : namedParameters().values()) n += t.numel();
        return n;
    }

    /**
     * Moves every parameter of this layer and its sub-layers to {@code device} (their values
     * copied from where they are now; gradients dropped). Make the optimizer afterwards.
     *
     * @return this module
     * @throws IllegalStateException when no backend is registered for {@code device}
     */
    public Module to(lmu.tensor.Device device) {
        for (Tensor t : namedParameters().values()) t.moveTo(device);
        return this;
    }

    /** The device of the parameters (the CPU for a module without any). */
    public final lmu.tensor.Device device() {
        for (Tensor t : namedParameters().values()) return t.device();
        return lmu.tensor.Device.CPU;
    }

    public final void zeroGrad() {
        for (Tensor t : namedParameters().values()) t.zeroGrad();
    }

    /** Switches training behaviour (dropout, augmentation) on or off for this layer and all below it. */
    public final void train(boolean on) {
        training = on;
        children.values().forEach(m -> m.train(on));
    }

    public final boolean isTraining() {
        return training;
    }

    public final Map<String, Module> children() {
        return java.util.Collections.unmodifiableMap(children);
    }
}
