/**
 * Mixed precision: the precision policy (which values are stored in fp16/bf16, emulated on the CPU
 * by rounding) and the dynamic loss scaler that keeps fp16 gradients representable.
 */
package lmu.amp;
