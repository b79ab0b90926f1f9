/**
 * Launchers, parity checks and benchmarks of the model's CUDA kernels: CTC loss, the LMU recurrence,
 * the LMU's causal convolution and fused attention ({@code kernels/ctc_loss.cu}, {@code
 * lmu_recurrent.cu}, {@code lmu_conv.cu}, {@code attention.cu}).
 */
package lmu.backend.cuda.kernels;
