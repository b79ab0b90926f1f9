package lmu.nn;

import lmu.backend.FusedKernels.Activation;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;

/** Position-wise feed-forward: y = W₂·dropout(GELU(W₁ x + b₁)) + b₂, C → F → C. Parameters {@code in}, {@code out}. */
public final class FeedForward extends Module {
    private final Linear in;
    private final Linear out;
    private final Dropout dropout;

    /**
     * @param channels C
     * @param width F, inner width
     * @param dropout dropout after the GELU (training only)
     */
    public FeedForward(int channels, int width, double dropout, Rng rng, DType dtype) {
        this.in = child("in", new Linear(channels, width, true, rng, dtype));
        this.out = child("out", new Linear(width, channels, true, rng, dtype));
        this.dropout = child("dropout", new Dropout(dropout, rng.nextLong()));
    }

    /**
     * @param x shape (…, C)
     * @return shape (…, C)
     */
    public Tensor forward(Tensor x) {
        return out.forward(dropout.forward(in.forward(x, Activation.GELU)));
    }
}
