/**
 * Reverse-mode automatic differentiation: {@link lmu.autograd.Function} (one op's forward and
 * backward), {@link lmu.autograd.Ctx} (what backward needs), and {@link lmu.autograd.Backward}
 * (topological sort, reverse traversal).
 *
 * <p><b>Accumulation contract.</b> A {@code Function.backward} returns fresh gradient tensors for
 * its inputs (it "writes", never accumulates). {@link lmu.autograd.Backward} sums the gradients of a
 * tensor that has several consumers, and adds ({@code +=}) into the {@code grad} of leaves
 * (parameters), so gradients of several backward passes accumulate until {@code zeroGrad}.
 * A graph is freed by its backward pass: calling backward through it again is an error unless the
 * first call retained it.
 */
package lmu.autograd;
