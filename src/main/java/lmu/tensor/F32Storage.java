package lmu.tensor;

import java.util.Arrays;

/** float32 storage backed by a Java array. */
public final class F32Storage extends Storage {
    private final float[] data;

    public F32Storage(float[] data) {
        this.data = data;
    }

    public float[] data() {
        return data;
    }

    @Override public DType dtype() { return DType.F32; }
    @Override public int size() { return data.length; }
    @Override public double get(int i) { return data[i]; }
    @Override public void set(int i, double v) { data[i] = (float) v; }
    @Override public void add(int i, double v) { data[i] += (float) v; }
    @Override public Storage like(int size) { return new F32Storage(new float[size]); }
    @Override public Storage copy() { return new F32Storage(data.clone()); }
    @Override public void fill(double v) { Arrays.fill(data, (float) v); }
}
