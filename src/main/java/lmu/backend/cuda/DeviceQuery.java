package lmu.backend.cuda;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;

/** The JCuda half of {@link GpuEnvironment}: loaded only once {@link Cuda#isAvailable()} is true. */
final class DeviceQuery {
    private DeviceQuery() {}

    /** One row per visible GPU: name, compute capability, memory, multiprocessors. */
    static List<GpuEnvironment.Row> devices() {
        List<GpuEnvironment.Row> rows = new ArrayList<>();
        for (int i = 0; i < Cuda.deviceCount(); i++) {
            int index = i;
            try {
                CUdevice d = new CUdevice();
                Driver.check("cuDeviceGet", () -> JCudaDriver.cuDeviceGet(d, index));
                byte[] buf = new byte[256];
                Driver.check("cuDeviceGetName", () -> JCudaDriver.cuDeviceGetName(buf, buf.length, d));
                int len = 0;
                while (len < buf.length && buf[len] != 0) len++;
                long[] mem = new long[1];
                Driver.check("cuDeviceTotalMem", () -> JCudaDriver.cuDeviceTotalMem(mem, d));
                int major = attr(d, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
                int minor = attr(d, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
                int sms = attr(d, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
                rows.add(GpuEnvironment.Row.ok("GPU " + i, String.format(Locale.ROOT,
                        "%s, compute capability %d.%d (sm_%d%d), %s, %d SMs",
                        new String(buf, 0, len, StandardCharsets.US_ASCII), major, minor, major, minor,
                        CachingAllocator.bytes(mem[0]), sms)));
            } catch (RuntimeException e) {
                rows.add(GpuEnvironment.Row.no("GPU " + i, e.getMessage()));
            }
        }
        return rows;
    }

    private static int attr(CUdevice d, int a) {
        int[] v = new int[1];
        Driver.check("cuDeviceGetAttribute", () -> JCudaDriver.cuDeviceGetAttribute(v, a, d));
        return v[0];
    }

    /** One row per packaged fatbin: whether its module loads on device 0. */
    static List<GpuEnvironment.Row> modules(KernelManifest manifest) {
        List<GpuEnvironment.Row> rows = new ArrayList<>();
        try (CudaContext ctx = CudaContext.open(0)) {
            for (String op : manifest.ops()) {
                try {
                    ctx.kernels().module(op);
                    rows.add(GpuEnvironment.Row.ok("kernels/" + op + ".fatbin", "loads on " + ctx));
                } catch (RuntimeException e) {
                    rows.add(GpuEnvironment.Row.no("kernels/" + op + ".fatbin", e.getMessage()));
                }
            }
        } catch (RuntimeException e) {
            rows.add(GpuEnvironment.Row.no("kernel modules", "cannot open cuda:0: " + e.getMessage()));
        }
        return rows;
    }
}
