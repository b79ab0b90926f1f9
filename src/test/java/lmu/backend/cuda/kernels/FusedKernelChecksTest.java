package lmu.backend.cuda.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import lmu.backend.FusedKernels;
import lmu.backend.cuda.CudaSelfTest;
import lmu.backend.cuda.ParityCheck;
import org.junit.jupiter.api.Test;

/** The fused-kernel checks are named uniquely, cover every activation and both ops, and run in the parity suite. */
class FusedKernelChecksTest {
    @Test
    void checksHaveUniqueNamesCoverBothOpsAndAreInTheParitySuite() {
        Set<String> names = new HashSet<>();
        for (ParityCheck c : FusedKernelChecks.all()) assertTrue(names.add(c.name()), "duplicate check " + c.name());
        for (FusedKernels.Activation act : FusedKernels.Activation.values()) {
            String prefix = "fused bias+" + act.name().toLowerCase();
            assertTrue(names.stream().anyMatch(n -> n.startsWith(prefix)), "no check of " + prefix);
        }
        assertTrue(names.stream().anyMatch(n -> n.startsWith("fused residual+layernorm")), "no residual+layernorm check");
        Set<String> suite = new HashSet<>();
        for (ParityCheck p : CudaSelfTest.checks()) suite.add(p.name());
        assertTrue(suite.containsAll(names), "CudaSelfTest.checks() lacks fused-kernel checks");
        assertEquals(0, CudaFusedKernels.code(FusedKernels.Activation.IDENTITY), "bias_activation.cu ACT_IDENTITY");
        assertEquals(1, CudaFusedKernels.code(FusedKernels.Activation.RELU), "bias_activation.cu ACT_RELU");
        assertEquals(2, CudaFusedKernels.code(FusedKernels.Activation.GELU), "bias_activation.cu ACT_GELU");
        assertEquals(3, CudaFusedKernels.code(FusedKernels.Activation.TANH), "bias_activation.cu ACT_TANH");
    }
}
