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
    void noBinaryMessageNamesTheDeviceAndTheBuiltArches() {
        KernelManifest m = new KernelManifest("13.0", List.of("sm_80", "sm_90", "compute_90"), List.of("softmax"));
        assertEquals("kernels/softmax.fatbin has no code for cuda:0 (Tesla T4, sm_75), compute capability 7.5; it was"
                + " built for sm_80, sm_90, compute_90 (PTX). Add -gencode arch=compute_75,code=sm_75 to ARCH in"
                + " kernels/Makefile and rebuild", m.noBinaryMessage("softmax", "cuda:0 (Tesla T4, sm_75)", 75));
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
