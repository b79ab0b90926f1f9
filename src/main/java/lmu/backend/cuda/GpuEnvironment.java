package lmu.backend.cuda;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What this machine offers the CUDA backend, as rows for the {@code check} command: the driver
 * and the CUDA version it supports, the GPUs, which GPU libraries load through {@code
 * org.bytedeco:cuda} (cuBLAS, cuFFT, cuDNN, NCCL) and which shared object is missing where they do
 * not, and which kernel fatbins are packaged and whether they load on the device.
 *
 * <p>Never throws and never prints stack traces: every failure becomes a "not available" row with
 * the reason. Refers to no JCuda or {@code org.bytedeco.cuda} type directly, so it can be loaded on
 * any machine. {@code java -cp lmu-engine.jar lmu.backend.cuda.GpuEnvironment} prints the report.
 */
public final class GpuEnvironment {
    private GpuEnvironment() {}

    /**
     * One line of the report.
     *
     * @param item what was checked, e.g. {@code "cuBLAS"}
     * @param available whether it is usable
     * @param detail what was found, or why it is not available
     */
    public record Row(String item, boolean available, String detail) {
        static Row ok(String item, String detail) {
            return new Row(item, true, detail);
        }

        static Row no(String item, String why) {
            return new Row(item, false, why);
        }

        @Override
        public String toString() {
            return String.format("%-24s %s", item, (available ? "" : "not available: ") + detail);
        }
    }

    /**
     * A library of {@code org.bytedeco:cuda}: display name, the presets class, and the sonames it
     * links in the CUDA 13 library set (13.x presets, the default) and the CUDA 12 one (12.x
     * presets, {@code -Pcuda12}).
     */
    record Library(String name, String global, String sonames13, String sonames12) {
        String sonames(String presetsVersion) {
            return presetsVersion.startsWith("12.") ? sonames12 : sonames13;
        }
    }

    static final List<Library> LIBRARIES = List.of(
            new Library("CUDA runtime", "cudart", "libcudart.so.13", "libcudart.so.12"),
            new Library("cuBLAS/cuBLASLt", "cublas", "libcublas.so.13, libcublasLt.so.13", "libcublas.so.12, libcublasLt.so.12"),
            new Library("cuFFT", "cufft", "libcufft.so.12", "libcufft.so.11"),
            new Library("cuDNN", "cudnn", "libcudnn.so.9", "libcudnn.so.9"),
            new Library("NCCL", "nccl", "libnccl.so.2", "libnccl.so.2"));

    private static final Pattern DEPENDENCY = Pattern.compile("Could not initialize class org\\.bytedeco\\.cuda\\.global\\.(\\w+)");
    private static final Pattern MISSING = Pattern.compile("(lib[\\w.+-]+\\.so[\\w.]*): cannot open shared object file");

    /** The full report. */
    public static List<Row> report() {
        List<Row> rows = new ArrayList<>();
        rows.add(driverRow());
        boolean cuda = Cuda.isAvailable();
        if (cuda) {
            rows.addAll(guard("GPUs", DeviceQuery::devices));
        } else {
            rows.add(Row.no("GPUs", Cuda.deviceCount() == 0 && Cuda.driverVersion() > 0
                    ? "the driver sees no device" : "no driver"));
        }
        rows.addAll(libraries());
        KernelManifest manifest = KernelManifest.load();
        rows.add(manifest.hasKernels()
                ? Row.ok("kernels", String.join(", ", manifest.ops()) + " (nvcc " + manifest.nvccVersion() + ", "
                        + manifest.archesDescription() + ")")
                : Row.no("kernels", "no fatbins in this jar (built with -Dkernels.skip or without nvcc)"));
        if (manifest.hasKernels()) {
            if (cuda) rows.addAll(guard("kernel modules", () -> DeviceQuery.modules(manifest)));
            else rows.add(Row.no("kernel modules", "CUDA is not available"));
        }
        return rows;
    }

