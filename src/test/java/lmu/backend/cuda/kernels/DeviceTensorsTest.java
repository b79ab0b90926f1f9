package lmu.backend.cuda.kernels;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import lmu.tensor.DType;
import org.junit.jupiter.api.Test;

class DeviceTensorsTest {
    /** What every fused launcher of the package runs on a tensor's storage dtype before its pointer is used. */
    @Test
    void aKernelThatReadsF32RefusesEveryOtherDtypeNamingOpArgumentAndDtype() {
        assertDoesNotThrow(() -> DeviceTensors.requireDtype("CudaLmuKernels.convolutionForward", "u", DType.F32, DType.F32));
        for (DType other : DType.values()) {
            if (other == DType.F32) continue;
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DeviceTensors.requireDtype("CudaAttentionKernels.forward", "q", other, DType.F32));
            String got = other.name().toLowerCase(java.util.Locale.ROOT);
            assertEquals("CudaAttentionKernels.forward: q must be an f32 tensor (the kernel reads f32 elements), got " + got,
                    e.getMessage());
        }
    }

    @Test
    void theExpectedDtypeIsNamedWithItsArticle() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DeviceTensors.requireDtype("CudaCtcKernels.lossAndGradient", "logits", DType.F32, DType.BF16));
        assertEquals("CudaCtcKernels.lossAndGradient: logits must be a bf16 tensor (the kernel reads bf16 elements), got f32",
                e.getMessage());
    }
}
