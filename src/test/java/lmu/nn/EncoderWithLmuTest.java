package lmu.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import lmu.autograd.GradMode;
import lmu.nn.lmu.LmuSequenceLayers;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;

/** The encoder with the real LMU layer as its sequence layer (parallel and recurrent modes). */
class EncoderWithLmuTest {

    private static ModelConfig config(String mode) {
        return ModelConfig.fromYamlText("model:\n  input_dim: 5\n  hidden: 8\n  blocks: 2\n  dropout: 0\n  max_frames: 64\n"
                + "  attention: {heads: 2, dropout: 0}\n  lmu: {memory_order: 4, theta: 6, mode: " + mode + "}\n"
                + "  downsample: {after: [1]}\n");
    }

    private static void batchedEqualsAlone(String mode) {
        ModelConfig cfg = config(mode);
        Encoder e = new Encoder(cfg, LmuSequenceLayers.factory(cfg, DType.F64), new Rng(1), DType.F64);
        int frames = 11;
        int[] lengths = {11, 7, 2};
        Tensor x = Tensor.randn(new Rng(2), DType.F64, 1, 3, frames, 5);
        for (int b = 0; b < 3; b++) for (int t = lengths[b]; t < frames; t++) for (int i = 0; i < 5; i++) x.set(-30.0, b, t, i);
        EncoderOutput batched = e.forward(x, lengths);
        assertArrayEquals(new int[] {6, 4, 1}, batched.lengths());
        for (int b = 0; b < 3; b++) {
            EncoderOutput one = e.forward(x.slice(0, b, b + 1).slice(1, 0, lengths[b]), new int[] {lengths[b]});
            for (int t = 0; t < one.lengths()[0]; t++) {
                for (int i = 0; i < 8; i++) {
                    assertEquals(one.features().get(0, t, i), batched.features().get(b, t, i), 1e-9, mode + " b " + b + " t " + t);
                }
            }
        }
    }

    @Test
    void parallelLmuBatchedEqualsEachSequenceAlone() {
        batchedEqualsAlone("parallel");
    }

    @Test
    void recurrentLmuBatchedEqualsEachSequenceAlone() {
        batchedEqualsAlone("recurrent");
    }

    @Test
    void sgdReducesARegressionLossWithTheLmu() {
        ModelConfig cfg = config("parallel");
        Encoder e = new Encoder(cfg, LmuSequenceLayers.factory(cfg, DType.F32), new Rng(3));
        Tensor x = Tensor.randn(new Rng(4), DType.F32, 1, 2, 12, 5);
        int[] lengths = {12, 12};
        Tensor target = Tensor.randn(new Rng(5), DType.F32, 0.5, 2, 6, 8);
        List<Double> losses = new ArrayList<>();
        for (int step = 0; step < 30; step++) {
            e.zeroGrad();
            Tensor diff = e.forward(x, lengths).features().sub(target);
            Tensor loss = diff.mul(diff).mean();
            loss.backward();
            losses.add(loss.item());
            try (GradMode g = GradMode.off()) {
                for (Tensor p : e.parameters()) {
                    if (p.grad() == null) continue;
                    float[] w = p.f32(), gr = p.grad().f32();
                    for (int i = 0; i < w.length; i++) w[i] -= (float) (0.05 * gr[i]);
                }
            }
        }
        assertTrue(losses.get(losses.size() - 1) < 0.5 * losses.get(0), "loss did not fall enough: " + losses);
    }
}
