package lmu.backend;

/** Elementwise ops with two broadcast inputs. */
public enum BinaryOp {
    ADD, SUB, MUL, DIV
}
