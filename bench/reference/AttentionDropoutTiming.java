import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Locale;
import lmu.backend.AttentionKernels;
import lmu.backend.cpu.CpuAttention;
import lmu.backend.cpu.CpuAttentionKernels;
import lmu.nn.MultiHeadAttention;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;

/**
 * Engine timing of the CPU fused attention with dropout, float32: the {@link AttentionKernels}
 * call pair alone (forward, then backward with dq, dk, dv) and one training-mode attention layer
 * (forward + backward with input and weight gradients), and, for scale, one draw of the dropout
 * mask alone ({@link CpuAttention#drawKeep}, B·H pairs of T×T). Prints "<name> <median wall s>
 * <min wall s> <max wall s> <mean process CPU s> <n>" per case: on a shared machine the process
 * CPU time (all threads of the JVM) moves less with other people's load than the wall time. Run it
 * against two builds (two class folders) in alternation to compare them.
 *
 * <pre>
 * java -Dlmu.threads=2 -cp target/classes:$(cat target/bench-classpath.txt) bench/reference/AttentionDropoutTiming.java \
 *     8 400 384 6 0.1 3 7        # batch, frames, channels, heads, dropout p, warm-up iterations, timed iterations
 * </pre>
 */
public final class AttentionDropoutTiming {
    public static void main(String[] args) {
        int batch = args.length > 0 ? Integer.parseInt(args[0]) : 8;
        int frames = args.length > 1 ? Integer.parseInt(args[1]) : 400;
        int c = args.length > 2 ? Integer.parseInt(args[2]) : 384;
        int heads = args.length > 3 ? Integer.parseInt(args[3]) : 6;
        double p = args.length > 4 ? Double.parseDouble(args[4]) : 0.1;
        int warmup = args.length > 5 ? Integer.parseInt(args[5]) : 3;
        int iters = args.length > 6 ? Integer.parseInt(args[6]) : 7;
        Rng rng = new Rng(7);
        Tensor q = Tensor.randn(rng, DType.F32, 1, batch, frames, c), k = Tensor.randn(rng, DType.F32, 1, batch, frames, c);
        Tensor v = Tensor.randn(rng, DType.F32, 1, batch, frames, c), g = Tensor.randn(rng, DType.F32, 1, batch, frames, c);
        int[] lengths = new int[batch];
        for (int b = 0; b < batch; b++) lengths[b] = frames - 20 * b % frames;
        double scale = 1 / Math.sqrt((double) c / heads);
        AttentionKernels att = CpuAttentionKernels.INSTANCE;
        long[] seed = {1};
        time("drawKeep", warmup, iters, () -> CpuAttention.drawKeep(batch * heads, frames, p, seed[0]++));
        time("kernels", warmup, iters, () -> {
            AttentionKernels.Saved s = att.forward(q, k, v, heads, scale, lengths, -1e4, p, seed[0]);
            att.backward(g, q, k, v, s, heads, scale, lengths, -1e4, p, seed[0]++, true, true, true);
        });
        MultiHeadAttention layer = new MultiHeadAttention(c, heads, p, rng);
        layer.train(true);
        Tensor x = q.detach().requiresGrad(true);
        time("layer", warmup, iters, () -> {
            layer.zeroGrad();
            x.zeroGrad();
            layer.forward(x, lengths).backward(g);
        });
    }

    private static void time(String name, int warmup, int iters, Runnable body) {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        double[] t = new double[iters];
        long cpu0 = 0;
        for (int i = 0; i < warmup + iters; i++) {
            if (i == warmup) cpu0 = os.getProcessCpuTime(); // one reading over all timed iterations: the clock ticks coarsely
            long t0 = System.nanoTime();
            body.run();
            if (i >= warmup) t[i - warmup] = (System.nanoTime() - t0) / 1e9;
        }
        double cpu = (os.getProcessCpuTime() - cpu0) / 1e9 / iters;
        Arrays.sort(t);
        System.out.printf(Locale.ROOT, "%s %.6f %.6f %.6f %.6f %d%n", name, median(t), t[0], t[iters - 1], cpu, iters);
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
