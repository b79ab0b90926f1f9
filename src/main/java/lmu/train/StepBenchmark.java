package lmu.train;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import lmu.amp.Autocast;
import lmu.amp.DynamicLossScaler;
import lmu.amp.Precision;
import lmu.autograd.GradMode;
import lmu.autograd.Profiler;
import lmu.backend.Backends;
import lmu.nn.CtcModel;
import lmu.optim.Adam;
import lmu.optim.GradClip;
import lmu.speech.ctc.CtcLoss;
import lmu.speech.ctc.CtcLossFunction;
import lmu.tensor.DType;
import lmu.tensor.Device;
import lmu.tensor.Tensor;
import lmu.util.Rng;

/**
 * Times whole training steps (forward, CTC, backward, clipping, AdamW) of a config on random
 * features of a fixed shape, under the config's {@code train.mixed_precision} (auto: fp16 on a GPU,
 * fp32 on the CPU; fp16 with a fixed loss scale): the number compared with the PyTorch reference model. Prints the
 * median wall time and, since the machines it runs on are often shared, the median process CPU
 * time per step (all threads together, JIT and GC included: on an idle machine about threads × wall
 * time) and the part of it spent on the calling thread (with {@code --threads 1}, all the step's
 * arithmetic: the least load-sensitive measure of the work).
 */
public final class StepBenchmark {
    private StepBenchmark() {}

