package lmu.nn.lmu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LegendreStateSpaceTest {

    @Test
    void continuousMatricesFollowTheClosedForm() {
        // d = 3: A rows (2i+1)·[..], i<j → −1, else (−1)^(i−j+1)
        assertArrayEquals(new double[] {-1, -1, -1, 3, -3, -3, -5, 5, -5}, LegendreStateSpace.continuousA(3));
        assertArrayEquals(new double[] {1, -3, 5}, LegendreStateSpace.continuousB(3));
    }

    @Test
    void matrixExponentialClosedForms() {
        double[] scalar = MatrixExponential.expm(new double[] {-50}, 1);
        assertEquals(Math.exp(-50), scalar[0], 1e-13 * Math.exp(-50));
        double[] nilpotent = MatrixExponential.expm(new double[] {0, 1, 0, 0}, 2);
        assertArrayEquals(new double[] {1, 1, 0, 1}, nilpotent, 1e-15);
        double t = 37.5; // norm far above θ13, so several squarings
        double[] rot = MatrixExponential.expm(new double[] {0, -t, t, 0}, 2);
        assertArrayEquals(new double[] {Math.cos(t), -Math.sin(t), Math.sin(t), Math.cos(t)}, rot, 1e-12);
        double[] diag = MatrixExponential.expm(new double[] {1, 0, 0, 0, -2, 0, 0, 0, 0.5}, 3);
        assertArrayEquals(new double[] {Math.E, 0, 0, 0, Math.exp(-2), 0, 0, 0, Math.exp(0.5)}, diag, 1e-14);
    }

    @Test
    void order1ZeroOrderHoldIsTheScalarClosedForm() {
        // θ·ṁ = −m + u  →  Ā = e^{−1/θ}, B̄ = 1 − e^{−1/θ}
        for (double theta : new double[] {0.25, 1, 7, 1e4}) {
            LegendreStateSpace ss = new LegendreStateSpace(1, theta, Discretizer.ZOH);
            assertEquals(Math.exp(-1 / theta), ss.aBar()[0], 1e-15);
            assertEquals(-Math.expm1(-1 / theta), ss.bBar()[0], 1e-15);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"zoh_d1_theta1", "zoh_d1_theta0p5", "zoh_d3_theta2", "zoh_d6_theta10", "zoh_d12_theta50",
            "zoh_d32_theta20", "zoh_d64_theta100", "zoh_d192_theta400", "zoh_d256_theta1000"})
    void zeroOrderHoldMatchesScipyGolden(String name) throws IOException {
        JsonObject g = golden(name);
        int d = g.get("order").getAsInt();
        double theta = g.get("theta").getAsDouble();
        LegendreStateSpace ss = new LegendreStateSpace(d, theta, Discretizer.ZOH);
        double[] aBar = ss.aBar();
        double[] bBar = ss.bBar();
        double fro = g.get("abar_frobenius").getAsDouble();
        double tol = 1e-10 * fro;
        assertClose(array(g, "bbar"), bBar, 1e-10 * DenseMatrix.frobenius(array(g, "bbar")), name + " bbar");
        assertEquals(fro, DenseMatrix.frobenius(aBar), tol, name + " frobenius");
        double[] diag = new double[d];
        for (int i = 0; i < d; i++) diag[i] = aBar[i * d + i];
        assertClose(array(g, "abar_diag"), diag, tol, name + " diag");
        double[] v = new double[d];
        for (int i = 0; i < d; i++) v[i] = Math.sin(i + 1);
        double[] av = DenseMatrix.multiply(aBar, v, d, d, 1);
        double[] atv = DenseMatrix.multiply(v, aBar, 1, d, d);
        assertClose(array(g, "abar_times_v"), av, tol, name + " abar·v");
        assertClose(array(g, "abar_t_times_v"), atv, tol, name + " abarᵀ·v");
        if (g.has("abar")) {
            assertClose(array(g, "abar"), aBar, tol, name + " abar");
        } else {
            for (Map.Entry<String, com.google.gson.JsonElement> e : g.getAsJsonObject("abar_rows").entrySet()) {
                int r = Integer.parseInt(e.getKey());
                double[] row = new double[d];
                System.arraycopy(aBar, r * d, row, 0, d);
                assertClose(toArray(e.getValue().getAsJsonArray()), row, tol, name + " abar row " + r);
            }
        }
        if (d <= 192) {
            double rho = g.get("spectral_radius").getAsDouble();
            assertTrue(ss.spectralRadius() < 1, name + " spectral radius " + ss.spectralRadius());
            // Gelfand's estimate is an upper bound; the Legendre eigenbasis is so ill-conditioned
            // (condition ~1e16) that rounding in the squarings leaves it up to ~1e-3 above ρ
            assertTrue(ss.spectralRadius() >= rho - 1e-9, name + " spectral radius " + ss.spectralRadius() + " < " + rho);
            assertEquals(rho, ss.spectralRadius(), 2e-3, name + " spectral radius");
        }
    }

    @Test
    void eulerIsIdentityPlusScaledA() {
        LegendreStateSpace ss = new LegendreStateSpace(4, 50, Discretizer.EULER);
        double[] a = LegendreStateSpace.continuousA(4);
        double[] b = LegendreStateSpace.continuousB(4);
        double[] aBar = ss.aBar();
        for (int i = 0; i < 4; i++) {
            assertEquals(b[i] / 50, ss.bBar()[i], 1e-15);
            for (int j = 0; j < 4; j++) assertEquals((i == j ? 1 : 0) + a[i * 4 + j] / 50, aBar[i * 4 + j], 1e-15);
        }
        assertTrue(ss.spectralRadius() < 1);
    }

    @Test
    void unstableEulerIsRejectedWithAClearMessage() {
        // order 1: Ā = 1 − 1/θ, |Ā| ≥ 1 for θ ≤ 1/2
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new LegendreStateSpace(1, 0.4, Discretizer.EULER));
        assertTrue(e.getMessage().contains("spectral radius"), e.getMessage());
        assertTrue(e.getMessage().contains("EULER"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new LegendreStateSpace(64, 10, Discretizer.EULER));
    }

    @Test
    void spectralRadiusByGelfandMatchesKnownMatrices() {
        // rotation by 30° scaled by 0.9: eigenvalues 0.9·e^{±iπ/6}; power iteration would not converge
        double c = 0.9 * Math.cos(Math.PI / 6), s = 0.9 * Math.sin(Math.PI / 6);
        assertEquals(0.9, LegendreStateSpace.spectralRadius(new double[] {c, -s, s, c}, 2), 1e-9);
        // defective: Jordan block with eigenvalue 0.5
        assertEquals(0.5, LegendreStateSpace.spectralRadius(new double[] {0.5, 100, 0, 0.5}, 2), 1e-8);
        assertEquals(0, LegendreStateSpace.spectralRadius(new double[] {0, 1, 0, 0}, 2));
    }

    @Test
    void orderAboveThetaIsFlaggedButStillStable() {
        LegendreStateSpace over = new LegendreStateSpace(32, 20, Discretizer.ZOH);
        assertTrue(over.exceedsWindow());
        assertTrue(over.spectralRadius() < 1);
        assertFalse(new LegendreStateSpace(12, 50, Discretizer.ZOH).exceedsWindow());
    }

    @Test
    void badArgumentsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new LegendreStateSpace(0, 10, Discretizer.ZOH));
        assertTrue(e.getMessage().contains("order : 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new LegendreStateSpace(4, -1, Discretizer.ZOH));
        assertTrue(e.getMessage().contains("theta : -1.0"), e.getMessage());
    }

    static void assertClose(double[] expected, double[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            if (Math.abs(expected[i] - actual[i]) > tol) {
                throw new AssertionError(what + " [" + i + "]: expected " + expected[i] + ", got " + actual[i]
                        + " (tol " + tol + ")");
            }
        }
    }

    private static JsonObject golden(String name) throws IOException {
        String path = "/golden/lmu/" + name + ".json";
        try (InputStream in = LegendreStateSpaceTest.class.getResourceAsStream(path)) {
            if (in == null) throw new IOException("missing golden file " + path);
            return JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8)).getAsJsonObject();
        }
    }

    private static double[] array(JsonObject g, String key) {
        return toArray(g.getAsJsonArray(key));
    }

    private static double[] toArray(JsonArray a) {
        double[] r = new double[a.size()];
        for (int i = 0; i < r.length; i++) r[i] = a.get(i).getAsDouble();
        return r;
    }
}
