package lmu.tensor;

/**
 * Contiguous elements of one dtype. CPU kernels read and write through {@link #get}/{@link #set};
 * the JIT inlines these because a run normally loads one implementation only. Hot paths that call
 * BLAS take the raw arrays through {@link F32Storage#data()} / {@link F64Storage#data()}.
 * {@link DeviceStorage} lives in an accelerator's memory (its element access copies; ops go
 * through the device's backend).
 */
public abstract sealed class Storage permits F32Storage, F64Storage, DeviceStorage {
    public abstract DType dtype();

    public abstract int size();

    public abstract double get(int i);

    public abstract void set(int i, double v);

    public abstract void add(int i, double v);

    /** A zero-filled storage of the same dtype. */
    public abstract Storage like(int size);

    public abstract Storage copy();

    public abstract void fill(double v);

    public static Storage allocate(DType dtype, int size) {
        return switch (dtype) {
            case F32 -> new F32Storage(new float[size]);
            case F64 -> new F64Storage(new double[size]);
            default -> throw new IllegalArgumentException("Storage: " + dtype + " is a storage-only type; convert with HalfFloats");
        };
    }
}
