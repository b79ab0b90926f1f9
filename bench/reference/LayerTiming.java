import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import lmu.nn.ModelConfig;
import lmu.nn.Module;
import lmu.nn.MultiHeadAttention;
import lmu.nn.SequenceLayer;
import lmu.nn.lmu.LmuSequenceLayers;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;

/**
 * Engine timing of one LMU layer and one attention layer of block 1 of a config (forward + backward
 * with input and weight gradients, no dropout), float32, the counterpart of
 * {@code step_timing.py layers}. Prints "<name> <median s> <min s> <max s> <n>" per layer.
 *
 * <pre>
 * java -Dlmu.threads=2 -cp target/classes:$(cat target/bench-classpath.txt) bench/reference/LayerTiming.java \
 *     configs/seed.yaml 8 400 2 5        # config, batch, frames, warm-up iterations, timed iterations
 * </pre>
 */
public final class LayerTiming {
    interface Layer {
        Tensor forward(Tensor x, int[] lengths);
    }

    public static void main(String[] args) {
        ModelConfig mc = ModelConfig.fromYaml(Path.of(args.length > 0 ? args[0] : "configs/seed.yaml"));
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        int frames = args.length > 2 ? Integer.parseInt(args[2]) : 400;
        int warmup = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        int iters = args.length > 4 ? Integer.parseInt(args[4]) : 5;
        int c = mc.hidden();
        Rng rng = new Rng(7);
        SequenceLayer lmu = LmuSequenceLayers.factory(mc, DType.F32).create(0, c, mc.maxFramesAtBlock(0), rng);
        MultiHeadAttention attention = new MultiHeadAttention(c, mc.heads(), 0.0, rng);
        attention.train(false);
        Tensor x = Tensor.randn(rng, DType.F32, 1, batch, frames, c).requiresGrad(true);
        Tensor dy = Tensor.randn(rng, DType.F32, 1, batch, frames, c);
        int[] lengths = new int[batch];
        Arrays.fill(lengths, frames);
        time("lmu", (Module) lmu, lmu::forward, x, dy, lengths, batch, frames, warmup, iters);
        time("attention", attention, attention::forward, x, dy, lengths, batch, frames, warmup, iters);
    }

    private static void time(String name, Module module, Layer layer, Tensor x, Tensor dy, int[] lengths, int batch, int frames,
            int warmup, int iters) {
        double[] t = new double[iters];
        for (int i = 0; i < warmup + iters; i++) {
            long t0 = System.nanoTime();
            module.zeroGrad();
            x.zeroGrad();
            layer.forward(x, lengths).backward(dy);
            if (i >= warmup) t[i - warmup] = (System.nanoTime() - t0) / 1e9;
        }
        Arrays.sort(t);
        double median = iters % 2 == 1 ? t[iters / 2] : (t[iters / 2 - 1] + t[iters / 2]) / 2;
        System.out.printf(Locale.ROOT, "%s_b%d_t%d %.6f %.6f %.6f %d%n", name, batch, frames, median, t[0], t[iters - 1], iters);
    }
}
