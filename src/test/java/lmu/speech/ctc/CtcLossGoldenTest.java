package lmu.speech.ctc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.stream.JsonReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import lmu.speech.ctc.CtcLoss.Layout;
import lmu.speech.ctc.CtcLoss.Reduction;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Compares against {@code torch.nn.functional.ctc_loss} (float64, from float32 logits) recorded by
 * {@code bench/reference/make_ctc_golden.py} in {@code src/test/resources/golden/ctc/}.
 */
class CtcLossGoldenTest {

    /** Logits of the large case: the generator's 32-bit LCG, reproduced bit for bit. */
    static float[] lcgLogits(long seed, int n) {
        float[] out = new float[n];
        long x = seed & 0xFFFFFFFFL;
        for (int i = 0; i < n; i++) {
            x = (1664525L * x + 1013904223L) & 0xFFFFFFFFL;
            out[i] = (float) (((x >>> 8) / 16777216.0 - 0.5) * 8.0);
        }
        return out;
    }

    static JsonObject load(String name) throws IOException {
        try (InputStream in = CtcLossGoldenTest.class.getResourceAsStream("/golden/ctc/" + name)) {
            if (in == null) throw new IOException("missing golden file " + name);
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            JsonReader reader = new JsonReader(new StringReader(text));
            reader.setLenient(true); // Infinity
            return JsonParser.parseReader(reader).getAsJsonObject();
        }
    }

    static float[] loadF32(String name, int n) throws IOException {
        try (InputStream in = CtcLossGoldenTest.class.getResourceAsStream("/golden/ctc/" + name)) {
            if (in == null) throw new IOException("missing golden file " + name);
            ByteBuffer buf = ByteBuffer.wrap(in.readAllBytes()).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(4L * n, buf.capacity(), name + " size");
            float[] out = new float[n];
            buf.asFloatBuffer().get(out);
            return out;
        }
    }

    static int[] ints(JsonArray a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).getAsInt();
        return out;
    }

    static double[] doubles(JsonArray a) {
        double[] out = new double[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).getAsDouble();
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"small", "infeasible", "medium", "large"})
    void matchesPyTorch(String name) throws IOException {
        JsonObject g = load(name + ".json");
        int t = g.get("T").getAsInt(), b = g.get("B").getAsInt(), v = g.get("V").getAsInt();
        int n = t * b * v;
        float[] logits;
        if (g.has("logits")) {
            double[] d = doubles(g.getAsJsonArray("logits"));
            logits = new float[n];
            for (int i = 0; i < n; i++) logits[i] = (float) d[i];
        } else {
            logits = lcgLogits(g.get("logits_lcg_seed").getAsLong(), n);
        }
        int[] il = ints(g.getAsJsonArray("input_lengths"));
        int[] targets = ints(g.getAsJsonArray("targets"));
        int[] tl = ints(g.getAsJsonArray("target_lengths"));
        int[] shape = {t, b, v};
        for (boolean zi : new boolean[] {false, true}) {
            JsonObject ref = g.getAsJsonObject(zi ? "zero_infinity" : "plain");
            String what = name + (zi ? " zeroInfinity" : "");
            CtcLoss ctc = new CtcLoss(Layout.TIME_MAJOR, Reduction.MEAN, zi);

            double[] wantNone = doubles(ref.getAsJsonArray("loss_none"));
            double[] gotNone = ctc.withReduction(Reduction.NONE).forward(logits, shape, il, targets, tl).losses();
            for (int i = 0; i < b; i++) {
                assertEquals(wantNone[i], gotNone[i], 1e-10 * Math.max(1, Math.abs(wantNone[i])), what + " loss " + i);
            }
            assertClose(ref.get("loss_sum").getAsDouble(), ctc.withReduction(Reduction.SUM).forward(logits, shape, il, targets, tl).loss(),
                    what + " sum");

            float[] grad = new float[n];
            double mean = ctc.forwardBackward(logits, shape, il, targets, tl, grad, null).loss();
            assertClose(ref.get("loss_mean").getAsDouble(), mean, what + " mean");

            float[] want;
            if (ref.has("grad_mean")) {
                double[] d = doubles(ref.getAsJsonArray("grad_mean"));
                want = new float[n];
                for (int i = 0; i < n; i++) want[i] = (float) d[i];
            } else {
                want = loadF32(ref.get("grad_mean_file").getAsString(), n);
            }
            int compared = 0;
            for (int i = 0; i < n; i++) {
                if (Float.isNaN(want[i])) {
                    assertTrue(Float.isNaN(grad[i]), what + " NaN gradient at " + i + ", got " + grad[i]);
                } else {
                    // both sides are float64 math rounded to float32
                    assertEquals(want[i], grad[i], 1e-9f + 1e-6f * Math.abs(want[i]), what + " grad " + i);
                    compared++;
                }
            }
            assertTrue(compared > n / 2, what + ": compared " + compared + " of " + n);
        }
    }

    private static void assertClose(double want, double got, String what) {
        if (Double.isInfinite(want)) {
            assertEquals(want, got, what);
        } else {
            assertEquals(want, got, 1e-10 * Math.max(1, Math.abs(want)), what);
        }
    }

    /** The large case through the engine's (B, T, V) layout as well. */
    @org.junit.jupiter.api.Test
    void largeCaseInBatchMajorLayout() throws IOException {
        JsonObject g = load("large.json");
        int t = g.get("T").getAsInt(), b = g.get("B").getAsInt(), v = g.get("V").getAsInt();
        float[] tbv = lcgLogits(g.get("logits_lcg_seed").getAsLong(), t * b * v);
        float[] btv = new float[tbv.length];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) System.arraycopy(tbv, (j * b + i) * v, btv, (i * t + j) * v, v);
        }
        float[] grad = new float[btv.length];
        double mean = CtcLoss.batchMajor().forwardBackward(btv, new int[] {b, t, v}, ints(g.getAsJsonArray("input_lengths")),
                ints(g.getAsJsonArray("targets")), ints(g.getAsJsonArray("target_lengths")), grad, null).loss();
        JsonObject ref = g.getAsJsonObject("plain");
        assertEquals(ref.get("loss_mean").getAsDouble(), mean, 1e-10 * mean);
        float[] want = loadF32(ref.get("grad_mean_file").getAsString(), tbv.length);
        float[] wantBtv = new float[want.length];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) System.arraycopy(want, (j * b + i) * v, wantBtv, (i * t + j) * v, v);
        }
        assertArrayEquals(wantBtv, grad, 1e-7f);
    }
}