    private static Row driverRow() {
        int v = Cuda.driverVersion();
        if (Cuda.isAvailable()) {
            return Row.ok("CUDA driver", "supports CUDA " + Cuda.versionString(v) + " (driver API through JCuda),"
                    + " " + Cuda.deviceCount() + " device(s)");
        }
        String why = Cuda.unavailabilityCause().getMessage();
        return Row.no("CUDA driver", (v > 0 ? "supports CUDA " + Cuda.versionString(v) + ", but " : "") + why);
    }

    private interface RowSource {
        List<Row> get();
    }

    private static List<Row> guard(String item, RowSource source) {
        try {
            return source.get();
        } catch (Throwable t) { // a report must not throw
            return List.of(Row.no(item, String.valueOf(t)));
        }
    }

    /** One row per library in {@link #LIBRARIES}: loads, or the missing soname. */
    static List<Row> libraries() {
        List<Row> rows = new ArrayList<>();
        String version = bytedecoVersion();
        if (version == null) {
            rows.add(Row.no("org.bytedeco:cuda", "not in this jar"));
            return rows;
        }
        String set = version.startsWith("12.") ? "CUDA 12" : "CUDA 13";
        rows.add(Row.ok("org.bytedeco:cuda", version + " (" + set + " library set)"));
        String runtimeFailure = null;
        for (Library lib : LIBRARIES) {
            String sonames = lib.sonames(version);
            String item = lib.name();
            if (runtimeFailure != null) {
                rows.add(Row.no(item, "the CUDA runtime did not load (this one links " + sonames + ")"));
                continue;
            }
            try {
                Class<?> c = Class.forName("org.bytedeco.cuda.global." + lib.global(), false,
                        GpuEnvironment.class.getClassLoader());
                org.bytedeco.javacpp.Loader.load(c);
                rows.add(Row.ok(item, sonames + " loaded"));
            } catch (Throwable t) {
                String why = whyNotLoaded(t, sonames);
                if (lib.global().equals("cudart")) runtimeFailure = why;
                rows.add(Row.no(item, why));
            }
        }
        return rows;
    }

    /** "missing libcublas.so.13 (...)" from the first "cannot open shared object file" in the chain, else the first message. */
    static String whyNotLoaded(Throwable t, String sonames) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            Matcher m = MISSING.matcher(String.valueOf(c.getMessage()));
            if (m.find()) return "missing " + m.group(1) + " (" + hintFor(m.group(1)) + ")";
        }
        String msg = String.valueOf(t.getMessage());
        Matcher dep = DEPENDENCY.matcher(msg);
        if (t instanceof NoClassDefFoundError && dep.find()) {
            return "needs " + dep.group(1) + ", which did not load (see its row)";
        }
        int nl = msg.indexOf('\n');
        return t.getClass().getSimpleName() + ": " + (nl < 0 ? msg : msg.substring(0, nl));
    }

    private static String hintFor(String soname) {
        if (soname.startsWith("libcuda.so")) return "no NVIDIA driver";
        if (soname.startsWith("libcudnn") || soname.startsWith("libnccl")) {
            return "add its directory to LD_LIBRARY_PATH: system package or pip nvidia-* wheel, find / -name '"
                    + soname + "'";
        }
        return "add the CUDA toolkit's lib64 (or the pip nvidia-* wheel's lib) holding it to LD_LIBRARY_PATH";
    }

    private static String bytedecoVersion() {
        try (InputStream in = GpuEnvironment.class.getClassLoader()
                .getResourceAsStream("META-INF/maven/org.bytedeco/cuda/pom.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                return p.getProperty("version");
            }
        } catch (java.io.IOException e) {
            return null;
        }
        return GpuEnvironment.class.getClassLoader().getResource("org/bytedeco/cuda/global/cudart.class") != null
                ? "unknown version" : null;
    }

    /** The rows as aligned text, one per line. */
    public static String format(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        for (Row r : rows) sb.append(r).append('\n');
        return sb.toString();
    }

    /** Prints {@link #report()}. */
    public static void main(String[] args) {
        System.out.print(format(report()));
    }
}
