package lmu.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exercises the driver-present-but-no-GPU path: builds the stand-in {@code libcuda.so.1} from
 * {@code native/cuda_stub.c} with gcc and probes CUDA in a child JVM that loads it. Skipped where
 * gcc is missing.
 */
class StubDriverTest {
    @TempDir Path tmp;

    @Test
    void stubDriverReportsNoDevice() throws Exception {
        Path stub = buildStub();
        String path = System.getenv("LD_LIBRARY_PATH");
        String ld = stub.getParent() + (path == null || path.isEmpty() ? "" : ":" + path);
        List<String> out = CudaTest.runJava(Map.of("LD_LIBRARY_PATH", ld), List.of());
        String all = String.join("\n", out);
        assertTrue(out.contains("available=false"), all);
        assertTrue(out.contains("driver=13.0"), "driver version read from the stub: " + all);
        String cause = out.stream().filter(l -> l.startsWith("cause=")).findFirst().orElse("");
        assertTrue(cause.startsWith("cause=cuInit: CUDA_ERROR_NO_DEVICE (100): no CUDA device"), all);
        assertTrue(cause.contains("--device cpu"), all);
        assertTrue(out.contains("causeType=" + CudaException.class.getName()), all);
        assertTrue(out.contains("ensure=IllegalStateException"), all);
    }

    private Path buildStub() throws Exception {
        Path src = Path.of("native", "cuda_stub.c");
        assumeTrue(Files.isRegularFile(src), "native/cuda_stub.c not found from " + Path.of("").toAbsolutePath());
        Path lib = tmp.resolve("libcuda.so.1");
        Process p;
        try {
            p = new ProcessBuilder("gcc", "-O2", "-fPIC", "-shared", "-Wl,-soname,libcuda.so.1", "-o", lib.toString(),
                    src.toString()).redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            assumeTrue(false, "gcc not available: " + e.getMessage());
            throw e;
        }
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "gcc did not finish");
        assertEquals(0, p.exitValue(), "gcc failed: " + log);
        return lib;
    }
}
