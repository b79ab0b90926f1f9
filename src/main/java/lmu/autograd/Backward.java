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
     * Propagates {@code seed} (the gradient of some scalar with respect to {@code root}) to every
     * leaf that requires grad.
     *
     * @param retainGraph keep saved tensors so backward can run through this graph again
     */
    public static void run(Tensor root, Tensor seed, boolean retainGraph) {
        if (!root.requiresGrad()) {
            throw new IllegalStateException("backward: the tensor does not require grad (no input of the computation"
                    + " requires grad, or it was computed under GradMode.off())");
        }
        if (!Arrays.equals(root.shape(), seed.shape()) || root.dtype() != seed.dtype()) {
            throw new IllegalArgumentException("backward: seed gradient " + Arrays.toString(seed.shape()) + " " + seed.dtype()
                    + " does not match tensor " + Arrays.toString(root.shape()) + " " + root.dtype());
        }
        List<Tensor> order = topologicalOrder(root);
        Map<Tensor, Tensor> grads = new IdentityHashMap<>();
        grads.put(root, seed);
        for (int k = order.size() - 1; k >= 0; k--) {
            Tensor t = order.get(k);
            Tensor g = grads.remove(t);
            if (g == null) continue;
            Node n = t.node();
            if (n == null) {
                accumulateLeaf(t, g);
                continue;
            }
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
    }

    private static void accumulateLeaf(Tensor leaf, Tensor g) {
        if (!leaf.requiresGrad()) return;
        if (leaf.grad() == null) leaf.setGrad(g.copy());
        else Backends.of(leaf).addInPlace(leaf.grad(), g);
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
