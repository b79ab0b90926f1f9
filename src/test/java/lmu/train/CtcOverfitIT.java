package lmu.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringReader;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import lmu.autograd.GradMode;
import lmu.nn.CtcModel;
import lmu.optim.Adam;
import lmu.speech.ctc.CtcLoss;
import lmu.speech.ctc.CtcLossFunction;
import lmu.speech.data.DataLoader;
import lmu.speech.data.Utterance;
import lmu.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The whole model (LMU, attention, downsampling, CTC) memorises one small batch of real speech features. */
class CtcOverfitIT {
    static final String CONFIG = """
            model:
              hidden: 96
              blocks: 2
              dropout: 0.0
              attention: {heads: 4, dropout: 0.0}
              lmu: {memory_order: 32, theta: 60}
              downsample: {after: [1]}
            data:
              spec_augment: {freq_masks: 0, time_masks: 0}
            """;

    @Test
    void tinyModelOverfitsOneBatchToCerBelow5Percent() {
        TrainConfig cfg = TrainConfig.resolve(TrainConfig.parseYaml(new StringReader(CONFIG), "test"));
        List<Utterance> utts = DataPipeline.open("builtin", "train").utterances().stream()
                .sorted(Comparator.comparingDouble(Utterance::duration)).limit(4).toList();
        CtcModel model = Models.create(cfg);
        TrainBatch batch;
        try (DataLoader loader = DataPipeline.evalLoader(cfg, utts, model.vocabulary(), 0, 1, 4)) {
            batch = DataPipeline.evalSource(loader).get().next();
        }
        Adam opt = Adam.adamW(model.namedParameters(), 0.9, 0.98, 1e-9, 0.0);
        CtcLoss ctc = CtcLoss.batchMajor();
        double cer = 1;
        for (int step = 1; step <= 400 && cer >= 0.05; step++) {
            CtcModel.Output o = model.forward(batch.features(), batch.frames());
            Tensor loss = CtcLossFunction.apply(ctc, o.values(), o.lengths(), batch.labels(), batch.labelLengths());
            loss.backward();
            try (GradMode g = GradMode.off()) {
                opt.step(step < 20 ? 3e-3 * step / 20 : 3e-3);
            }
            opt.zeroGrad();
            if (step % 25 == 0) cer = Evaluator.evaluate(model, List.of(batch).iterator()).cer();
        }
        Evaluator.Result r = Evaluator.evaluate(model, List.of(batch).iterator());
        StringBuilder shown = new StringBuilder();
        r.hypotheses().forEach(h -> shown.append("\n  ").append(h.reference()).append(" -> ").append(h.hypothesis()));
        assertTrue(r.cer() < 0.05, "CER " + r.cer() + shown);
        for (Map.Entry<String, Tensor> e : model.namedParameters().entrySet()) {
            assertTrue(java.util.Arrays.stream(e.getValue().toDoubleArray()).allMatch(Double::isFinite), e.getKey());
        }
    }
}
