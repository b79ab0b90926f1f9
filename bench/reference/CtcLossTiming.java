import java.util.Arrays;
import java.util.Random;
import lmu.speech.ctc.CtcLoss;

/**
 * Timing of lmu.speech.ctc.CtcLoss forward+backward (fused log-softmax, mean reduction) at T=200,
 * B=16, V=29, L=50, all utterances full length, engine layout (B, T, V).
 *
 * <p>Run from the repository root after {@code mvn -o -q -Dkernels.skip compile}:
 * {@code java -cp target/classes bench/reference/CtcLossTiming.java [threads] [reps] [iters] [logspace]}.
 * Threads sets the common fork-join pool (the batch is split over it plus the calling thread).
 * Prints one line per repetition, then the median in ms per iteration.
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
        double[] times = new double[reps];
        for (int r = 0; r < reps; r++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < iters; i++) sink += ctc.forwardBackward(logits, shape, il, targets, tl, grad, null).loss();
            times[r] = (System.nanoTime() - t0) / 1e6 / iters;
            System.out.printf("lmu rep %d %.3f ms%n", r, times[r]);
        }
        Arrays.sort(times);
        System.out.printf("lmu %s threads=%d median %.3f ms (checksum %.3f)%n", logSpace ? "log-space" : "rescaled",
                java.util.concurrent.ForkJoinPool.getCommonPoolParallelism() + 1, times[reps / 2], sink / (300 + reps * iters));
    }
}
