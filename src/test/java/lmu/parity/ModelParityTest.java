package lmu.parity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import lmu.nn.CtcModel;
import lmu.speech.ctc.CtcLoss;
import lmu.speech.ctc.CtcLossFunction;
import lmu.tensor.Tensor;
import lmu.train.SafeTensors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Whole-model parity with the independent PyTorch implementation (bench/reference/lmu_torch.py):
 * for configs/seed.yaml and configs/small.yaml with the engine's seeded weights
 * ({@link ModelParityFixture}), in evaluation mode and float32, the output log-probabilities, the
 * CTC loss (mean reduction, as in training) and the gradients of every parameter must match the
 * float64 PyTorch results in src/test/resources/golden/model/ within 1e-4 relative.
 *
 * <p>Relative means: an entry e of a tensor with reference r passes when |e − r| ≤ 1e-4·max(|r|,
 * rms(reference tensor)), so that entries near zero are held to the scale of their tensor; norms and
 * the loss are compared with |e − r| ≤ 1e-4·|r|. Gradients are checked through the norm of every
 * parameter's gradient plus every entry of small ones and 48 fixed entries of large ones.
 * Regenerate the golden files with {@code sh bench/reference/make_model_golden.sh}.
 */
class ModelParityTest {
    private static final double RTOL = 1e-4;

    @ParameterizedTest
    @ValueSource(strings = {"seed", "small"})
    void forwardAndBackwardMatchPyTorch(String name) throws IOException, URISyntaxException {
        SafeTensors.Contents batch = SafeTensors.read(resource(name + ".batch.safetensors"));
        SafeTensors.Contents golden = SafeTensors.read(resource(name + ".golden.safetensors"));
        Map<String, float[]> g = golden.arrays();
        CtcModel model = ModelParityFixture.model(name);
        Map<String, Tensor> params = model.namedParameters();

        // the weights are the ones PyTorch saw
        List<String> errors = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            float[] ref = g.get("weight_norm." + e.getKey());
            if (ref == null) fail("golden file has no parameter " + e.getKey() + ": regenerate it (bench/reference/make_model_golden.sh)");
            double norm = norm(e.getValue().toFloatArray());
            if (Math.abs(norm - ref[0]) > 1e-6 * ref[0]) {
                errors.add(e.getKey() + " weight norm " + norm + " vs " + ref[0]);
            }
        }
        assertEquals(g.keySet().stream().filter(k -> k.startsWith("weight_norm.")).count(), params.size(),
                "parameter count differs from the golden file's");
        if (!errors.isEmpty()) {
            fail("the seeded initialisation no longer gives the weights of the golden file (initialisation changed?); "
                    + "regenerate with bench/reference/make_model_golden.sh after checking why: " + errors);
        }

        float[] features = batch.arrays().get("features");
        int[] shape = batch.shapes().get("features");
        int[] lengths = ints(batch.arrays().get("lengths"));
        int[] targetLengths = ints(batch.arrays().get("target_lengths"));
        int[] targets = ints(batch.arrays().get("targets"));

        CtcModel.Output out = model.forward(Tensor.of(features.clone(), shape), lengths);
        assertArrayEquals(ints(g.get("out_lengths")), out.lengths(), "output lengths");
        Tensor logProbs = out.values().logSoftmax(-1);
        assertArrayEquals(golden.shapes().get("log_probs"), logProbs.shape(), "log_probs shape");
        compare(name + " log_probs", logProbs.toFloatArray(), g.get("log_probs"), null, errors);

        Tensor loss = CtcLossFunction.apply(CtcLoss.batchMajor().withZeroInfinity(true), out.values(), out.lengths(),
                targets, targetLengths);
        double refLoss = g.get("loss")[0];
        if (Math.abs(loss.item() - refLoss) > RTOL * Math.abs(refLoss)) {
            errors.add(String.format(Locale.ROOT, "%s loss %.8f vs %.8f", name, loss.item(), refLoss));
        }
        loss.backward();
        // model-wide gradient scale: the floor for gradients that are zero in exact arithmetic
        // (attention key biases: softmax ignores a shift shared by all keys of a query)
        double sumSq = 0;
        long count = 0;
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            double n = g.get("grad_norm." + e.getKey())[0];
            sumSq += n * n;
            count += e.getValue().numel();
        }
        double rmsAll = Math.sqrt(sumSq / count);
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            String p = e.getKey();
            float[] grad = e.getValue().grad().toFloatArray();
            double refNorm = g.get("grad_norm." + p)[0];
            double norm = norm(grad);
            if (Math.abs(norm - refNorm) > RTOL * Math.max(refNorm, rmsAll * Math.sqrt(grad.length))) {
                errors.add(String.format(Locale.ROOT, "%s grad norm of %s: %.8g vs %.8g (rel %.2e)", name, p, norm, refNorm,
                        Math.abs(norm - refNorm) / refNorm));
            }
            int[] index = ints(g.get("grad_index." + p));
            float[] picked = new float[index.length];
            for (int i = 0; i < index.length; i++) picked[i] = grad[index[i]];
            compare(name + " grad " + p, picked, g.get("grad_value." + p), Math.max(refNorm / Math.sqrt(grad.length), rmsAll),
                    errors);
        }
        if (!errors.isEmpty()) fail(errors.size() + " mismatches (first per tensor): " + String.join("; ", errors));
    }

    /** Entry-wise |a − r| ≤ RTOL·max(|r|, scale); scale = rms of r unless given. */
    private static void compare(String what, float[] actual, float[] ref, Double scale, List<String> errors) {
        assertEquals(ref.length, actual.length, what + " size");
        double s = scale != null ? scale : norm(ref) / Math.sqrt(ref.length);
        assertTrue(s > 0, what + ": reference is all zero");
        int bad = 0, first = -1;
        for (int i = 0; i < ref.length; i++) {
            if (!(Math.abs(actual[i] - ref[i]) <= RTOL * Math.max(Math.abs(ref[i]), s))) {
                if (bad++ == 0) first = i;
            }
        }
        if (bad > 0) {
            errors.add(String.format(Locale.ROOT, "%s: %d of %d entries off, first [%d] = %.8g, reference %.8g (tolerance %.2g)",
                    what, bad, ref.length, first, actual[first], ref[first], RTOL * Math.max(Math.abs(ref[first]), s)));
        }
    }

    private static double norm(float[] a) {
        double s = 0;
        for (float v : a) s += (double) v * v;
        return Math.sqrt(s);
    }

    private static int[] ints(float[] a) {
        int[] out = new int[a.length];
        for (int i = 0; i < a.length; i++) out[i] = Math.round(a[i]);
        return out;
    }

    private static Path resource(String file) throws URISyntaxException {
        var url = ModelParityTest.class.getResource("/golden/model/" + file);
        if (url == null) throw new IllegalStateException("missing golden file golden/model/" + file);
        return Path.of(url.toURI());
    }
}
