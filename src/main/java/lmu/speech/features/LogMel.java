package lmu.speech.features;

/**
 * Log-mel features of a 16 kHz signal (or whatever {@link FeatureConfig#sampleRate()} says).
 *
 * <p>Exact convention, for {@link FeatureConfig#defaults()}: the signal is padded by 200 samples
 * on each side by reflection ({@code x[-i] = x[i]}, {@code x[n-1+i] = x[n-1-i]}); frame t covers
 * padded samples [160 t, 160 t + 400), so T = 1 + n / 160 (integer division); each frame is
 * multiplied by the periodic Hann window ({@link Window}), its one-sided power spectrum
 * {@code |DFT|^2} (201 bins, no normalisation, {@link PowerSpectrum}) goes through 80 triangular
 * HTK-mel filters without area normalisation ({@link MelFilterbank}), and each value becomes
 * {@code ln(mel + 1e-6)}. This equals {@code torchaudio.transforms.MelSpectrogram(
 * sample_rate=16000, n_fft=400, win_length=400, hop_length=160, n_mels=80, power=2.0)} followed by
 * {@code torch.log(x + 1e-6)}, transposed to (T, 80): within 1e-4 absolute on the log values
 * against torchaudio in float64 (LogMelTest, golden files made by
 * {@code bench/reference/make_logmel_golden.py}). Arithmetic is float64 up to the stored float32
 * result; torchaudio in float32 itself differs from its float64 result by up to 2e-4.
 *
 * <p>Thread-safe: the window and filterbank are shared and immutable, the FFT and buffers are
 * per thread.
 *
 * <pre>
 * jshell> FeatureMatrix f = new LogMel(FeatureConfig.defaults()).compute(samples16k)
 * jshell> f.frames()   // 1 + samples16k.length / 160
 * </pre>
 */
public final class LogMel {
    private final FeatureConfig cfg;
    private final Window window;
    private final MelFilterbank mel;
    private final ThreadLocal<Scratch> scratch;

    private static final class Scratch {
        final PowerSpectrum fft;
        final double[] frame, power, mel;

        Scratch(FeatureConfig c) {
            fft = new PowerSpectrum(c.nFft());
            frame = new double[c.nFft()];
            power = new double[c.numBins()];
            mel = new double[c.nMels()];
        }
    }

    public LogMel(FeatureConfig cfg) {
        this.cfg = cfg;
        window = new Window(cfg);
        mel = new MelFilterbank(cfg);
        scratch = ThreadLocal.withInitial(() -> new Scratch(cfg));
    }

    public FeatureConfig config() {
        return cfg;
    }

    /**
     * @param samples signal at {@link FeatureConfig#sampleRate()}, shape (N,)
     * @return log-mel features, shape (T, nMels) with T = {@link FeatureConfig#numFrames}(N)
     */
    public FeatureMatrix compute(float[] samples) {
        int frames = cfg.numFrames(samples.length);
        float[] out = new float[frames * cfg.nMels()];
        compute(samples, out, 0, frames);
        return new FeatureMatrix(out, frames, cfg.nMels());
    }

    /**
     * Computes frames [0, frames) into {@code out} starting at {@code offset}, row-major (T, nMels).
     *
     * @param samples signal, shape (N,)
     * @param out destination, length >= offset + frames * nMels
     * @param frames number of frames to compute, <= numFrames(N)
     */
    public void compute(float[] samples, float[] out, int offset, int frames) {
        int n = samples.length;
        if (frames > cfg.numFrames(n) || offset < 0 || out.length < offset + (long) frames * cfg.nMels()) {
            throw new IllegalArgumentException("LogMel: asked for " + frames + " frames at offset " + offset + " into " + out.length
                    + " floats, but a signal of " + n + " samples has " + cfg.numFrames(n) + " frames of " + cfg.nMels() + " bins");
        }
        Scratch s = scratch.get();
        int nFft = cfg.nFft(), hop = cfg.hopLength(), nMels = cfg.nMels();
        int pad = cfg.center() ? nFft / 2 : 0;
        int w0 = window.start(), w1 = window.end();
        double eps = cfg.logEpsilon();
        double[] frame = s.frame;
        for (int t = 0; t < frames; t++) {
            int base = t * hop - pad; // signal index of frame element 0
            java.util.Arrays.fill(frame, 0, w0, 0);
            java.util.Arrays.fill(frame, w1, nFft, 0);
            if (base + w0 >= 0 && base + w1 <= n) {
                for (int i = w0; i < w1; i++) frame[i] = samples[base + i] * window.at(i);
            } else {
                for (int i = w0; i < w1; i++) frame[i] = samples[reflect(base + i, n)] * window.at(i);
            }
            s.fft.compute(frame, s.power);
            mel.apply(s.power, s.mel);
            int o = offset + t * nMels;
            for (int m = 0; m < nMels; m++) out[o + m] = (float) Math.log(s.mel[m] + eps);
        }
    }

    /** Index into [0, n) of position i of the reflect-padded signal. */
    static int reflect(int i, int n) {
        if (n == 1) return 0;
        int period = 2 * (n - 1);
        i = Math.floorMod(i, period);
        return i < n ? i : period - i;
    }
}
