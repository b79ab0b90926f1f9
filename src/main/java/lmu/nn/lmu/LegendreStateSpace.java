package lmu.nn.lmu;

import java.util.Locale;
import lmu.util.Checks;

/**
 * The Legendre delay system of order d and window θ frames, continuous and discretised with dt = 1
 * frame.
 *
 * <p>Continuous system θ·ṁ = A m + B u with {@code A[i][j] = (2i+1)·(−1 if i < j else
 * (−1)^(i−j+1))} and {@code B[i] = (2i+1)·(−1)^i}; the memory m holds the first d Legendre
 * coefficients of the input over the last θ frames. The discrete update is {@code m_t = Ā m_{t−1}
 * + B̄ u_t} with Ā, B̄ from {@link Discretizer#ZOH} (matrix exponential) or {@link
 * Discretizer#EULER}. Everything is float64.
 *
 * <p>What θ can hold: a window of θ frames sampled once per frame carries at most about θ
 * independent values, so an order above θ asks for Legendre coefficients the samples cannot
 * resolve (the high-order modes are damped within a frame and only add cost). The zero-order-hold
 * system is still stable then, so {@link #exceedsWindow()} reports it and the constructor logs a
 * warning rather than failing. A discrete system with a non-decaying mode (spectral radius of Ā at
 * least 1, which Euler gives whenever θ is too small for the order) cannot be used at all: the
 * constructor throws.
 *
 * <pre>{@code
 * jshell> var ss = new LegendreStateSpace(192, 400, Discretizer.ZOH);
 * jshell> ss.spectralRadius()   // ≈ 0.9578
 * }</pre>
 */
public final class LegendreStateSpace {
    private static final System.Logger LOG = System.getLogger(LegendreStateSpace.class.getName());

    private final int order;
    private final double theta;
    private final Discretizer discretizer;
    private final double[] aBar;
    private final double[] bBar;
    private volatile double spectralRadius = Double.NaN;

