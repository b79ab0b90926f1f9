package lmu.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import jcuda.driver.CUresult;
import org.junit.jupiter.api.Test;

/** The driver-result plumbing; pure Java parts of JCuda only (no native library is loaded). */
class DriverTest {
    @Test
    void cudaExceptionConstantsMatchJCudasCuResult() throws Exception {
        int checked = 0;
        for (Field f : CudaException.class.getFields()) {
            if (!Modifier.isStatic(f.getModifiers()) || f.getType() != int.class) continue;
            assertEquals(CUresult.class.getField(f.getName()).getInt(null), f.getInt(null), f.getName());
            checked++;
        }
        assertTrue(checked >= 15, "constants checked: " + checked);
    }

    @Test
    void jcudaExceptionsMapBackToTheirCode() {
        assertEquals(209, Driver.codeOf(new jcuda.CudaException("CUDA_ERROR_NO_BINARY_FOR_GPU")));
        assertEquals(100, Driver.codeOf(new jcuda.CudaException("CUDA_ERROR_NO_DEVICE: extra detail")));
        assertEquals(CudaException.CUDA_ERROR_UNKNOWN, Driver.codeOf(new jcuda.CudaException("something else")));
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", Driver.nameOf(2));
    }

    @Test
    void checkTurnsFailuresIntoCudaExceptions() {
        Driver.check("cuNothing", () -> 0);
        CudaException e = assertThrows(CudaException.class, () -> Driver.check("cuMemAlloc", () -> 2, "1.00 GiB"));
        assertEquals("cuMemAlloc: CUDA_ERROR_OUT_OF_MEMORY (2): 1.00 GiB", e.getMessage());
        assertNull(e.grid());
        jcuda.CudaException thrown = new jcuda.CudaException("CUDA_ERROR_ILLEGAL_ADDRESS");
        CudaException wrapped = assertThrows(CudaException.class, () -> Driver.check("cuStreamSynchronize", () -> {
            throw thrown;
        }));
        assertEquals(700, wrapped.code());
        assertSame(thrown, wrapped.getCause());
        assertEquals(500, Driver.code(() -> {
            throw new jcuda.CudaException("CUDA_ERROR_NOT_FOUND");
        }));
    }
}
