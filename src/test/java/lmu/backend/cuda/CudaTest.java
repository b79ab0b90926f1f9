package lmu.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class CudaTest {
    @Test
    void availabilityIsDecidedOnceAndExplained() {
        boolean available = Cuda.isAvailable();
        assertEquals(available, Cuda.isAvailable());
        if (available) {
            assertNull(Cuda.unavailabilityCause());
            assertTrue(Cuda.deviceCount() > 0);
            Cuda.ensureAvailable();
            return;
        }
        Throwable cause = Cuda.unavailabilityCause();
        assertNotNull(cause);
        assertSame(cause, Cuda.unavailabilityCause(), "the cause is captured once");
        assertTrue(cause.getMessage().contains("--device cpu"), cause.getMessage());
        IllegalStateException e = assertThrows(IllegalStateException.class, Cuda::ensureAvailable);
        assertTrue(e.getMessage().startsWith("CUDA is not available: "), e.getMessage());
        assertSame(cause, e.getCause());
        assertEquals(0, Cuda.deviceCount());
    }

    @Test
    void loadingTheFacadeLoadsNoJCudaClass() throws Exception {
        List<String> out = runJava(Map.of(), List.of("-Xlog:class+load=info"), "--load-only");
        assertTrue(out.contains("loaded"), String.join("\n", out));
        assertTrue(out.stream().anyMatch(l -> l.contains("lmu.backend.cuda.Cuda ")), "class log is on");
        for (String line : out) {
            assertFalse(line.contains(" jcuda.") || line.contains("org.bytedeco.cuda"), line);
        }
    }

    @Test
    void disablePropertySkipsTheProbe() throws Exception {
        List<String> out = runJava(Map.of(), List.of("-D" + Cuda.DISABLE_PROPERTY + "=true", "-Xlog:class+load=info"));
        assertTrue(out.contains("available=false"), String.join("\n", out));
        assertTrue(out.stream().anyMatch(l -> l.startsWith("cause=CUDA disabled by -Dlmu.cuda.disable=true")));
        assertTrue(out.contains("ensure=IllegalStateException"));
        assertFalse(out.stream().anyMatch(l -> l.contains(" jcuda.")), "no JCuda class loaded");
    }

    @Test
    void versionStringSplitsMajorAndMinor() {
        assertEquals("13.0", Cuda.versionString(13000));
        assertEquals("12.6", Cuda.versionString(12060));
    }

    @Test
    void noDriverHintNamesTheLibrary() {
        Throwable t = Cuda.explain(new UnsatisfiedLinkError(
                "/tmp/libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: cannot open shared object file"));
        assertTrue(t instanceof UnsatisfiedLinkError);
        assertTrue(t.getMessage().startsWith("no NVIDIA driver: libcuda.so.1 was not found"), t.getMessage());
        assertTrue(t.getMessage().contains("LD_LIBRARY_PATH"), t.getMessage());
        assertNotNull(t.getCause());
    }

    @Test
    void initHintsDependOnTheDriverResult() {
        assertTrue(Cuda.initHint(CudaException.CUDA_ERROR_NO_DEVICE, 13000).startsWith("no CUDA device: the driver for CUDA 13.0"));
        assertTrue(Cuda.initHint(CudaException.CUDA_ERROR_INSUFFICIENT_DRIVER, 12000).contains("too old"));
        assertTrue(Cuda.initHint(CudaException.CUDA_ERROR_STUB_LIBRARY, 13000).contains("stub"));
        KernelManifest m = new KernelManifest("13.0", List.of("sm_80"), List.of("gelu"));
        String h = Cuda.driverTooOldHint(12080, m);
        assertTrue(h.contains("supports CUDA 12.8") && h.contains("nvcc 13.0") && h.contains("580"), h);
    }

    /** Runs {@link PrintCudaStatus} in a child JVM with this test's classpath; returns its output lines. */
    static List<String> runJava(Map<String, String> env, List<String> jvmArgs, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(PrintCudaStatus.class.getName());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        File log = Files.createTempFile("cuda-status", ".txt").toFile();
        try {
            pb.redirectOutput(log);
            Process p = pb.start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("child JVM did not finish: " + cmd);
            }
            List<String> out = Files.readAllLines(log.toPath());
            assertEquals(0, p.exitValue(), String.join("\n", out));
            return out;
        } finally {
            log.delete();
        }
    }
}
