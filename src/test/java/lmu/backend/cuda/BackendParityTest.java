package lmu.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.junit.jupiter.api.Test;

/**
 * The CPU half of the autograd parity check: the graph runs and every leaf gets a finite gradient
 * of its own shape (the GPU half is {@code CudaSelfTestTest}).
 */
class BackendParityTest {
    @Test
    void autogradGraphRunsOnTheCpuAndReachesEveryLeaf() {
        Rng rng = new Rng(3);
        Tensor[] leaves = {Tensor.randn(rng, lmu.tensor.DType.F32, 1, 3, 5, 7), Tensor.randn(rng, lmu.tensor.DType.F32, 0.5, 7, 11),
            Tensor.randn(rng, lmu.tensor.DType.F32, 0.1, 11), Tensor.randn(rng, lmu.tensor.DType.F32, 1, 11)};
        for (Tensor t : leaves) t.requiresGrad(true);
        Tensor loss = BackendParity.autogradGraph(leaves[0], leaves[1], leaves[2], leaves[3]);
        assertEquals(0, loss.rank());
        assertTrue(Double.isFinite(loss.item()));
        loss.backward();
        for (Tensor t : leaves) {
            assertArrayEquals(t.shape(), t.grad().shape());
            double norm = 0;
            for (float v : t.grad().f32()) {
                assertTrue(Float.isFinite(v));
                norm += v * v;
            }
            assertTrue(norm > 0, "a zero gradient would make the GPU comparison vacuous");
        }
    }
}
