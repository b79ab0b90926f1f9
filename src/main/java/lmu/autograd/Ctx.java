package lmu.autograd;

import java.util.ArrayList;
import java.util.List;
import lmu.tensor.Tensor;

/** What one op's forward leaves for its backward: saved tensors and values, and which inputs need gradients. */
public final class Ctx {
    private final boolean[] needsInputGrad;
    private List<Object> saved = new ArrayList<>();
    private List<Tensor> outputs;
    private Tensor[] outputGrads;

    Ctx(boolean[] needsInputGrad) {
        this.needsInputGrad = needsInputGrad;
    }

    /** Whether input {@code i} needs a gradient; backward returns null for the others. */
    public boolean needsInputGrad(int i) {
        return needsInputGrad[i];
    }

    /** Saves tensors or any other values, retrieved in order by {@link #saved(int)}. */
    public void save(Object... values) {
        if (saved == null) throw new IllegalStateException("Ctx: save after release");
        for (Object v : values) saved.add(v);
    }

    public Tensor tensor(int i) {
        return (Tensor) saved(i);
    }

    public Object saved(int i) {
        if (saved == null) {
            throw new IllegalStateException("backward called twice through the same graph (its saved tensors were freed by the"
                    + " first call); run forward again, or pass retainGraph=true to the first backward");
        }
        return saved.get(i);
    }

    /**
     * For a forward with several outputs: registers {@code t} as extra output number 1, 2, … (the
     * returned tensor is number 0); {@link Function#applyAll} returns them all.
     */
    public void output(Tensor t) {
        if (outputs == null) outputs = new ArrayList<>();
        outputs.add(t);
    }

    /**
     * In backward: the gradient that reached extra output {@code i} (≥ 1) in this pass, or null
     * when none did.
     */
    public Tensor outputGrad(int i) {
        return outputGrads == null ? null : outputGrads[i];
    }

    /** {out, the extra outputs}; sized for their gradients. */
    Tensor[] takeOutputs(Tensor out) {
        int n = outputs == null ? 0 : outputs.size();
        Tensor[] all = new Tensor[1 + n];
        all[0] = out;
        for (int i = 0; i < n; i++) all[i + 1] = outputs.get(i);
        outputs = null;
        if (n > 0) outputGrads = new Tensor[1 + n];
        return all;
    }

    void setOutputGrad(int i, Tensor g) {
        outputGrads[i] = g;
    }

    /** Whether an extra output received a gradient that the op's backward has not consumed yet. */
    boolean hasOutputGrads() {
        if (outputGrads != null) for (Tensor g : outputGrads) if (g != null) return true;
        return false;
    }

    void clearOutputGrads() {
        if (outputGrads != null) java.util.Arrays.fill(outputGrads, null);
    }

    boolean released() {
        return saved == null;
    }

    void release() {
        saved = null;
    }
}
