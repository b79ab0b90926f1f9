package lmu.autograd;

import java.util.Arrays;
import lmu.tensor.Tensor;

/**
 * One differentiable op. Subclasses implement {@link #forward} and {@link #backward}; callers use
 * {@link #apply}, which runs forward without recording and attaches a graph node when grad mode is
 * on and an input requires grad. Op parameters (axes, flags) are fields of the instance.
 */
public abstract class Function {
    /** Computes the output; inputs may contain null for absent optional operands. */
    protected abstract Tensor forward(Ctx ctx, Tensor... inputs);

    /**
     * Gradients for each input given the output's gradient {@code dOut}, null where
     * {@code ctx.needsInputGrad(i)} is false. Must not modify {@code dOut}.
     */
    protected abstract Tensor[] backward(Ctx ctx, Tensor dOut);

    /** Op name used in messages. */
    public String name() {
        return getClass().getSimpleName();
    }

    /** Runs this op on {@code inputs}, recording it for backward where needed. */
    public final Tensor apply(Tensor... inputs) {
        return applyAll(inputs)[0];
    }

    /**
     * As {@link #apply}, for an op whose forward also registers extra outputs ({@link Ctx#output}):
     * returns {the forward's result, the extra outputs in order}. Each extra output is recorded as
     * a consumer of the first, so backward reaches it first and hands its gradient to this op's
     * {@link #backward} as {@link Ctx#outputGrad}; that single call sees the gradients of all
     * outputs (dOut is null when only extra outputs received one).
     */
    public final Tensor[] applyAll(Tensor... inputs) {
        boolean[] needs = new boolean[inputs.length];
        boolean any = false;
        boolean record = GradMode.isEnabled();
        Tensor first = null;
        for (int i = 0; i < inputs.length; i++) {
            Tensor t = inputs[i];
            if (t == null) continue;
            if (first == null) first = t;
            else checkCompatible(first, t, i);
            needs[i] = record && t.requiresGrad();
            any |= needs[i];
        }
        Ctx ctx = new Ctx(needs);
        Tensor out;
        long t0 = Profiler.enabled() ? System.nanoTime() : 0;
        try (GradMode g = GradMode.off()) {
            out = forward(ctx, inputs);
        }
        if (t0 != 0) Profiler.record(name(), false, System.nanoTime() - t0);
        Tensor[] all = ctx.takeOutputs(out);
        if (any) {
            out.attach(new Node(this, ctx, inputs.clone()));
            for (int i = 1; i < all.length; i++) {
                all[i].attach(new Node(new ExtraOutput(ctx, i, name()), new Ctx(new boolean[] {true}), new Tensor[] {out}));
            }
        }
        return all;
    }

    /** Hands the gradient of extra output {@code index} to the owning op's context; nothing flows to the first output. */
    private static final class ExtraOutput extends Function {
        private final Ctx owner;
        private final int index;
        private final String op;

        ExtraOutput(Ctx owner, int index, String op) {
            this.owner = owner;
            this.index = index;
            this.op = op;
        }

        @Override
        public String name() {
            return op + "[" + index + "]";
        }

        @Override
        protected Tensor forward(Ctx ctx, Tensor... inputs) {
            throw new IllegalStateException(name() + ": an extra output is made by its op's forward");
        }

        @Override
        protected Tensor[] backward(Ctx ctx, Tensor dOut) {
            owner.setOutputGrad(index, dOut);
            return new Tensor[1];
        }
    }

    /** Inputs must agree in dtype and device unless an op overrides this (e.g. casts). */
    protected void checkCompatible(Tensor first, Tensor other, int index) {
        if (first.dtype() != other.dtype()) {
            throw new IllegalArgumentException(name() + ": dtype mismatch, input 0 is " + first.dtype() + " but input " + index
                    + " is " + other.dtype() + " (convert with Tensor.to)");
        }
        if (!first.device().equals(other.device())) {
            throw new IllegalArgumentException(name() + ": device mismatch, input 0 is on " + first.device() + " but input "
                    + index + " is on " + other.device());
        }
    }

    /** For backward implementations: fails unless {@code g} has {@code shape}. */
    protected final void checkGradShape(Tensor g, int[] shape, int input) {
        if (!Arrays.equals(g.shape(), shape)) {
            throw new IllegalStateException(name() + ": backward produced gradient of shape " + Arrays.toString(g.shape())
                    + " for input " + input + " of shape " + Arrays.toString(shape));
        }
    }
}
