package lmu.autograd;

import java.util.ArrayList;
import java.util.List;
import lmu.tensor.Tensor;

/** What one op's forward leaves for its backward: saved tensors and values, and which inputs need gradients. */
public final class Ctx {
    private final boolean[] needsInputGrad;
    private List<Object> saved = new ArrayList<>();

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

    boolean released() {
        return saved == null;
    }

    void release() {
        saved = null;
    }
}