    /**
     * Builds and discretises the system.
     *
     * @param order d, number of Legendre coefficients, at least 1
     * @param theta window length θ in frames, positive and finite
     * @param discretizer ZOH (exact) or EULER
     * @throws IllegalArgumentException if order or θ is not positive, or the discrete system has a
     *     mode that does not decay (spectral radius of Ā ≥ 1)
     */
    public LegendreStateSpace(int order, double theta, Discretizer discretizer) {
        Checks.positive("LegendreStateSpace order", order);
        Checks.positive("LegendreStateSpace theta", theta);
        if (!Double.isFinite(theta)) throw new IllegalArgumentException("LegendreStateSpace theta : " + theta + " (expected: finite)");
        if (discretizer == null) throw new IllegalArgumentException("LegendreStateSpace discretizer : null (expected: ZOH or EULER)");
        this.order = order;
        this.theta = theta;
        this.discretizer = discretizer;
        double[] a = continuousA(order);
        double[] b = continuousB(order);
        int d = order;
        if (discretizer == Discretizer.EULER) {
            aBar = new double[d * d];
            bBar = new double[d];
            for (int i = 0; i < d * d; i++) aBar[i] = a[i] / theta;
            for (int i = 0; i < d; i++) {
                aBar[i * d + i] += 1;
                bBar[i] = b[i] / theta;
            }
        } else {
            int n = d + 1;
            double[] aug = new double[n * n];
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) aug[i * n + j] = a[i * d + j] / theta;
                aug[i * n + d] = b[i] / theta;
            }
            double[] e = MatrixExponential.expm(aug, n);
            aBar = new double[d * d];
            bBar = new double[d];
            for (int i = 0; i < d; i++) {
                System.arraycopy(e, i * n, aBar, i * d, d);
                bBar[i] = e[i * n + d];
            }
        }
        // ZOH maps the eigenvalues λ of A/θ (all with negative real part) to e^λ, inside the unit
        // circle for every order and θ, so only Euler needs the (costly, O(d³ log k)) check here.
        if (discretizer == Discretizer.EULER && !(spectralRadius() < 1)) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "LegendreStateSpace: %s discretisation of order %d with theta %s has spectral radius %.6f "
                            + "(expected: < 1); use ZOH or a larger theta", discretizer, order, theta, spectralRadius()));
        }
        if (exceedsWindow()) {
            LOG.log(System.Logger.Level.WARNING, String.format(Locale.ROOT,
                    "LegendreStateSpace: order %d exceeds theta %s frames; at dt = 1 frame the window cannot resolve "
                            + "more than about theta Legendre coefficients", order, theta));
        }
    }

    /**
     * Continuous A of order d (without the 1/θ factor).
     *
     * @return shape (d, d), row-major
     */
    public static double[] continuousA(int order) {
        Checks.positive("LegendreStateSpace order", order);
        double[] a = new double[order * order];
        for (int i = 0; i < order; i++) {
            for (int j = 0; j < order; j++) {
                double sign = i < j ? -1 : ((i - j + 1) % 2 == 0 ? 1 : -1);
                a[i * order + j] = (2 * i + 1) * sign;
            }
        }
        return a;
    }

    /**
     * Continuous B of order d (without the 1/θ factor).
     *
     * @return shape (d)
     */
    public static double[] continuousB(int order) {
        Checks.positive("LegendreStateSpace order", order);
        double[] b = new double[order];
        for (int i = 0; i < order; i++) b[i] = (2 * i + 1) * (i % 2 == 0 ? 1 : -1);
        return b;
    }

    public int order() {
        return order;
    }

    public double theta() {
        return theta;
    }

    public Discretizer discretizer() {
        return discretizer;
    }

    /** @return a copy of Ā, shape (d, d), row-major */
    public double[] aBar() {
        return aBar.clone();
    }

    /** @return a copy of B̄, shape (d) */
    public double[] bBar() {
        return bBar.clone();
    }

    double[] aBarShared() {
        return aBar;
    }

    double[] bBarShared() {
        return bBar;
    }

    /** Spectral radius of Ā, computed on first use (an upper bound, see {@link #spectralRadius(double[], int)}). */
    public double spectralRadius() {
        double r = spectralRadius;
        if (Double.isNaN(r)) {
            r = spectralRadius(aBar, order);
            spectralRadius = r;
        }
        return r;
    }

    /** True when the order is larger than θ, i.e. more coefficients than frames in the window. */
    public boolean exceedsWindow() {
        return order > theta;
    }

    /**
     * Spectral radius of a square matrix by Gelfand's formula ρ = lim ‖M^k‖^{1/k}, with k = 2^j
     * reached by repeated squaring of the normalised matrix (the logarithm of the norm is carried
     * separately, so nothing overflows or underflows). Since the Frobenius norm is
     * submultiplicative every iterate is an upper bound on ρ; iteration stops when two successive
     * estimates agree to 1e-10 or after 48 squarings (k = 2^48). For well-conditioned matrices
     * the estimate is accurate to about 1e-9; the Legendre Ā has a nearly defective eigenbasis
     * (eigenvector condition number ~1e16 at order 64 and above) and rounding in the squarings then
     * leaves the estimate up to about 1e-3 above the true ρ (order 192, θ 400: 0.9581 against
     * 0.9578). That is accurate enough for the stability check it serves.
     *
     * @param m matrix, shape (n, n), row-major
     * @param n order
     * @return the estimate of max |λ|
     */
    public static double spectralRadius(double[] m, int n) {
        double norm = DenseMatrix.frobenius(m);
        if (norm == 0) return 0;
        double[] x = new double[n * n];
        for (int i = 0; i < x.length; i++) x[i] = m[i] / norm;
        double logNorm = Math.log(norm);
        double estimate = norm;
        double k = 1;
        for (int j = 0; j < 48; j++) {
            x = DenseMatrix.multiply(x, x, n, n, n);
            double f = DenseMatrix.frobenius(x);
            if (f == 0) return 0;
            for (int i = 0; i < x.length; i++) x[i] /= f;
            logNorm = 2 * logNorm + Math.log(f);
            k *= 2;
            double next = Math.exp(logNorm / k);
            if (Math.abs(next - estimate) <= 1e-10 * next) return next;
            estimate = next;
        }
        return estimate;
    }
}
