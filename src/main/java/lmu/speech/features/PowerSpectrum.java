package lmu.speech.features;

/**
 * One-sided power spectrum {@code |X[k]|^2}, k in [0, nFft / 2], of a real frame, unnormalised,
 * in float64, by {@link RealFft} (mixed radix: n_fft 400 = 2 * 4 * 2 * 5 * 5 needs no
 * power-of-two padding). Measured against JTransforms 3.1's real FFT on 400 points (thread CPU
 * time, this project's 2-core machine): both about 2.1 us per frame; the own transform is used
 * because it is as fast and needs no global thread setting (JTransforms' ConcurrencyUtils).
 * Not thread-safe (work buffers): use one instance per thread.
 */
public final class PowerSpectrum {
    private final int nFft;
    private final RealFft fft;

    public PowerSpectrum(int nFft) {
        if (nFft < 2 || nFft % 2 != 0) {
            throw new IllegalArgumentException("PowerSpectrum: nFft must be even and >= 2, got " + nFft);
        }
        this.nFft = nFft;
        fft = new RealFft(nFft);
    }

    /**
     * @param frame windowed frame, shape (nFft,); left unchanged
     * @param power receives the power, shape (nFft / 2 + 1,)
     */
    public void compute(double[] frame, double[] power) {
        if (frame.length != nFft || power.length < nFft / 2 + 1) {
            throw new IllegalArgumentException("PowerSpectrum: frame must have shape (" + nFft + ",) and power (" + (nFft / 2 + 1)
                    + ",), got (" + frame.length + ",) and (" + power.length + ",)");
        }
        fft.power(frame, power);
    }
}
