package lmu.nn.lmu;

/** Nonlinearity f of the LMU hidden state h = f(…); the derivative is taken from the output. */
public enum Activation {
    TANH,
    RELU,
    IDENTITY;

    double apply(double a) {
        switch (this) {
            case TANH:
                return Math.tanh(a);
            case RELU:
                return a > 0 ? a : 0;
            default:
                return a;
        }
    }

    /** f'(a) written in terms of y = f(a). */
    double derivativeFromOutput(double y) {
        switch (this) {
            case TANH:
                return 1 - y * y;
            case RELU:
                return y > 0 ? 1 : 0;
            default:
                return 1;
        }
    }
}
