package lmu.backend.cuda.kernels;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import lmu.backend.cuda.CudaSelfTest;
import lmu.backend.cuda.ParityCheck;
import org.junit.jupiter.api.Test;

/** The model-kernel checks are named uniquely, cover every kernel file and run in the parity suite (CudaSelfTestTest runs them on a GPU). */
class ModelKernelChecksTest {
    @Test
    void checksHaveUniqueNamesCoverEveryKernelFileAndAreInTheParitySuite() {
        Set<String> names = new HashSet<>();
        for (ModelKernelChecks.Check c : ModelKernelChecks.checks()) assertTrue(names.add(c.name()), "duplicate check " + c.name());
        for (String op : List.of("ctc", "lmu-recurrent", "lmu-conv", "attention hd32", "attention hd64")) {
            assertTrue(names.stream().anyMatch(n -> n.startsWith(op)), "no check of " + op);
        }
        Set<String> suite = new HashSet<>();
        for (ParityCheck p : CudaSelfTest.checks()) suite.add(p.name());
        assertTrue(suite.containsAll(names), "CudaSelfTest.checks() lacks model-kernel checks");
    }
}
