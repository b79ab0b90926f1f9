package lmu.backend.cuda.kernels;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import lmu.backend.cuda.CudaSelfTest;
import lmu.backend.cuda.ParityCheck;
import org.junit.jupiter.api.Test;

/** The LMU-layer device checks cover both modes, are named uniquely and run in the parity suite (on a GPU). */
class LmuLayerChecksTest {
    @Test
    void checksCoverBothModesAndAreInTheParitySuite() {
        Set<String> names = new HashSet<>();
        for (ParityCheck c : LmuLayerChecks.all()) {
            assertTrue(c.name().startsWith("lmu-layer "), c.name());
            assertTrue(names.add(c.name()), "duplicate check " + c.name());
        }
        assertTrue(names.stream().anyMatch(n -> n.startsWith("lmu-layer parallel")), "no parallel check");
        assertTrue(names.stream().anyMatch(n -> n.startsWith("lmu-layer recurrent")), "no recurrent check");
        Set<String> suite = new HashSet<>();
        for (ParityCheck p : CudaSelfTest.checks()) suite.add(p.name());
        assertTrue(suite.containsAll(names), "CudaSelfTest.checks() lacks the lmu-layer checks");
    }
}
