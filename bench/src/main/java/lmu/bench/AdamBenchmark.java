package lmu.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import lmu.autograd.GradMode;
import lmu.nn.CtcModel;
import lmu.nn.ModelConfig;
import lmu.nn.lmu.LmuSequenceLayers;
import lmu.optim.Adam;
import lmu.optim.GradClip;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.util.Rng;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Setup;

/**
 * The optimizer part of a training step on the parameters of configs/seed.yaml (2.49 M): global
 * gradient-norm clipping to 5 and one AdamW step (β 0.9/0.98, ε 1e-9, weight decay 0.01), with
 * random gradients. Run from the repository root (it reads configs/seed.yaml).
 */
public class AdamBenchmark extends AbstractKernelBenchmark {
    private Map<String, Tensor> params;
    private Adam adam;

    @Setup
    public void setup() {
        Path cfg = Path.of("configs/seed.yaml");
        if (!Files.exists(cfg)) throw new IllegalStateException("AdamBenchmark: run from the repository root (needs " + cfg + ")");
        ModelConfig mc = ModelConfig.fromYaml(cfg);
        CtcModel model = new CtcModel(mc, LmuSequenceLayers.factory(mc, DType.F32), new Rng(1));
        params = model.namedParameters();
        long seed = 10;
        for (Tensor p : params.values()) p.setGrad(OpBench.randn(seed++, p.shape()));
        adam = Adam.adamW(params, 0.9, 0.98, 1e-9, 0.01);
        double before = GradClip.globalNorm(params.values());
        GradClip.clipGlobalNorm(params.values(), 5.0);
        OpBench.near("clipped norm", GradClip.globalNorm(params.values()), 5.0, 1e-3);
        if (!(before > 5)) throw new IllegalStateException("random gradients should need clipping, norm " + before);
    }

    @Benchmark
    public double clipAndStep() {
        double norm = GradClip.clipGlobalNorm(params.values(), 5.0);
        try (GradMode g = GradMode.off()) {
            adam.step(1e-4);
        }
        return norm;
    }
}
