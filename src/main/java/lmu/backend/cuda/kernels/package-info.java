/**
 * The model's fused CUDA kernels on a GPU: their launchers ({@code kernels/ctc_loss.cu}, {@code
 * lmu_recurrent.cu}, {@code lmu_conv.cu}, {@code attention.cu}, {@code logmel.cu}), the device
 * implementations of the fused-kernel families ({@link lmu.backend.LmuKernels}, {@link
 * lmu.backend.AttentionKernels}, {@link lmu.backend.CtcKernels}, {@link lmu.backend.OptimizerKernels}),
 * and their parity checks and benchmarks.
 */
package lmu.backend.cuda.kernels;
