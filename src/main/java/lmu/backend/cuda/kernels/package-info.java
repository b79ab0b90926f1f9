/**
 * Launchers, parity checks and benchmarks of the model's CUDA kernels: CTC loss, the LMU recurrence,
 * the LMU's causal convolution and fused attention in fp32 and on tensor cores in fp16/bf16 ({@code
 * kernels/ctc_loss.cu}, {@code lmu_recurrent.cu}, {@code lmu_conv.cu}, {@code attention.cu}, {@code
 * attention_half.cu}).
 */
package lmu.backend.cuda.kernels;
