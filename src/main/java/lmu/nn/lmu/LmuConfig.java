package lmu.nn.lmu;

import java.util.Locale;
import lmu.util.Checks;

/**
 * Shape and options of one LMU layer (keras-lmu's cell with a Dense or SimpleRNN hidden cell).
 *
 * <pre>
 * u_t = x_t·e_x + h_{t−1}·e_h + m_{t−1}·e_m + b_u        (memory_d channels)
 * m_t = Ā m_{t−1} + B̄ u_t                                  (per memory channel, order d)
 * h_t = f(x_t·W_x + h_{t−1}·W_h + m_t·W_m + b_h)
 * </pre>
 *
 * @param inputSize C, channels of x
 * @param hiddenSize width of h
 * @param memoryD K = memory_d, number of memory channels
 * @param order d, Legendre coefficients per memory channel
 * @param theta window θ in frames
 * @param discretizer ZOH (default) or EULER
 * @param hiddenToMemory e_h present (h_{t−1} feeds u); keras-lmu default false
 * @param memoryToMemory e_m present (m_{t−1} feeds u); keras-lmu default false
 * @param inputToHidden W_x present (x feeds h directly); keras-lmu default false
 * @param hiddenToHidden W_h present (a SimpleRNN hidden cell instead of a Dense one); default false
 * @param activation f, tanh by default
 * @param memoryBias b_u present (keras-lmu {@code use_bias}); default false
 * @param hiddenBias b_h present; default true (keras Dense/SimpleRNN default)
 * @param maxLength longest sequence accepted, frames (bounds the impulse-response cache)
 */
public record LmuConfig(int inputSize, int hiddenSize, int memoryD, int order, double theta, Discretizer discretizer,
        boolean hiddenToMemory, boolean memoryToMemory, boolean inputToHidden, boolean hiddenToHidden,
        Activation activation, boolean memoryBias, boolean hiddenBias, int maxLength) {

    /** Default longest sequence: 4096 frames (41 s at a 10 ms hop). */
    public static final int DEFAULT_MAX_LENGTH = 4096;

    /** @throws IllegalArgumentException if a size is not positive or an option is null */
    public LmuConfig {
        Checks.positive("LmuConfig inputSize", inputSize);
        Checks.positive("LmuConfig hiddenSize", hiddenSize);
        Checks.positive("LmuConfig memoryD", memoryD);
        Checks.positive("LmuConfig order", order);
        Checks.positive("LmuConfig theta", theta);
        Checks.positive("LmuConfig maxLength", maxLength);
        if (discretizer == null) throw new IllegalArgumentException("LmuConfig discretizer : null");
        if (activation == null) throw new IllegalArgumentException("LmuConfig activation : null");
    }

    /** Defaults as listed on the record components. */
    public static LmuConfig of(int inputSize, int hiddenSize, int memoryD, int order, double theta) {
        return new LmuConfig(inputSize, hiddenSize, memoryD, order, theta, Discretizer.ZOH, false, false, false, false,
                Activation.TANH, false, true, DEFAULT_MAX_LENGTH);
    }

    public LmuConfig withFeedback(boolean hiddenToMemory, boolean memoryToMemory) {
        return new LmuConfig(inputSize, hiddenSize, memoryD, order, theta, discretizer, hiddenToMemory, memoryToMemory,
                inputToHidden, hiddenToHidden, activation, memoryBias, hiddenBias, maxLength);
    }

    public LmuConfig withHidden(boolean inputToHidden, boolean hiddenToHidden, Activation activation) {
        return new LmuConfig(inputSize, hiddenSize, memoryD, order, theta, discretizer, hiddenToMemory, memoryToMemory,
                inputToHidden, hiddenToHidden, activation, memoryBias, hiddenBias, maxLength);
    }

    public LmuConfig withBiases(boolean memoryBias, boolean hiddenBias) {
        return new LmuConfig(inputSize, hiddenSize, memoryD, order, theta, discretizer, hiddenToMemory, memoryToMemory,
                inputToHidden, hiddenToHidden, activation, memoryBias, hiddenBias, maxLength);
    }

    public LmuConfig withDiscretizer(Discretizer discretizer) {
        return new LmuConfig(inputSize, hiddenSize, memoryD, order, theta, discretizer, hiddenToMemory, memoryToMemory,
                inputToHidden, hiddenToHidden, activation, memoryBias, hiddenBias, maxLength);
    }

    public LmuConfig withMaxLength(int maxLength) {
        return new LmuConfig(inputSize, hiddenSize, memoryD, order, theta, discretizer, hiddenToMemory, memoryToMemory,
                inputToHidden, hiddenToHidden, activation, memoryBias, hiddenBias, maxLength);
    }

    /** K·d, width of the memory m. */
    public int memoryWidth() {
        return memoryD * order;
    }

    /**
     * True when nothing feeds back into the memory or the hidden state (no e_h, no e_m, no W_h):
     * then m is a causal convolution of u and every frame can be computed at once.
     */
    public boolean parallelizable() {
        return !hiddenToMemory && !memoryToMemory && !hiddenToHidden;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT,
                "LmuConfig[C=%d, hidden=%d, memoryD=%d, order=%d, theta=%s, %s, h2m=%b, m2m=%b, x2h=%b, h2h=%b, %s, "
                        + "memoryBias=%b, hiddenBias=%b, maxLength=%d]",
                inputSize, hiddenSize, memoryD, order, theta, discretizer, hiddenToMemory, memoryToMemory, inputToHidden,
                hiddenToHidden, activation, memoryBias, hiddenBias, maxLength);
    }
}
