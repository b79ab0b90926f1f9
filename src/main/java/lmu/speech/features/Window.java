package lmu.speech.features;

/**
 * Analysis window: a periodic Hann window {@code w[n] = 0.5 - 0.5 cos(2 pi n / winLength)}, n in
 * [0, winLength) (as {@code torch.hann_window(winLength, periodic=True)}), centred in an nFft
 * frame with zeros on both sides when winLength < nFft (as {@code torch.stft} does).
 */
public final class Window {
    private final double[] w;
    private final int start, end; // non-zero support [start, end) within the nFft frame

    public Window(FeatureConfig cfg) {
        w = new double[cfg.nFft()];
        start = (cfg.nFft() - cfg.winLength()) / 2;
        end = start + cfg.winLength();
        for (int n = 0; n < cfg.winLength(); n++) {
            w[start + n] = 0.5 - 0.5 * Math.cos(2 * Math.PI * n / cfg.winLength());
        }
    }

    /** The window, shape (nFft,). */
    public double[] values() {
        return w.clone();
    }

    /** First index of the non-zero support. */
    public int start() {
        return start;
    }

    /** End (exclusive) of the non-zero support. */
    public int end() {
        return end;
    }

    double at(int n) {
        return w[n];
    }
}
