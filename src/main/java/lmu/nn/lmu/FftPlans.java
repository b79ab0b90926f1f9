package lmu.nn.lmu;

import java.util.concurrent.ConcurrentHashMap;
import org.jtransforms.fft.DoubleFFT_1D;

/**
 * Shared JTransforms plans, one per length, all single-threaded: the convolution parallelises over
 * batch × channels itself, so JTransforms' own threads are switched off once here.
 *
 * <p>JTransforms was chosen over the hand-written radix-2 FFT ({@code Fft} in the tests) by
 * measurement ({@code LmuBenchmark fft}, fastest wall time, shared 2-core machine): complex
 * transform of length 512 / 1024 / 4096: own 13 / 33 / 240 µs, JTransforms 14 / 31 / 92 µs;
 * JTransforms' real transform, which the convolution uses, 10 / 18 / 37 µs.
 */
final class FftPlans {
    private static final ConcurrentHashMap<Integer, DoubleFFT_1D> PLANS = new ConcurrentHashMap<>();

    static {
        pl.edu.icm.jlargearrays.ConcurrencyUtils.setNumberOfThreads(1);
    }

    private FftPlans() {}

    /** Plan for real or complex transforms of length n (a power of two here). */
    static DoubleFFT_1D get(int n) {
        return PLANS.computeIfAbsent(n, DoubleFFT_1D::new);
    }
}
