package lmu.nn.lmu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import java.util.function.Supplier;

/** Finite-difference gradient checks in float64 shared by the LMU tests. */
final class LmuTesting {
    private LmuTesting() {}

    /**
     * Checks every entry of every parameter array and of x against central differences of
     * loss = Σ w ⊙ h(x, p).
     */
    static void checkGradients(LmuParameters p, double[] x, double[] w, Supplier<double[]> forwardH,
            LmuParameters grads, double[] dx, String what) {
        double eps = 1e-5;
        for (Map.Entry<String, double[]> e : p.arrays().entrySet()) {
            double[] a = e.getValue();
            double[] g = grads.arrays().get(e.getKey());
            for (int i = 0; i < a.length; i++) {
                double fd = difference(a, i, eps, w, forwardH);
                assertEquals(fd, g[i], 1e-6 * (1 + Math.abs(fd)), what + " d" + e.getKey() + "[" + i + "]");
            }
        }
        for (int i = 0; i < x.length; i++) {
            double fd = difference(x, i, eps, w, forwardH);
            assertEquals(fd, dx[i], 1e-6 * (1 + Math.abs(fd)), what + " dx[" + i + "]");
        }
    }

    private static double difference(double[] a, int i, double eps, double[] w, Supplier<double[]> forwardH) {
        double keep = a[i];
        a[i] = keep + eps;
        double lp = LegendreConvolutionTest.dot(w, forwardH.get());
        a[i] = keep - eps;
        double lm = LegendreConvolutionTest.dot(w, forwardH.get());
        a[i] = keep;
        return (lp - lm) / (2 * eps);
    }

    /** Random non-zero values in every parameter, e_m and biases included, so each path is exercised. */
    static LmuParameters randomParameters(LmuConfig c, long seed) {
        LmuParameters p = LmuParameters.initialise(c, seed);
        java.util.Random r = new java.util.Random(seed + 1);
        for (double[] a : p.arrays().values()) for (int i = 0; i < a.length; i++) a[i] = 0.6 * r.nextGaussian();
        return p;
    }
}
