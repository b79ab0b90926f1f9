package lmu.backend.cuda.kernels;

import lmu.speech.features.FeatureConfig;
import lmu.speech.features.MelFilterbank;
import lmu.speech.features.Window;

/**
 * The constant inputs of {@code kernels/logmel.cu} for one {@link FeatureConfig}, built on the host
 * from the same {@link Window} and {@link MelFilterbank} as the CPU's {@link lmu.speech.features.LogMel},
 * so both compute one function. Plain Java: tested without a GPU.
 *
 * @param doubles window (nFft, zero outside the window), cos and sin of 2πj/nFft (nFft each), mel
 *     weights (nMels, nBins) row-major
 * @param melRange first bin of every filter (nMels), then one past its last non-zero bin (nMels)
 */
public record LogMelTables(FeatureConfig config, double[] doubles, int[] melRange) {
    /** Threads per block of {@code logmel_kernel}. */
    public static final int THREADS = 256;

    /** The tables of {@code cfg}. */
    public static LogMelTables of(FeatureConfig cfg) {
        int nFft = cfg.nFft(), nBins = cfg.numBins(), nMels = cfg.nMels();
        double[] d = new double[3 * nFft + nMels * nBins];
        Window window = new Window(cfg);
        double[] w = window.values();
        for (int i = window.start(); i < window.end(); i++) d[i] = w[i];
        for (int j = 0; j < nFft; j++) {
            double angle = 2 * Math.PI * j / nFft;
            d[nFft + j] = Math.cos(angle);
            d[2 * nFft + j] = Math.sin(angle);
        }
        MelFilterbank mel = new MelFilterbank(cfg);
        int[] range = new int[2 * nMels];
        for (int m = 0; m < nMels; m++) {
            int first = nBins, end = 0;
            for (int k = 0; k < nBins; k++) {
                double v = mel.weight(m, k);
                d[3 * nFft + m * nBins + k] = v;
                if (v != 0) {
                    first = Math.min(first, k);
                    end = k + 1;
                }
            }
            range[m] = Math.min(first, end);
            range[nMels + m] = end;
        }
        return new LogMelTables(cfg, d, range);
    }

    /** Samples the frame starts before sample t·hop: nFft/2 when frames are centred, else 0. */
    public int pad() {
        return config.center() ? config.nFft() / 2 : 0;
    }

    /** Dynamic shared memory of one block: the frame, the twiddles and the power spectrum in float64. */
    public int sharedBytes() {
        return 8 * (3 * config.nFft() + config.numBins());
    }
}
