package lmu.cli;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import lmu.backend.cpu.Gemm;
import lmu.backend.cuda.Cuda;
import lmu.backend.cuda.CudaSelfTest;
import lmu.backend.cuda.GpuEnvironment;
import lmu.distributed.NcclCheck;
import lmu.util.Parallel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code check}: what this machine offers the engine. Java, CPU and matrix-product library; the
 * CUDA driver, GPUs, GPU libraries and kernels; with a GPU, an NCCL all-reduce over the GPUs and (with
 * {@code --parity}) a first-contact self test of the kernels.
 */
@Command(name = "check", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Verifies the environment: Java, CPU, matrix products, CUDA driver, GPUs, GPU libraries and kernels.")
final class CheckCommand implements Callable<Integer> {
    @Option(names = "--parity", description = "with a GPU: run every CUDA kernel against the CPU reference (PASS/FAIL table)")
    boolean parity;

    @Override
    public Integer call() {
        Runtime rt = Runtime.getRuntime();
        System.out.printf(Locale.ROOT, "java        %s (%s), max heap %d MiB%n", System.getProperty("java.version"),
                System.getProperty("java.vm.name"), rt.maxMemory() >> 20);
        System.out.printf(Locale.ROOT, "os          %s %s (%s)%n", System.getProperty("os.name"), System.getProperty("os.version"),
                System.getProperty("os.arch"));
        System.out.printf(Locale.ROOT, "cpu         %d cores available, %d engine threads%n", rt.availableProcessors(), Parallel.threads());
        System.out.println("matmul      " + Gemm.implementation());
        System.out.print(GpuEnvironment.format(GpuEnvironment.report()));
        String nccl = ncclLine();
        System.out.println(nccl);
        if (!Cuda.isAvailable()) {
            System.out.println("result      CPU only: training runs on the CPU (--device cpu); CUDA: " + Cuda.unavailabilityCause().getMessage());
            if (parity) System.out.println("parity      skipped: its " + CudaSelfTest.checks().size() + " CPU-vs-CUDA checks need a GPU");
            return 0;
        }
        int ncclExit = nccl.startsWith(NCCL + "FAIL") ? Main.EXIT_FAILURE : 0;
        if (!parity) return ncclExit;
        List<String> failures = CudaSelfTest.run();
        System.out.println(failures.isEmpty() ? "parity      PASS" : "parity      FAIL: " + String.join("; ", failures));
        return failures.isEmpty() ? ncclExit : Main.EXIT_FAILURE;
    }

    private static final String NCCL = "nccl        ";

    /**
     * With a GPU: collectives through NCCL on every visible GPU of this JVM ({@link NcclCheck});
     * "skipped" with the reason when there is no GPU or the NCCL library does not load, "FAIL" when
     * NCCL runs but fails or computes wrong values.
     */
    static String ncclLine() {
        if (!Cuda.isAvailable()) {
            return NCCL + "skipped: the NCCL all-reduce needs a GPU; " + Cuda.unavailabilityCause().getMessage();
        }
        try {
            return NCCL + NcclCheck.run(Cuda.deviceCount(), Duration.ofSeconds(60));
        } catch (LinkageError e) { // libnccl.so.2 (or the CUDA runtime) missing: the report above names it
            return NCCL + "skipped: the NCCL library did not load: " + e;
        } catch (RuntimeException e) {
            return NCCL + "FAIL: " + e.getMessage();
        }
    }
}
