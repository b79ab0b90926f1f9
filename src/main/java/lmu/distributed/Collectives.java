package lmu.distributed;

/**
 * The arithmetic of the collectives, shared by the implementations that combine contributions on
 * the CPU: reductions run over ranks in rank order 0, 1, ..., so every rank gets the same bits.
 */
final class Collectives {
    private Collectives() {}

    /** Element-wise reduction of {@code parts[r][0, len)} over r in rank order. */
    static float[] reduce(float[][] parts, int len, Communicator.Op op) {
        float[] out = parts[0].clone();
        for (int r = 1; r < parts.length; r++) {
            float[] p = parts[r];
            if (op == Communicator.Op.SUM) {
                for (int i = 0; i < len; i++) out[i] += p[i];
            } else {
                for (int i = 0; i < len; i++) out[i] = max(out[i], p[i]);
            }
        }
        return out;
    }

    /** As {@link #reduce(float[][], int, Communicator.Op)}, in float64. */
    static double[] reduce(double[][] parts, int len, Communicator.Op op) {
        double[] out = parts[0].clone();
        for (int r = 1; r < parts.length; r++) {
            double[] p = parts[r];
            if (op == Communicator.Op.SUM) {
                for (int i = 0; i < len; i++) out[i] += p[i];
            } else {
                for (int i = 0; i < len; i++) out[i] = max(out[i], p[i]);
            }
        }
        return out;
    }

    /** Maximum that propagates NaN (a NaN anywhere must stay visible, e.g. to a "found inf" check). */
    private static float max(float a, float b) {
        return a != a || b != b ? Float.NaN : Math.max(a, b);
    }

    private static double max(double a, double b) {
        return a != a || b != b ? Double.NaN : Math.max(a, b);
    }
}
