package lmu.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestFactory;

/**
 * Every {@link ParityCheck} of {@link CudaSelfTest#checks()} as its own JUnit test on device 0
 * ({@code mvn verify -Pgpu}); each is skipped, with the reason printed, without CUDA.
 */
@Tag("gpu")
class CudaSelfTestTest {
    @TestFactory
    Stream<DynamicTest> everyParityCheckPassesOnDevice0() {
        return CudaSelfTest.checks().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            assumeTrue(Cuda.isAvailable(), () -> "CUDA not available: " + Cuda.unavailabilityCause().getMessage());
            List<CudaSelfTest.Outcome> out = CudaSelfTest.runChecks(c.name()::equals);
            assertTrue(out.size() == 1 && out.get(0).passed(), () -> c.name() + ": " + out);
        }));
    }
}
