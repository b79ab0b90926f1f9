package lmu.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import lmu.backend.BinaryOp;
import lmu.backend.UnaryOp;
import lmu.tensor.Device;
import org.junit.jupiter.api.Test;

/** What can be checked of {@link CudaBackend} without a GPU; the ops themselves are checked by {@link CudaSelfTestTest}. */
class CudaBackendTest {
    @Test
    void openingWithoutCudaExplainsWhy() {
        assumeFalse(Cuda.isAvailable(), "this machine has CUDA: the parity checks cover it");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> CudaBackend.open(Device.cuda(0)));
        assertTrue(e.getMessage().startsWith("CUDA is not available: "), e.getMessage());
    }

    @Test
    void openingTheCpuIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaBackend.open(Device.CPU));
        assertEquals("CudaBackend: device must be cuda:N, got cpu", e.getMessage());
    }

    /** The {@code #define NAME value} lines of a kernel file. */
    private static Map<String, Integer> defines(String file) throws IOException {
        Path p = Path.of("kernels", file);
        Map<String, Integer> m = new HashMap<>();
        Matcher d = Pattern.compile("(?m)^#define (\\w+) (\\d+)\\s*$").matcher(Files.readString(p));
        while (d.find()) m.put(d.group(1), Integer.parseInt(d.group(2)));
        return m;
    }

    @Test
    void opCodesMatchTheKernelDefines() throws IOException {
        Map<String, Integer> d = defines("elementwise.cu");
        for (BinaryOp op : BinaryOp.values()) {
            assertEquals(d.get("OP_" + op.name()), CudaBackend.code(op), "BinaryOp." + op);
        }
        for (UnaryOp op : UnaryOp.values()) {
            assertEquals(d.get("U_" + op.name()), CudaBackend.code(op), "UnaryOp." + op);
        }
    }

    @Test
    void halfFormatCodesMatchTheCastKernelDefines() throws IOException {
        Map<String, Integer> d = defines("cast.cu");
        assertEquals(d.get("FMT_F16"), CudaBackend.formatCode(lmu.tensor.DType.F16));
        assertEquals(d.get("FMT_BF16"), CudaBackend.formatCode(lmu.tensor.DType.BF16));
    }

    @Test
    void structSizesMatchStridedHeader() throws IOException {
        assertEquals(StridedIndex.MAX_RANK, defines("strided.cuh").get("MAX_RANK"));
    }
}
