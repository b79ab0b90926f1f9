package lmu.backend.cuda.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import lmu.backend.cuda.Cuda;
import lmu.backend.cuda.CudaContext;
import lmu.backend.cuda.PinnedStaging;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

class ModelKernelChecksTest {
    @Test
    void compareAcceptsRoundingAndRejectsRealDifferences() {
        // bound 1e-5 * sqrt(n) * (1 + |ref|): n = 4 allows 4e-5 at ref 1
        assertNull(ModelKernelChecks.compare("x", new float[] {1.00003f, -2f, 0f}, new double[] {1, -2, 0}, 4));
        assertNotNull(ModelKernelChecks.compare("x", new float[] {1.00003f}, new double[] {1}, 1));
        String m = ModelKernelChecks.compare("x", new float[] {1f, 3f}, new double[] {1, 2}, 1);
        assertNotNull(m);
        assertTrue(m.contains("1 of 2 differ") && m.contains("[1] 3.0 vs 2.0"), m);
    }

    @Test
    void compareNeedsInfinitiesAndNanExactly() {
        double inf = Double.POSITIVE_INFINITY;
        assertNull(ModelKernelChecks.compare("l", new float[] {Float.POSITIVE_INFINITY, Float.NaN}, new double[] {inf, Double.NaN}, 1));
        assertNotNull(ModelKernelChecks.compare("l", new float[] {1e30f}, new double[] {inf}, 1));
        assertNotNull(ModelKernelChecks.compare("l", new float[] {0f}, new double[] {Double.NaN}, 1));
        assertNotNull(ModelKernelChecks.compare("l", new float[] {Float.NaN}, new double[] {0}, 1));
        assertNotNull(ModelKernelChecks.compare("l", new float[] {1f}, new double[] {1, 2}, 1));
    }

    @Test
    void checksHaveUniqueNamesAndCoverEveryKernelFile() {
        List<ModelKernelChecks.Check> checks = ModelKernelChecks.checks();
        java.util.Set<String> names = new java.util.HashSet<>();
        for (ModelKernelChecks.Check c : checks) assertTrue(names.add(c.name()), "duplicate check " + c.name());
        for (String op : List.of("ctc", "lmu-recurrent", "lmu-conv", "attention hd32", "attention hd64")) {
            assertTrue(names.stream().anyMatch(n -> n.startsWith(op)), "no check of " + op);
        }
    }

    @Tag("gpu")
    @Test
    void everyModelKernelMatchesItsCpuReference() {
        if (!Cuda.isAvailable()) {
            System.out.println("ModelKernelChecksTest: skipped, CUDA not available: " + Cuda.unavailabilityCause().getMessage());
        }
        assumeTrue(Cuda.isAvailable(), () -> "CUDA not available: " + Cuda.unavailabilityCause().getMessage());
        try (CudaContext ctx = CudaContext.open(0); PinnedStaging io = new PinnedStaging(ctx, 1 << 16)) {
            List<String> failures = ModelKernelChecks.run(ctx, io);
            assertEquals(List.of(), failures);
        }
    }
}
