package lmu.backend;

/** Elementwise ops with one input; {@code param} is the constant of SCALE and ADD_SCALAR. */
public enum UnaryOp {
    SCALE, ADD_SCALAR, RELU, GELU, TANH, SIGMOID, EXP, LOG
}
