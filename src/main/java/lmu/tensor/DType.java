package lmu.tensor;

/**
 * Element types. F32 is what models train in; F64 exists so finite-difference gradient checks are
 * exact enough; F16 and BF16 are storage formats for mixed precision (converted by {@link HalfFloats}).
 */
public enum DType {
    F32(4),
    F64(8),
    F16(2),
    BF16(2);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Size of one element in bytes. */
    public int bytes() {
        return bytes;
    }

    /** Whether ops compute in this type (F16/BF16 are storage only on the CPU backend). */
    public boolean isCompute() {
        return this == F32 || this == F64;
    }
}
