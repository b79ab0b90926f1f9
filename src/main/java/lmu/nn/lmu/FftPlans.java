package lmu.nn.lmu;

import java.util.concurrent.ConcurrentHashMap;
import org.jtransforms.fft.DoubleFFT_1D;

/**
 * Shared JTransforms plans, one per length, all single-threaded: the convolution parallelises over
 * batch × channels itself, so JTransforms' own threads are switched off once here.
 *
 * <p>JTransforms was chosen over a hand-written radix-2 FFT by measurement (complex transform of
 * length 4096 on this machine: about 50 µs against 160 µs; its real transform about 30 µs); see
 * {@code FftBenchmark} in the tests.
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
