import static org.bytedeco.openblas.global.openblas_nolapack.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas_nolapack.cblas_sgemm;

import java.util.Arrays;
import lmu.backend.cuda.Cuda;
import lmu.backend.cuda.GpuEnvironment;
import org.bytedeco.javacpp.FloatPointer;

/**
 * Run by make_bundle.sh with the bundle's own runtime and jar: checks that what the filtered jar
 * and the trimmed runtime must still provide loads: OpenBLAS through openblas_nolapack (the CPU
 * GEMM), JCuda's probe, and the GPU environment report.
 */
public final class BundleSmoke {
    public static void main(String[] args) {
        float[] c = new float[4];
        try (FloatPointer a = new FloatPointer(1, 2, 3, 4); FloatPointer b = new FloatPointer(5, 6, 7, 8);
                FloatPointer out = new FloatPointer(4)) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 2, 1f, a, 2, b, 2, 0f, out, 2);
            out.get(c);
        }
        if (!Arrays.equals(c, new float[] {19, 22, 43, 50})) {
            throw new IllegalStateException("BundleSmoke: sgemm gave " + Arrays.toString(c) + ", expected [19, 22, 43, 50]");
        }
        System.out.println("openblas sgemm: ok");
        System.out.println("cuda available: " + Cuda.isAvailable()
                + (Cuda.isAvailable() ? "" : " (" + Cuda.unavailabilityCause().getMessage() + ")"));
        String report = GpuEnvironment.format(GpuEnvironment.report());
        System.out.print(report);
        if (report.contains("Error") || report.contains("Exception")) {
            throw new IllegalStateException("BundleSmoke: the report names a Java error: the runtime or jar lacks a piece");
        }
    }
}
