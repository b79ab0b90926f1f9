package lmu.cli;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import lmu.backend.cpu.Gemm;
import lmu.backend.cuda.Cuda;
import lmu.backend.cuda.CudaSelfTest;
import lmu.backend.cuda.GpuEnvironment;
import lmu.util.Parallel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code check}: what this machine offers the engine. Java, CPU and matrix-product library; the
 * CUDA driver, GPUs, GPU libraries and kernels; with a GPU, a first-contact self test of the kernels.
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
        if (!Cuda.isAvailable()) {
            System.out.println("result      CPU only: training runs on the CPU (--device cpu); CUDA: " + Cuda.unavailabilityCause().getMessage());
            if (parity) System.out.println("parity      skipped: its " + CudaSelfTest.checks().size() + " CPU-vs-CUDA checks need a GPU");
            return 0;
        }
        if (!parity) return 0;
        List<String> failures = CudaSelfTest.run();
        System.out.println(failures.isEmpty() ? "parity      PASS" : "parity      FAIL: " + String.join("; ", failures));
        return failures.isEmpty() ? 0 : Main.EXIT_FAILURE;
    }
}
