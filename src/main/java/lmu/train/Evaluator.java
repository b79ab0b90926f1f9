package lmu.train;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import lmu.autograd.GradMode;
import lmu.backend.Backends;
import lmu.nn.CtcModel;
import lmu.speech.ctc.CtcLoss;
import lmu.speech.ctc.CtcLossFunction;
import lmu.speech.decode.GreedyDecoder;
import lmu.speech.metrics.ErrorRate;
import lmu.tensor.Tensor;

/**
 * Validation: CTC loss, greedy WER and CER over a dataset, and per-utterance hypotheses. Features
 * go to the model's device; losses and logits come back to the host once per batch for decoding.
 */
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

    /** Turns logits (B, T', V) with valid lengths into one text per utterance. */
    @FunctionalInterface
    public interface Decoder {
        List<String> decode(Tensor logits, int[] lengths, lmu.speech.text.Vocabulary vocab);
    }

    /** Greedy (best path) decoding. */
    public static final Decoder GREEDY = (logits, lengths, vocab) -> GreedyDecoder.decodeText(host(logits), logits.shape(), lengths, vocab);

    /** The values of a tensor on the host as float32 (one copy from a device). */
    static float[] host(Tensor t) {
        return Backends.of(t).toHost(t).toFloatArray();
    }

    /** CTC prefix beam search of width {@code beam} on log-probabilities. */
    public static Decoder beam(int beam) {
        return (logits, lengths, vocab) -> {
            float[] lp = host(logits.logSoftmax(-1));
            int t = logits.dim(1), v = logits.dim(2);
            lmu.speech.decode.PrefixBeamSearch search = new lmu.speech.decode.PrefixBeamSearch(vocab, beam);
            List<String> out = new ArrayList<>();
            for (int b = 0; b < lengths.length; b++) {
                List<lmu.speech.decode.PrefixBeamSearch.Hypothesis> h = search.search(lp, b * t * v, lengths[b]);
                out.add(h.isEmpty() ? "" : h.get(0).text());
            }
            return out;
        };
    }

    /** Evaluates with greedy decoding. */
    public static Result evaluate(CtcModel model, Iterator<TrainBatch> batches) {
        return evaluate(model, batches, GREEDY);
    }

    /** Evaluates in eval mode (no dropout), restoring the model's previous mode. */
    public static Result evaluate(CtcModel model, Iterator<TrainBatch> batches, Decoder decoder) {
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
                CtcModel.Output out = model.forward(Backends.to(b.features(), model.device()), b.frames());
                CtcLossFunction f = new CtcLossFunction(ctc, out.lengths(), b.labels(), b.labelLengths());
                Tensor lossTensor = f.apply(out.values());
                double[] losses = Backends.of(lossTensor).toHost(lossTensor).toDoubleArray();
                int[] bad = f.result().infeasible();
                java.util.Set<Integer> badSet = new java.util.HashSet<>();
                for (int i : bad) badSet.add(i);
                for (int i = 0; i < b.size(); i++) {
                    if (badSet.contains(i)) continue;
                    lossSum += losses[i] / Math.max(1, b.labelLengths()[i]);
                    counted++;
                }
                infeasible += bad.length;
                List<String> texts = decoder.decode(out.values(), out.lengths(), model.vocabulary());
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
