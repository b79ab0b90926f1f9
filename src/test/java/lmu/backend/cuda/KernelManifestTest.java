package lmu.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class KernelManifestTest {
    @Test
    void describesArchesAndNvccMajor() {
        KernelManifest m = new KernelManifest("13.0", List.of("sm_80", "sm_90", "compute_90"), List.of("gelu", "softmax"));
        assertEquals(13, m.nvccMajor());
        assertEquals("sm_80, sm_90, compute_90 (PTX)", m.archesDescription());
        assertTrue(m.hasKernels());
        KernelManifest none = new KernelManifest("", List.of(), List.of());
        assertEquals(0, none.nvccMajor());
        assertFalse(none.hasKernels());
        assertTrue(none.archesDescription().startsWith("none"));
    }

    @Test
    void packagedManifestMatchesTheFatbinsOnTheClasspath() {
        KernelManifest m = KernelManifest.load();
        ClassLoader cl = KernelManifestTest.class.getClassLoader();
        for (String op : m.ops()) {
            assertTrue(cl.getResource("kernels/" + op + ".fatbin") != null, "kernels/" + op + ".fatbin listed but missing");
        }
        if (m.hasKernels()) {
            assertTrue(m.nvccMajor() >= 12, "nvcc release recorded: " + m.nvccVersion());
            assertTrue(m.arches().contains("sm_90"), m.arches().toString());
        }
    }
}
