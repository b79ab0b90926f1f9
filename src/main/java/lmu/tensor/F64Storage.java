package lmu.tensor;

import java.util.Arrays;

/** float64 storage backed by a Java array (gradient checks and numerics that need it). */
public final class F64Storage extends Storage {
    private final double[] data;

    public F64Storage(double[] data) {
        this.data = data;
    }

    public double[] data() {
        return data;
    }

    @Override public DType dtype() { return DType.F64; }
    @Override public int size() { return data.length; }
    @Override public double get(int i) { return data[i]; }
    @Override public void set(int i, double v) { data[i] = v; }
    @Override public void add(int i, double v) { data[i] += v; }
    @Override public Storage like(int size) { return new F64Storage(new double[size]); }
    @Override public Storage copy() { return new F64Storage(data.clone()); }
    @Override public void fill(double v) { Arrays.fill(data, v); }
}
