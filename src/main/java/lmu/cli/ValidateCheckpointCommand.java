package lmu.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import lmu.autograd.GradMode;
import lmu.nn.CtcModel;
import lmu.tensor.DType;
import lmu.tensor.Tensor;
import lmu.train.Checkpoints;
import lmu.train.Models;
import lmu.util.Rng;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code validate-checkpoint}: checksums, shapes against the saved config, and one forward pass. */
@Command(name = "validate-checkpoint", mixinStandardHelpOptions = true,
        description = "Loads a checkpoint, verifies its checksums and shapes, and runs one forward pass.")
final class ValidateCheckpointCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", description = "checkpoint directory")
    Path dir;

    @Override
    public Integer call() throws Exception {
        Checkpoints.Loaded ck = Checkpoints.load(dir);
        System.out.println("checksums   ok (model.safetensors, optimizer.safetensors)");
        CtcModel model = Models.load(ck);
        System.out.printf(Locale.ROOT, "weights     ok: %d tensors, %,d parameters, vocabulary of %d%n", model.namedParameters().size(),
                model.parameterCount(), model.vocabulary().size());
        int frames = 100;
        Tensor x = Tensor.randn(new Rng(1), DType.F32, 1, 1, frames, model.config().inputDim());
        model.train(false);
        try (GradMode g = GradMode.off()) {
            CtcModel.Output o = model.forward(x, new int[] {frames});
            for (float v : o.values().toFloatArray()) {
                if (!Float.isFinite(v)) throw new IllegalStateException("forward pass produced a non-finite logit: the weights are damaged");
            }
            System.out.println("forward     ok: " + frames + " frames -> logits " + Arrays.toString(o.values().shape()));
        }
        System.out.println("state       epoch " + ck.state().get("epoch").getAsInt() + ", step " + ck.state().get("step").getAsLong());
        return 0;
    }
}
