package lmu.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/**
 * What {@code kernels/Makefile} packaged: the file {@code kernels/manifest.properties} on the
 * classpath, written next to the fatbins, names the nvcc version, the architectures and the ops.
 * Plain Java; absent in a jar built with {@code -Dkernels.skip} or without nvcc.
 *
 * @param nvccVersion nvcc's release, e.g. {@code "13.0"}; empty when no manifest was packaged
 * @param arches the SASS and PTX targets, e.g. {@code [sm_80, sm_90, compute_90]}
 * @param ops the ops with a fatbin, e.g. {@code [gelu, softmax]}
 */
public record KernelManifest(String nvccVersion, List<String> arches, List<String> ops) {
    /** The classpath resource the Makefile writes. */
    public static final String RESOURCE = "kernels/manifest.properties";

    /** The manifest on the classpath, or an empty one when the jar has no kernels. */
    public static KernelManifest load() {
        ClassLoader cl = KernelManifest.class.getClassLoader();
        try (InputStream in = cl.getResourceAsStream(RESOURCE)) {
            if (in == null) return new KernelManifest("", List.of(), List.of());
            Properties p = new Properties();
            p.load(in);
            return new KernelManifest(p.getProperty("nvcc", "").trim(), words(p.getProperty("arches")),
                    words(p.getProperty("ops")));
        } catch (IOException e) {
            throw new IllegalStateException("KernelManifest: cannot read " + RESOURCE + ": " + e.getMessage(), e);
        }
    }

    private static List<String> words(String s) {
        if (s == null || s.isBlank()) return List.of();
        return List.copyOf(Arrays.asList(s.trim().split("\\s+")));
    }

    /** True when the jar holds at least one fatbin. */
    public boolean hasKernels() {
        return !ops.isEmpty();
    }

    /** The CUDA major version of the nvcc that built the kernels, or 0 when unknown. */
    public int nvccMajor() {
        int dot = nvccVersion.indexOf('.');
        try {
            return dot > 0 ? Integer.parseInt(nvccVersion.substring(0, dot)) : 0;
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** The architectures as one line, e.g. {@code "sm_80, sm_90, compute_90 (PTX)"}. */
    public String archesDescription() {
        if (arches.isEmpty()) return "none (the jar was built with -Dkernels.skip or without nvcc)";
        StringBuilder sb = new StringBuilder();
        for (String a : arches) {
            if (sb.length() > 0) sb.append(", ");
            sb.append(a).append(a.startsWith("compute_") ? " (PTX)" : "");
        }
        return sb.toString();
    }

    /**
     * The message for a fatbin with no code for the device ({@code CUDA_ERROR_NO_BINARY_FOR_GPU}).
     *
     * @param op the op whose fatbin failed, e.g. {@code "softmax"}
     * @param device the device, e.g. {@code "cuda:0 (Tesla T4, sm_75)"}
     * @param computeCapability the device's compute capability as {@code 10 * major + minor}
     */
    public String noBinaryMessage(String op, String device, int computeCapability) {
        int cc = computeCapability;
        return "kernels/" + op + ".fatbin has no code for " + device + ", compute capability " + cc / 10 + "." + cc % 10
                + "; it was built for " + archesDescription() + ". Add -gencode arch=compute_" + cc + ",code=sm_" + cc
                + " to ARCH in kernels/Makefile and rebuild";
    }
}
