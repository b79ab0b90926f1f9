package lmu.tensor;

/**
 * Where a tensor's storage lives.
 *
 * @param kind CPU or CUDA
 * @param index GPU ordinal for CUDA, 0 for the CPU
 */
public record Device(Kind kind, int index) {
    public enum Kind { CPU, CUDA }

    public static final Device CPU = new Device(Kind.CPU, 0);

    public static Device cuda(int index) {
        if (index < 0) throw new IllegalArgumentException("Device: CUDA index must be >= 0, got " + index);
        return new Device(Kind.CUDA, index);
    }

    /** Parses {@code cpu}, {@code cuda} or {@code cuda:N}. */
    public static Device parse(String s) {
        String v = s.trim().toLowerCase(java.util.Locale.ROOT);
        if (v.equals("cpu")) return CPU;
        if (v.equals("cuda")) return cuda(0);
        if (v.startsWith("cuda:")) {
            try {
                return cuda(Integer.parseInt(v.substring(5)));
            } catch (NumberFormatException e) {
                // fall through to the error below
            }
        }
        throw new IllegalArgumentException("Device: expected cpu, cuda or cuda:N, got '" + s + "'");
    }

    @Override
    public String toString() {
        return kind == Kind.CPU ? "cpu" : "cuda:" + index;
    }
}
