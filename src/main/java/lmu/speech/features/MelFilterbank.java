package lmu.speech.features;

/**
 * Triangular mel filters on the HTK mel scale {@code mel(f) = 2595 log10(1 + f / 700)}, without
 * area normalisation (torchaudio {@code melscale_fbanks(..., norm=None, mel_scale="htk")}).
 * Filter m rises linearly from edge m to its peak at edge m + 1 and falls to edge m + 2, where the
 * nMels + 2 edges are equally spaced in mel between fMin and fMax and the spectrum bins lie at
 * {@code k * (sampleRate / 2) / (nFft / 2)} Hz. Stored sparsely: each filter keeps only the bins
 * where it is non-zero.
 */
public final class MelFilterbank {
    private final int nMels, nBins;
    private final int[] first; // first non-zero bin of filter m
    private final double[][] weights; // weights[m][i] applies to bin first[m] + i

    public MelFilterbank(FeatureConfig cfg) {
        nMels = cfg.nMels();
        nBins = cfg.numBins();
        double mMin = hzToMel(cfg.fMin()), mMax = hzToMel(cfg.fMax());
        double[] edges = new double[nMels + 2];
        for (int i = 0; i < edges.length; i++) edges[i] = melToHz(mMin + (mMax - mMin) * i / (nMels + 1));
        double[] binHz = new double[nBins];
        for (int k = 0; k < nBins; k++) binHz[k] = (double) (cfg.sampleRate() / 2) * k / (nBins - 1);
        first = new int[nMels];
        weights = new double[nMels][];
        double[] row = new double[nBins];
        for (int m = 0; m < nMels; m++) {
            int lo = -1, hi = -1;
            for (int k = 0; k < nBins; k++) {
                double down = (binHz[k] - edges[m]) / (edges[m + 1] - edges[m]);
                double up = (edges[m + 2] - binHz[k]) / (edges[m + 2] - edges[m + 1]);
                row[k] = Math.max(0, Math.min(down, up));
                if (row[k] > 0) {
                    if (lo < 0) lo = k;
                    hi = k;
                }
            }
            if (lo < 0) { // a filter narrower than one bin: keep it, all zero (as the dense matrix has it)
                first[m] = 0;
                weights[m] = new double[0];
            } else {
                first[m] = lo;
                weights[m] = java.util.Arrays.copyOfRange(row, lo, hi + 1);
            }
        }
    }

    public static double hzToMel(double hz) {
        return 2595.0 * Math.log10(1.0 + hz / 700.0);
    }

    public static double melToHz(double mel) {
        return 700.0 * (Math.pow(10.0, mel / 2595.0) - 1.0);
    }

    /** Weight of filter m at bin k (0 outside the filter). */
    public double weight(int m, int k) {
        int i = k - first[m];
        return i >= 0 && i < weights[m].length ? weights[m][i] : 0;
    }

    /** Total number of stored (non-zero) weights: the cost of {@link #apply} per frame. */
    public int nonZeros() {
        int n = 0;
        for (double[] w : weights) n += w.length;
        return n;
    }

    /**
     * @param power spectrum, shape (nFft / 2 + 1,)
     * @param mel receives the filter outputs, shape (nMels,)
     */
    public void apply(double[] power, double[] mel) {
        if (power.length < nBins || mel.length < nMels) {
            throw new IllegalArgumentException("MelFilterbank: power must have shape (" + nBins + ",) and mel (" + nMels
                    + ",), got (" + power.length + ",) and (" + mel.length + ",)");
        }
        for (int m = 0; m < nMels; m++) {
            double[] w = weights[m];
            int k0 = first[m];
            double s = 0;
            for (int i = 0; i < w.length; i++) s += w[i] * power[k0 + i];
            mel[m] = s;
        }
    }
}
