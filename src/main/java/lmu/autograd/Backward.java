package lmu.autograd;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import lmu.backend.Backends;
import lmu.tensor.Tensor;

/** The backward pass: a depth-first topological sort, then reverse traversal accumulating gradients. */
public final class Backward {
    private Backward() {}

    /**
     * Told, on the thread running backward, when a leaf's gradient is final for this backward pass:
     * every consumer of the leaf in the graph has run and the leaf's {@code grad} holds its sum
     * (plus what earlier passes accumulated). Called once per leaf that received a gradient, as
     * early as the graph allows, while backward continues with the rest of the graph afterwards.
     */
    @FunctionalInterface
    public interface LeafListener {
        void gradientReady(Tensor leaf);
    }

    /**
     * Propagates {@code seed} (the gradient of some scalar with respect to {@code root}) to every
     * leaf that requires grad.
     *
     * @param retainGraph keep saved tensors so backward can run through this graph again
     */
    public static void run(Tensor root, Tensor seed, boolean retainGraph) {
        run(root, seed, retainGraph, null);
    }

    /**
     * As {@link #run(Tensor, Tensor, boolean)}, telling {@code listener} as each leaf's gradient
     * becomes final (e.g. to start reducing it across data-parallel ranks while backward goes on).
     *
     * @param listener told of each leaf that got a gradient; null for none
     */
    public static void run(Tensor root, Tensor seed, boolean retainGraph, LeafListener listener) {
        if (!root.requiresGrad()) {
            throw new IllegalStateException("backward: the tensor does not require grad (no input of the computation"
                    + " requires grad, or it was computed under GradMode.off())");
        }
        if (!Arrays.equals(root.shape(), seed.shape()) || root.dtype() != seed.dtype()) {
            throw new IllegalArgumentException("backward: seed gradient " + Arrays.toString(seed.shape()) + " " + seed.dtype()
                    + " does not match tensor " + Arrays.toString(root.shape()) + " " + root.dtype());
        }
        List<Tensor> order = topologicalOrder(root);
        // consumers still to run per leaf: a leaf is accumulated (final) right after its last one
        Map<Tensor, int[]> pending = new IdentityHashMap<>();
        for (Tensor t : order) {
            if (t.node() == null) continue;
            for (Tensor in : t.node().inputs) if (isLeaf(in)) pending.computeIfAbsent(in, x -> new int[1])[0]++;
        }
        Map<Tensor, Tensor> grads = new IdentityHashMap<>();
        grads.put(root, seed);
        for (int k = order.size() - 1; k >= 0; k--) {
            Tensor t = order.get(k);
            Tensor g = grads.remove(t);
            Node n = t.node();
            if (n == null) {
                if (g != null) accumulateLeaf(t, g, listener); // only a root that is itself a leaf gets here
                continue;
            }
            if (g != null) propagate(n, g, grads, retainGraph);
            for (Tensor in : n.inputs) {
                if (isLeaf(in) && --pending.get(in)[0] == 0) {
                    Tensor gl = grads.remove(in);
                    if (gl != null) accumulateLeaf(in, gl, listener);
                }
            }
        }
    }

    private static boolean isLeaf(Tensor t) {
        return t != null && t.node() == null && t.requiresGrad();
    }

    /** Runs one node's backward and adds its input gradients into {@code grads}. */
    private static void propagate(Node n, Tensor g, Map<Tensor, Tensor> grads, boolean retainGraph) {
        if (n.ctx.released()) n.ctx.saved(0); // throws the "backward called twice" error
        long t0 = Profiler.enabled() ? System.nanoTime() : 0;
        Tensor[] inGrads = n.function.backward(n.ctx, g);
        if (t0 != 0) Profiler.record(n.function.name(), true, System.nanoTime() - t0);
        for (int i = 0; i < n.inputs.length; i++) {
            Tensor in = n.inputs[i];
            if (in == null || !n.ctx.needsInputGrad(i)) continue;
            Tensor gi = inGrads[i];
            if (gi == null) continue;
            n.function.checkGradShape(gi, in.shape(), i);
            Tensor prev = grads.get(in);
            grads.put(in, prev == null ? gi : Backends.of(prev).addNew(prev, gi));
        }
        if (!retainGraph) n.ctx.release();
    }

    private static void accumulateLeaf(Tensor leaf, Tensor g, LeafListener listener) {
        if (!leaf.requiresGrad()) return;
        if (leaf.grad() == null) leaf.setGrad(g.copy());
        else Backends.of(leaf).addInPlace(leaf.grad(), g);
        if (listener != null) listener.gradientReady(leaf);
    }

    /** Tensors reachable from root through recorded nodes, inputs before consumers. */
    static List<Tensor> topologicalOrder(Tensor root) {
        List<Tensor> order = new ArrayList<>();
        Set<Tensor> visited = Collections.newSetFromMap(new IdentityHashMap<>());
        // iterative DFS: deep graphs (long unrolled recurrences) must not overflow the stack
        ArrayDeque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[] {root, 0});
        visited.add(root);
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Tensor t = (Tensor) frame[0];
            int next = (Integer) frame[1];
            Node n = t.node();
            Tensor[] inputs = n == null ? new Tensor[0] : n.inputs;
            while (next < inputs.length && (inputs[next] == null || !inputs[next].requiresGrad() || visited.contains(inputs[next]))) {
                next++;
            }
            if (next < inputs.length) {
                frame[1] = next + 1;
                visited.add(inputs[next]);
                stack.push(new Object[] {inputs[next], 0});
            } else {
                stack.pop();
                order.add(t);
            }
        }
        return order;
    }
}