    /** CPU time of this process (all threads), or 0 where the JVM cannot tell. */
    static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return Math.max(0, os.getProcessCpuTime());
        }
        return 0;
    }

    /** Median seconds per step over {@code steps} timed steps after {@code warmup} untimed ones. */
    public static double run(TrainConfig cfg, int batch, int frames, int warmup, int steps, boolean profile, PrintStream out) {
        return run(cfg, batch, frames, warmup, steps, profile, Device.CPU, out);
    }

    /**
     * As {@link #run(TrainConfig, int, int, int, int, boolean, PrintStream)} on {@code device} (its
     * backend open already): weights and features are copied there once, before the first step,
     * and every timed step ends by waiting for the device.
     */
    public static double run(TrainConfig cfg, int batch, int frames, int warmup, int steps, boolean profile, Device device,
            PrintStream out) {
        return run(cfg, batch, frames, warmup, steps, profile, device, null, out);
    }

    /**
     * As {@link #run(TrainConfig, int, int, int, int, boolean, Device, PrintStream)}; with {@code
     * cudaGraphs} (auto, on or off) on an accelerator the step is the trainer's device step (decisions
     * on the device, features copied from the host every step, the loss read after it), captured as
     * a CUDA graph after one warm-up step and replayed unless {@code cudaGraphs} is off, so that
     * {@code --cuda-graphs off} and {@code on} time the same work with and without launch overhead.
     *
     * @param cudaGraphs null: the plain eager step of the other form
     */
    public static double run(TrainConfig cfg, int batch, int frames, int warmup, int steps, boolean profile, Device device,
            String cudaGraphs, PrintStream out) {
        CtcModel model = Models.create(cfg);
        model.to(device);
        Rng rng = new Rng(5);
        int c = model.config().inputDim();
        Tensor x = Backends.to(Tensor.randn(rng, DType.F32, 1, batch, frames, c), device);
        int[] lengths = new int[batch];
        Arrays.fill(lengths, frames);
        int labels = Math.max(1, model.config().outputFrames(frames) / 3);
        int[] targets = new int[batch * labels];
        for (int i = 0; i < targets.length; i++) targets[i] = 1 + rng.nextInt(model.vocabulary().size() - 1);
        int[] targetLengths = new int[batch];
        Arrays.fill(targetLengths, labels);
        Map<String, Tensor> params = model.namedParameters();
        Precision precision = Precision.resolve(cfg.train().mixedPrecision(), device.kind() != Device.Kind.CPU);
        // a fixed scale: the benchmark times the work of a scaled step, not the scaler's decisions
        DynamicLossScaler scaler = DynamicLossScaler.forPrecision(precision, cfg.train().lossScale());
        out.println("precision: " + precision.configName() + (scaler.isDynamic() ? " (loss scale " + scaler.scale() + ")" : ""));
        Adam opt = Adam.adamW(params, 0.9, 0.98, 1e-9, 0.01);
        DeviceStep deviceStep = null;
        TrainBatch hostBatch = null;
        if (cudaGraphs != null && device.kind() != Device.Kind.CPU) {
            deviceStep = new DeviceStep(model, opt, scaler, CtcLoss.batchMajor().withZeroInfinity(true), precision, 1, 5.0,
                    cudaGraphs, out);
            String[] none = new String[batch];
            Arrays.fill(none, "");
            hostBatch = new TrainBatch(Backends.to(x, Device.CPU), lengths, targets, targetLengths, none, none, 0);
            out.println("step: the trainer's device step, cuda graphs " + cudaGraphs);
        }
        double[] times = new double[steps];
        double[] cpu = new double[steps];
        double[] mainCpu = new double[steps];
        java.lang.management.ThreadMXBean threadsBean = ManagementFactory.getThreadMXBean();
        long profiledWall = 0;
        for (int i = 0; i < warmup + steps; i++) {
            if (i == warmup && profile) {
                Profiler.reset();
                Profiler.enable(true);
            }
            long c0 = processCpuNanos();
            long m0 = threadsBean.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            if (deviceStep != null) {
                long t1 = System.nanoTime();
                long dropoutSeed = i + 1; // new masks every step, drawn as the trainer draws them
                lmu.nn.Dropout.reseed(model, dropoutSeed);
                DeviceStep.Outcome o = deviceStep.microBatch(hostBatch, 1e-4, true,
                        () -> lmu.nn.Dropout.reseed(model, dropoutSeed));
                opt.zeroGrad();
                if (!o.overflow() && Double.isFinite(o.norm())) opt.countStep();
                long t2 = System.nanoTime();
                if (i >= warmup) {
                    times[i - warmup] = (t2 - t1) / 1e9;
                    cpu[i - warmup] = (processCpuNanos() - c0) / 1e9;
                    mainCpu[i - warmup] = (threadsBean.getCurrentThreadCpuTime() - m0) / 1e9;
                    profiledWall += t2 - t1;
                }
                continue;
            }
            Tensor loss;
            try (Autocast ac = Autocast.enable(precision)) {
                CtcModel.Output o = model.forward(x, lengths);
                loss = CtcLossFunction.apply(CtcLoss.batchMajor().withZeroInfinity(true), o.values(), o.lengths(), targets, targetLengths);
            }
            (scaler.isDynamic() ? loss.mul(scaler.scale()) : loss).backward();
            long t1 = System.nanoTime();
            scaler.unscale(model.parameters());
            GradClip.clipGlobalNorm(model.parameters(), 5.0);
            try (GradMode g = GradMode.off()) {
                opt.step(1e-4);
            }
            opt.zeroGrad();
            Backends.of(device).synchronize();
            long t2 = System.nanoTime();
            Profiler.add("optimizer (clip + AdamW)", t2 - t1);
            if (i >= warmup) {
                times[i - warmup] = (t2 - t0) / 1e9;
                cpu[i - warmup] = (processCpuNanos() - c0) / 1e9;
                mainCpu[i - warmup] = (threadsBean.getCurrentThreadCpuTime() - m0) / 1e9;
                profiledWall += t2 - t0;
            }
        }
        Profiler.enable(false);
        Arrays.sort(times);
        Arrays.sort(cpu);
        Arrays.sort(mainCpu);
        double median = times[steps / 2];
        out.printf(Locale.ROOT, "training step, batch %d x %d frames: median %.3f s over %d steps (min %.3f, max %.3f)%n",
                batch, frames, median, steps, times[0], times[steps - 1]);
        // one "median" per output (bench/compare_pytorch.sh reads the number after it)
        out.printf(Locale.ROOT, "process CPU time per step (middle of %d): %.3f s (least %.3f), on the calling thread %.3f s%n",
                steps, cpu[steps / 2], cpu[0], mainCpu[steps / 2]);
        if (profile) out.print(Profiler.table(steps, profiledWall));
        if (deviceStep != null) {
            long[] g = deviceStep.graphCounts();
            out.printf(Locale.ROOT, "cuda graphs: %d captured, %d steps replayed%n", g[0], g[1]);
            deviceStep.close();
        }
        return median;
    }
}
