package lmu.speech.features;

/**
 * Parameters of the log-mel front end. {@link #defaults()} is the model's input: 80 log-mel bins
 * at 16 kHz, 25 ms periodic Hann window (n_fft 400), 10 ms hop (160), HTK mel scale from 0 Hz to
 * the Nyquist frequency, no filter normalisation, centred frames with reflect padding, natural log
 * of (power + 1e-6): the same numbers as {@code torchaudio.transforms.MelSpectrogram(
 * sample_rate=16000, n_fft=400, win_length=400, hop_length=160, n_mels=80, power=2.0)} followed by
 * {@code torch.log(x + 1e-6)}.
 *
 * @param sampleRate input samples per second
 * @param nFft DFT size; the spectrum has nFft / 2 + 1 bins
 * @param winLength Hann window length, <= nFft (centred in the nFft frame when shorter)
 * @param hopLength samples between frame starts
 * @param nMels number of mel filters (the feature dimension)
 * @param fMin lowest filter edge in Hz
 * @param fMax highest filter edge in Hz, <= sampleRate / 2
 * @param logEpsilon added to the mel power before the natural log
 * @param center pad the signal by nFft / 2 on each side (reflect) so that frame t is centred on
 *     sample t * hopLength
 */
public record FeatureConfig(int sampleRate, int nFft, int winLength, int hopLength, int nMels, double fMin, double fMax,
                            double logEpsilon, boolean center) {
    public FeatureConfig {
        if (sampleRate <= 0 || nFft < 2 || winLength <= 0 || winLength > nFft || hopLength <= 0 || nMels <= 0) {
            throw new IllegalArgumentException("FeatureConfig: expected sampleRate > 0, nFft >= 2, 0 < winLength <= nFft, hopLength > 0,"
                    + " nMels > 0, got sampleRate " + sampleRate + ", nFft " + nFft + ", winLength " + winLength
                    + ", hopLength " + hopLength + ", nMels " + nMels);
        }
        if (!(fMin >= 0 && fMin < fMax && fMax <= sampleRate / 2.0)) {
            throw new IllegalArgumentException("FeatureConfig: expected 0 <= fMin < fMax <= sampleRate / 2 = " + sampleRate / 2.0
                    + ", got fMin " + fMin + ", fMax " + fMax);
        }
        if (!(logEpsilon > 0)) {
            throw new IllegalArgumentException("FeatureConfig: logEpsilon must be > 0, got " + logEpsilon);
        }
    }

    /** 16 kHz, n_fft 400, hop 160, 80 mels, 0-8000 Hz, log epsilon 1e-6, centred. */
    public static FeatureConfig defaults() {
        return new FeatureConfig(16000, 400, 400, 160, 80, 0, 8000, 1e-6, true);
    }

    /**
     * Version of the feature computation itself (window, FFT, filterbank, log): raise it whenever
     * {@link LogMel} would produce different numbers for the same configuration, so that every
     * stored feature made before becomes stale.
     */
    public static final int ALGORITHM_VERSION = 1;

    /**
     * Everything that determines the values of raw log-mel features, as one canonical line, e.g.
     * {@code logmel v1 sr=16000 n_fft=400 win=400 hop=160 mels=80 fmin=0.0 fmax=8000.0 eps=1.0E-6
     * center=true}. Feature caches and stores compare this (or {@link #identityHash()}) to decide
     * whether features on disk belong to this configuration.
     */
    public String identity() {
        return "logmel v" + ALGORITHM_VERSION + " sr=" + sampleRate + " n_fft=" + nFft + " win=" + winLength + " hop=" + hopLength
                + " mels=" + nMels + " fmin=" + fMin + " fmax=" + fMax + " eps=" + logEpsilon + " center=" + center;
    }

    /** SHA-256 of {@link #identity()} in UTF-8, shape (32,). */
    public byte[] identityHash() {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(identity().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("FeatureConfig: SHA-256 unavailable", e);
        }
    }

    /** Frequency bins of the one-sided spectrum: nFft / 2 + 1. */
    public int numBins() {
        return nFft / 2 + 1;
    }

    /**
     * Frames for {@code n} samples: {@code 1 + n / hop} when centred (0 for an empty signal), else
     * {@code 1 + (n - nFft) / hop} (0 when n < nFft).
     */
    public int numFrames(int n) {
        if (n <= 0) return 0;
        if (center) return 1 + n / hopLength;
        return n < nFft ? 0 : 1 + (n - nFft) / hopLength;
    }
}
