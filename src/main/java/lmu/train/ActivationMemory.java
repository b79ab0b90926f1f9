package lmu.train;

import java.util.Locale;
import lmu.amp.Precision;
import lmu.nn.ModelConfig;

/**
 * Estimate of the activations one training step keeps for backward, split into values the
 * precision policy stores in half precision (operands of matrix products: projection inputs, q, k,
 * v, attention probabilities, convolution and LMU inputs) and values that stay fp32 whatever the
 * precision (layer-norm inputs on the fp32 residual stream, the LMU's internal memory and
 * pre-activation, log-probabilities for CTC). Counted per encoder block from the model shape, one
 * copy of each tensor kept for backward (casts fused into the producing kernel, so a value is never
 * kept twice); results that no backward needs (attention scores, projection outputs), per-row
 * statistics, dropout masks and workspace are left out. {@link #bytes} at {@link Precision#OFF} is the fp32 figure, at FP16 or
 * BF16 the half-precision elements take 2 bytes instead of 4.
 *
 * @param halfElements elements stored in the policy's format
 * @param fp32Elements elements always stored in fp32
 */
public record ActivationMemory(long halfElements, long fp32Elements) {
    /**
     * @param m the model
     * @param batch B, utterances per batch
     * @param frames T, input frames of the longest utterance of the batch (before downsampling)
     * @throws IllegalArgumentException if batch or frames is not positive
     */
    public static ActivationMemory estimate(ModelConfig m, int batch, int frames) {
        if (batch <= 0 || frames <= 0) {
            throw new IllegalArgumentException("ActivationMemory: batch and frames must be > 0, got " + batch + " and " + frames);
        }
        long half = 0, full = 0;
        long b = batch, t = frames, c = m.hidden(), h = m.heads();
        half += b * t * m.inputDim(); // features as the operand of the input projection
        for (int block = 1; block <= m.blocks(); block++) {
            long btc = b * t * c;
            // attention: layer-norm input (fp32); projection operand, q, k, v, the softmax output (stored once, as
            // the operand of probabilities·v; the softmax backward computes in fp32 from it) and the context
            full += btc;
            half += btc + 3 * btc + b * h * t * t + btc;
            // LMU: layer-norm input, memory (B, T, K·d) and pre-activation in fp32; the input as operand
            full += btc + b * t * (long) m.lmu().memoryD() * m.lmu().order() + btc;
            half += btc;
            if (m.feedForward() > 0) {
                long btf = b * t * m.feedForward();
                full += btc; // layer-norm input
                half += btc + btf + btf; // operand, GELU input, GELU output as operand
            }
            if (m.downsampleAfter().contains(block)) {
                half += btc; // convolution input
                t = m.downsampled((int) t);
            }
        }
        half += b * t * c; // operand of the CTC head
        full += b * t * m.vocabSize(); // log-probabilities for the CTC loss
        return new ActivationMemory(half, full);
    }

    /** Bytes at a precision: half elements at its width (4 bytes when off), the rest at 4. */
    public long bytes(Precision p) {
        return halfElements * p.bytes() + fp32Elements * 4;
    }

    /** One line for the dry run: the estimate at the run's precision, and at fp32 for comparison. */
    public String describe(Precision p, int batch, int frames) {
        double mib = bytes(p) / 1048576.0;
        String s = String.format(Locale.ROOT, "activation memory estimate: %.1f MiB for a batch of %d x %d frames (%s)", mib,
                batch, frames, p == Precision.OFF ? "fp32" : p.configName() + " operands");
        if (p != Precision.OFF) s += String.format(Locale.ROOT, "; %.1f MiB in fp32", bytes(Precision.OFF) / 1048576.0);
        return s;
    }
}
