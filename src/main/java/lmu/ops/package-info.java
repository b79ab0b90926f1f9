/**
 * Differentiable ops, one class per op: argument checks at the boundary, output allocation, and
 * the kernel calls of forward and backward on the tensor's {@link lmu.backend.Backend}.
 */
package lmu.ops;
