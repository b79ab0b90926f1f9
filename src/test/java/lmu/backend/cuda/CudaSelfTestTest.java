package lmu.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Runs {@link CudaSelfTest} on device 0 ({@code mvn verify -Pgpu}); skipped without CUDA. */
@Tag("gpu")
class CudaSelfTestTest {
    @Test
    void everyKernelAndTheCopiesWorkOnDevice0() {
        assumeTrue(Cuda.isAvailable(), () -> "CUDA not available: " + Cuda.unavailabilityCause().getMessage());
        assertEquals(List.of(), CudaSelfTest.run());
    }
}
