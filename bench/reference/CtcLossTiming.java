import java.util.Arrays;
import java.util.Random;
import lmu.speech.ctc.CtcLoss;

/**
 * Timing of lmu.speech.ctc.CtcLoss forward+backward (fused log-softmax, mean reduction) at T=200,
 * B=16, V=29, L=50, all utterances full length, engine layout (B, T, V).
 *
 * <p>Run from the repository root after {@code mvn -o -q -Dkernels.skip compile}:
 * {@code java -Djava.util.concurrent.ForkJoinPool.common.parallelism=1 -cp target/classes
 * bench/reference/CtcLossTiming.java [unused] [reps] [iters] [logspace]}. The batch is split over the
 * common fork-join pool plus the calling thread, so parallelism 1 means 2 threads.
 * Prints one line per repetition (wall and process CPU ms per iteration), then the medians. Process
 * CPU time includes the JIT and GC threads.
 */
public class CtcLossTiming {
    public static void main(String[] args) {
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 7;
        int iters = args.length > 2 ? Integer.parseInt(args[2]) : 50;
        boolean logSpace = args.length > 3 && args[3].equals("logspace");
        int t = 200, b = 16, v = 29, l = 50;
        Random rnd = new Random(0);
        float[] logits = new float[b * t * v];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) rnd.nextGaussian();
        int[] targets = new int[b * l];
        for (int i = 0; i < targets.length; i++) targets[i] = 1 + rnd.nextInt(v - 1);
        int[] il = new int[b];
        int[] tl = new int[b];
        Arrays.fill(il, t);
        Arrays.fill(tl, l);
        int[] shape = {b, t, v};
        float[] grad = new float[logits.length];
        CtcLoss ctc = CtcLoss.batchMajor().withLogSpace(logSpace);
        double sink = 0;
        for (int i = 0; i < 300; i++) sink += ctc.forwardBackward(logits, shape, il, targets, tl, grad, null).loss();
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        double[] times = new double[reps];
        double[] cpus = new double[reps];
        for (int r = 0; r < reps; r++) {
            long t0 = System.nanoTime();
            long c0 = os.getProcessCpuTime();
            for (int i = 0; i < iters; i++) sink += ctc.forwardBackward(logits, shape, il, targets, tl, grad, null).loss();
            times[r] = (System.nanoTime() - t0) / 1e6 / iters;
            cpus[r] = (os.getProcessCpuTime() - c0) / 1e6 / iters;
            System.out.printf("lmu rep %d %.3f ms wall, %.3f ms cpu%n", r, times[r], cpus[r]);
        }
        Arrays.sort(times);
        Arrays.sort(cpus);
        System.out.printf("lmu %s common-pool-parallelism=%d cpu-median %.3f ms median %.3f ms (checksum %.3f)%n",
                logSpace ? "log-space" : "rescaled", java.util.concurrent.ForkJoinPool.getCommonPoolParallelism(), cpus[reps / 2],
                times[reps / 2], sink / (300 + reps * iters));
    }
}
