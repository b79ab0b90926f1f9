package lmu.train;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import lmu.autograd.GradMode;
import lmu.nn.CtcModel;
import lmu.speech.ctc.CtcLoss;
import lmu.speech.ctc.CtcLossFunction;
import lmu.speech.decode.GreedyDecoder;
import lmu.speech.metrics.ErrorRate;
import lmu.tensor.Tensor;

/** Validation: CTC loss, greedy WER and CER over a dataset, and per-utterance hypotheses. */
public final class Evaluator {
    private Evaluator() {}

    /** One utterance's result. */
    public record Hypothesis(String id, String reference, String hypothesis) {}

    /**
     * @param loss mean CTC loss per utterance (each normalised by its label length, as in training)
     * @param utterances evaluated utterances
     * @param infeasible utterances whose labels cannot fit their encoder frames (excluded from the loss)
     */
    public record Result(double loss, ErrorRate.Counts words, ErrorRate.Counts chars, int utterances, int infeasible,
            List<Hypothesis> hypotheses) {
        public double wer() {
            return words.rate();
        }

        public double cer() {
            return chars.rate();
        }
    }

    /** Evaluates in eval mode (no dropout), restoring the model's previous mode. */
    public static Result evaluate(CtcModel model, Iterator<TrainBatch> batches) {
        boolean wasTraining = model.isTraining();
        model.train(false);
        ErrorRate wer = ErrorRate.words(), cer = ErrorRate.characters();
        List<Hypothesis> hyps = new ArrayList<>();
        double lossSum = 0;
        int counted = 0, infeasible = 0;
        CtcLoss ctc = CtcLoss.batchMajor().withReduction(CtcLoss.Reduction.NONE).withZeroInfinity(true);
        try (GradMode g = GradMode.off()) {
            while (batches.hasNext()) {
                TrainBatch b = batches.next();
                CtcModel.Output out = model.forward(b.features(), b.frames());
                CtcLossFunction f = new CtcLossFunction(ctc, out.lengths(), b.labels(), b.labelLengths());
                Tensor losses = f.apply(out.values());
                int[] bad = f.result().infeasible();
                java.util.Set<Integer> badSet = new java.util.HashSet<>();
                for (int i : bad) badSet.add(i);
                for (int i = 0; i < b.size(); i++) {
                    if (badSet.contains(i)) continue;
                    lossSum += losses.get(i) / Math.max(1, b.labelLengths()[i]);
                    counted++;
                }
                infeasible += bad.length;
                List<String> texts = GreedyDecoder.decodeText(out.values().toFloatArray(), out.values().shape(), out.lengths(),
                        model.vocabulary());
                for (int i = 0; i < b.size(); i++) {
                    wer.add(b.texts()[i], texts.get(i));
                    cer.add(b.texts()[i], texts.get(i));
                    hyps.add(new Hypothesis(b.ids()[i], b.texts()[i], texts.get(i)));
                }
            }
        } finally {
            model.train(wasTraining);
        }
        return new Result(counted == 0 ? Double.NaN : lossSum / counted, wer.counts(), cer.counts(), hyps.size(), infeasible, hyps);
    }
}
