package lmu.speech.features;

import org.jtransforms.fft.DoubleFFT_1D;
import pl.edu.icm.jlargearrays.ConcurrencyUtils;

/**
 * One-sided power spectrum {@code |X[k]|^2}, k in [0, nFft / 2], of a real frame, in float64, by
 * JTransforms' real FFT (mixed radix: n_fft 400 = 2^4 * 5^2 needs no power-of-two padding).
 * JTransforms' own threading is switched off (one thread): callers parallelise over frames or
 * utterances. Not thread-safe: it owns its work buffer; use one instance per thread.
 */
public final class PowerSpectrum {
    static {
        ConcurrencyUtils.setNumberOfThreads(1);
    }

    private final int nFft;
    private final DoubleFFT_1D fft;

    public PowerSpectrum(int nFft) {
        if (nFft < 2 || nFft % 2 != 0) {
            throw new IllegalArgumentException("PowerSpectrum: nFft must be even and >= 2, got " + nFft);
        }
        this.nFft = nFft;
        fft = new DoubleFFT_1D(nFft);
    }

    /**
     * @param frame windowed frame, shape (nFft,); overwritten by the transform
     * @param power receives the power, shape (nFft / 2 + 1,)
     */
    public void compute(double[] frame, double[] power) {
        if (frame.length != nFft || power.length < nFft / 2 + 1) {
            throw new IllegalArgumentException("PowerSpectrum: frame must have shape (" + nFft + ",) and power (" + (nFft / 2 + 1)
                    + ",), got (" + frame.length + ",) and (" + power.length + ",)");
        }
        fft.realForward(frame); // [Re0, Re(n/2), Re1, Im1, Re2, Im2, ...]
        int half = nFft / 2;
        power[0] = frame[0] * frame[0];
        power[half] = frame[1] * frame[1];
        for (int k = 1; k < half; k++) {
            double re = frame[2 * k], im = frame[2 * k + 1];
            power[k] = re * re + im * im;
        }
    }
}
