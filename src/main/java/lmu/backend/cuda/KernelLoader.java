package lmu.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

/**
 * Loads {@code kernels/<op>.fatbin} from the classpath into a CUDA module ({@code
 * cuModuleLoadData}) the first time an op is used on a context, and caches each {@code
 * CUfunction} by name. Nothing is compiled at run time: the fatbins hold SASS for the
 * architectures listed in {@link KernelManifest} plus PTX for newer GPUs.
 *
 * <p>A GPU whose architecture is not in the fatbin fails with a message naming its compute
 * capability and the architectures that were built, instead of "no kernel image is available".
 */
public final class KernelLoader implements AutoCloseable {
    private final CudaContext ctx;
    private final KernelManifest manifest;
    private final Map<String, CUmodule> modules = new HashMap<>();
    private final Map<String, CUfunction> functions = new HashMap<>();

    KernelLoader(CudaContext ctx, KernelManifest manifest) {
        this.ctx = ctx;
        this.manifest = manifest;
    }

    /**
     * The kernel {@code kernel} of op {@code op}, e.g. {@code function("softmax",
     * "softmax_forward_kernel")}.
     *
     * @throws IllegalStateException when {@code kernels/<op>.fatbin} is not in the jar
     * @throws CudaException when the module does not load on this GPU or has no such kernel
     */
    public CUfunction function(String op, String kernel) {
        String key = op + "/" + kernel;
        CUfunction f = functions.get(key);
        if (f == null) {
            CUmodule module = module(op);
            CUfunction fn = new CUfunction();
            Driver.check("cuModuleGetFunction", () -> JCudaDriver.cuModuleGetFunction(fn, module, kernel),
                    "no kernel '" + kernel + "' in kernels/" + op + ".fatbin (is it declared extern \"C\"?)");
            functions.put(key, fn);
            f = fn;
        }
        return f;
    }

    /**
     * The module of {@code op}, loaded on first use.
     *
     * @throws IllegalStateException when {@code kernels/<op>.fatbin} is not in the jar
     * @throws CudaException when the module does not load on this GPU
     */
    public CUmodule module(String op) {
        CUmodule m = modules.get(op);
        if (m != null) return m;
        byte[] image = readFatbin(op);
        CUmodule module = new CUmodule();
        int rc = Driver.code(() -> JCudaDriver.cuModuleLoadData(module, image));
        if (rc != CudaException.CUDA_SUCCESS) throw loadFailure(op, rc);
        modules.put(op, module);
        return module;
    }

    private byte[] readFatbin(String op) {
        String path = "kernels/" + op + ".fatbin";
        try (InputStream in = KernelLoader.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("KernelLoader: " + path + " is not on the classpath; packaged ops: "
                        + (manifest.ops().isEmpty() ? "none" : String.join(", ", manifest.ops()))
                        + ". Build the jar with nvcc on the PATH (not -Dkernels.skip)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("KernelLoader: cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    /** The exception for a module that did not load, with the arches built and the device's. */
    CudaException loadFailure(String op, int rc) {
        String device = ctx.toString();
        String built = manifest.archesDescription();
        String msg;
        switch (rc) {
            case CudaException.CUDA_ERROR_NO_BINARY_FOR_GPU:
                msg = manifest.noBinaryMessage(op, device, ctx.computeCapability());
                break;
            case CudaException.CUDA_ERROR_UNSUPPORTED_PTX_VERSION:
            case CudaException.CUDA_ERROR_INVALID_PTX:
                msg = "the driver (CUDA " + Cuda.versionString(Cuda.driverVersion()) + ") cannot JIT the PTX in kernels/"
                        + op + ".fatbin built by nvcc " + manifest.nvccVersion() + " for " + built
                        + ": update the NVIDIA driver, or rebuild with SASS for this GPU (sm_" + ctx.computeCapability() + ")";
                break;
            default:
                msg = "loading kernels/" + op + ".fatbin (built for " + built + ") on " + device;
        }
        return Driver.exception("cuModuleLoadData", rc, msg);
    }

    /** Unloads every module; the functions handed out become invalid. */
    @Override
    public void close() {
        for (CUmodule m : modules.values()) JCudaDriver.cuModuleUnload(m);
        modules.clear();
        functions.clear();
    }
}
