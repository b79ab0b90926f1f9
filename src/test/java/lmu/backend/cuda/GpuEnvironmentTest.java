package lmu.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class GpuEnvironmentTest {
    @Test
    void reportHasOneRowPerCheckAndNoStackTrace() {
        List<GpuEnvironment.Row> rows = GpuEnvironment.report();
        assertEquals("CUDA driver", rows.get(0).item());
        assertEquals(Cuda.isAvailable(), rows.get(0).available());
        for (GpuEnvironment.Library lib : GpuEnvironment.LIBRARIES) {
            assertTrue(rows.stream().anyMatch(r -> r.item().equals(lib.name())), "row for " + lib.name());
        }
        String text = GpuEnvironment.format(rows);
        assertFalse(text.contains("\tat ") || text.contains("Exception in"), text);
        if (!Cuda.isAvailable()) {
            assertTrue(text.contains("CUDA driver              not available: "), text);
            assertFalse(rows.get(1).available(), "no GPUs without CUDA");
        }
    }

    @Test
    void sonamesFollowThePresetsVersion() {
        GpuEnvironment.Library cufft = GpuEnvironment.LIBRARIES.get(2);
        assertEquals("libcufft.so.12", cufft.sonames("13.1-9.19-1.5.13"));
        assertEquals("libcufft.so.11", cufft.sonames("12.9-9.10-1.5.12"));
    }

    @Test
    void missingSharedObjectIsNamed() {
        Throwable t = new UnsatisfiedLinkError("no jnicublas in java.library.path");
        t.initCause(new UnsatisfiedLinkError("/root/.javacpp/cache/x/libjnicublas.so: libcublas.so.13: cannot open"
                + " shared object file: No such file or directory"));
        assertEquals("missing libcublas.so.13 (add the CUDA toolkit's lib64 (or the pip nvidia-* wheel's lib) holding it"
                + " to LD_LIBRARY_PATH)",
                GpuEnvironment.whyNotLoaded(t, "libcublas.so.13"));
        Throwable n = new UnsatisfiedLinkError("x: libnccl.so.2: cannot open shared object file");
        assertTrue(GpuEnvironment.whyNotLoaded(n, "libnccl.so.2").startsWith("missing libnccl.so.2 (add its directory"));
        assertEquals("needs cublas, which did not load (see its row)", GpuEnvironment.whyNotLoaded(
                new NoClassDefFoundError("Could not initialize class org.bytedeco.cuda.global.cublas"), "libcudnn.so.9"));
        assertEquals("IllegalStateException: first line",
                GpuEnvironment.whyNotLoaded(new IllegalStateException("first line\nsecond"), "libx.so"));
    }
}
