package lmu.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import lmu.autograd.GradMode;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;

class EncoderTest {

    static ModelConfig config(int blocks, String after, String norm) {
        return ModelConfig.fromYamlText("model:\n  input_dim: 5\n  hidden: 8\n  blocks: " + blocks + "\n  norm: " + norm
                + "\n  dropout: 0\n  feed_forward: 12\n  attention: {heads: 2, dropout: 0}\n  downsample: {after: " + after + "}\n");
    }

    @Test
    void lengthsThroughSeveralDownsamplings() {
        Encoder e = new Encoder(config(3, "[1, 2]", "pre"), CausalStandIn.factory(DType.F32), new Rng(1));
        int[] lengths = {13, 8, 5, 1, 12};
        EncoderOutput o = e.forward(Tensor.randn(new Rng(2), DType.F32, 1, 5, 13, 5), lengths);
        // 13 → 7 → 4, 8 → 4 → 2, 5 → 3 → 2, 1 → 1 → 1, 12 → 6 → 3
        assertArrayEquals(new int[] {4, 2, 2, 1, 3}, o.lengths());
        assertArrayEquals(new int[] {5, 4, 8}, o.features().shape());
        assertArrayEquals(o.lengths(), e.outputLengths(lengths));
        assertArrayEquals(new int[] {13, 8, 5, 1, 12}, lengths, "input lengths must not be modified");
    }

    @Test
    void downsampleBeforeTheFirstBlock() {
        Encoder e = new Encoder(config(1, "[0, 1]", "post"), CausalStandIn.factory(DType.F32), new Rng(3));
        EncoderOutput o = e.forward(Tensor.randn(new Rng(4), DType.F32, 1, 2, 10, 5), new int[] {10, 7});
        assertArrayEquals(new int[] {3, 2}, o.lengths());
        assertArrayEquals(new int[] {2, 3, 8}, o.features().shape());
        assertEquals(List.of("input", "dropout", "downsample.0", "blocks.0", "downsample.1"), List.copyOf(e.children().keySet()));
    }

    @Test
    void batchedEqualsEachSequenceAlone() {
        Encoder e = new Encoder(config(2, "[1]", "pre"), CausalStandIn.factory(DType.F64), new Rng(5), DType.F64);
        int frames = 9;
        int[] lengths = {9, 6, 3};
        Tensor x = Tensor.randn(new Rng(6), DType.F64, 1, 3, frames, 5);
        for (int b = 0; b < 3; b++) for (int t = lengths[b]; t < frames; t++) for (int i = 0; i < 5; i++) x.set(50.0, b, t, i);
        EncoderOutput batched = e.forward(x, lengths);
        for (int b = 0; b < 3; b++) {
            Tensor alone = x.slice(0, b, b + 1).slice(1, 0, lengths[b]);
            EncoderOutput one = e.forward(alone, new int[] {lengths[b]});
            assertEquals(batched.lengths()[b], one.lengths()[0]);
            assertEquals(one.lengths()[0], one.features().dim(1));
            for (int t = 0; t < one.lengths()[0]; t++) {
                for (int i = 0; i < 8; i++) {
                    assertEquals(one.features().get(0, t, i), batched.features().get(b, t, i), 1e-10, "sequence " + b + " frame " + t);
                }
            }
        }
    }

    @Test
    void rejectsBadInput() {
        Encoder e = new Encoder(config(1, "[1]", "pre"), CausalStandIn.factory(DType.F32), new Rng(7));
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                () -> e.forward(Tensor.zeros(2, 4, 5), new int[] {4, 0}));
        assertTrue(zero.getMessage().contains("Encoder: lengths[1] = 0 outside [1, 4]"), zero.getMessage());
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> e.forward(Tensor.zeros(2, 4, 80), new int[] {4, 4}));
        assertTrue(shape.getMessage().contains("Encoder: features must have shape (B, T, 5), got [2, 4, 80]"), shape.getMessage());
    }

    @Test
    void parameterCountMatchesFormula() {
        int c = 8, in = 5, ff = 12, k = 3, blocks = 3;
        Encoder e = new Encoder(config(blocks, "[1, 2]", "pre"), CausalStandIn.factory(DType.F32), new Rng(8));
        long block = 4L * (c * c + c) + 3 * 2L * c + ((long) c * ff + ff + (long) ff * c + c) + CausalStandIn.parameterCount(c);
        long expected = ((long) in * c + c) + blocks * block + 2 * ((long) c * c * k + c) + 2L * c;
        assertEquals(expected, e.parameterCount());
    }

    @Test
    void sgdReducesARegressionLoss() {
        ModelConfig cfg = ModelConfig.fromYamlText("model:\n  input_dim: 5\n  hidden: 8\n  blocks: 2\n  dropout: 0\n"
                + "  attention: {heads: 2, dropout: 0}\n  downsample: {after: [1]}\n");
        Encoder e = new Encoder(cfg, CausalStandIn.factory(DType.F32), new Rng(9));
        Tensor x = Tensor.randn(new Rng(10), DType.F32, 1, 3, 10, 5);
        int[] lengths = {10, 10, 10};
        Tensor target = Tensor.randn(new Rng(11), DType.F32, 0.5, 3, 5, 8);
        List<Double> losses = new ArrayList<>();
        double lr = 0.05;
        for (int step = 0; step < 30; step++) {
            e.zeroGrad();
            EncoderOutput o = e.forward(x, lengths);
            Tensor diff = o.features().sub(target);
            Tensor loss = diff.mul(diff).mean();
            loss.backward();
            losses.add(loss.item());
            try (GradMode g = GradMode.off()) {
                for (Tensor p : e.parameters()) {
                    float[] w = p.f32(), gr = p.grad().f32();
                    for (int i = 0; i < w.length; i++) w[i] -= (float) (lr * gr[i]);
                }
            }
        }
        double first = losses.get(0), last = losses.get(losses.size() - 1);
        assertTrue(last < 0.5 * first, "loss did not fall enough: " + losses);
        for (double l : losses) assertTrue(Double.isFinite(l));
    }

    @Test
    void gradientThroughBlocksAndDownsampling() {
        ModelConfig cfg = ModelConfig.fromYamlText("model:\n  input_dim: 3\n  hidden: 4\n  blocks: 2\n  dropout: 0\n"
                + "  feed_forward: 5\n  attention: {heads: 2, dropout: 0}\n  downsample: {after: [1]}\n");
        Encoder e = new Encoder(cfg, CausalStandIn.factory(DType.F64), new Rng(12), DType.F64);
        Tensor x = lmu.autograd.GradCheck.leaf(new Rng(13), 2, 5, 3);
        int[] lengths = {5, 2};
        List<Tensor> leaves = new ArrayList<>();
        leaves.add(x);
        leaves.addAll(e.parameters());
        lmu.autograd.GradCheck.check("Encoder", in -> e.forward(in[0], lengths).features(), leaves.toArray(new Tensor[0]));
    }
}
