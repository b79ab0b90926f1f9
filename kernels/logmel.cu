// Log-mel features of a batch of signals on the GPU: the same function as lmu.speech.features.LogMel
// (reflect padding, window, one-sided power spectrum |DFT|^2, triangular mel filters, ln(mel + eps)).
//
// One block per (frame, utterance). The block stages the windowed frame and the DFT twiddles in
// shared memory, each thread computes whole bins of the power spectrum by a direct DFT, then whole
// mel filters, and writes ln(mel + eps). Arithmetic is float64 like the CPU reference, so the two
// differ only by summation order: the DFT of one frame is nFft x nBins multiply-adds (400 x 201 for
// the defaults), small next to a training step, and a direct sum needs no power-of-two length.
//
// Tables (float64, built on the host from the same FeatureConfig as the CPU): window (nFft, zero
// outside the window), cos and sin of 2 pi j / nFft (nFft each), mel weights (nMels, nBins) dense;
// int32 first and end bin of every filter (nMels each).
#include "common.cuh"

// Index into [0, n) of position i of the reflect-padded signal (LogMel.reflect); n >= 1.
__device__ __forceinline__ int reflect_index(int i, int n) {
    if (n == 1) return 0;
    const int period = 2 * (n - 1);
    i %= period;
    if (i < 0) i += period;
    return i < n ? i : period - i;
}

// out (B, maxFrames, nMels); frames t >= frames[b] are written as 0.
// signal: every utterance's samples back to back, utterance b at [offsets[b], offsets[b] + lengths[b]).
// Dynamic shared memory: (3 nFft + nBins) doubles.
extern "C" __global__ void logmel_kernel(float* __restrict__ out, const float* __restrict__ signal,
                                         const int* __restrict__ offsets, const int* __restrict__ lengths,
                                         const int* __restrict__ frames, const double* __restrict__ tables,
                                         const int* __restrict__ melRange, int nFft, int hop, int pad, int nBins,
                                         int nMels, int maxFrames, double eps) {
    extern __shared__ float smem[];
    double* frame = reinterpret_cast<double*>(smem);
    double* cosT = frame + nFft;
    double* sinT = cosT + nFft;
    double* power = sinT + nFft;
    const double* window = tables;
    const double* melWeights = tables + 3 * (size_t)nFft;
    const int t = blockIdx.x, b = blockIdx.y;
    float* o = out + ((size_t)b * maxFrames + t) * nMels;
    if (t >= frames[b]) {
        for (int m = threadIdx.x; m < nMels; m += blockDim.x) o[m] = 0.f;
        return;
    }
    const int n = lengths[b];
    const float* x = signal + offsets[b];
    const int base = t * hop - pad;  // signal index of frame element 0
    for (int i = threadIdx.x; i < nFft; i += blockDim.x) {
        const double w = window[i];
        frame[i] = w == 0.0 ? 0.0 : (double)x[reflect_index(base + i, n)] * w;
        cosT[i] = tables[nFft + i];
        sinT[i] = tables[2 * nFft + i];
    }
    __syncthreads();
    for (int k = threadIdx.x; k < nBins; k += blockDim.x) {
        double re = 0.0, im = 0.0;
        int j = 0;  // k * i mod nFft, advanced without a division
        for (int i = 0; i < nFft; i++) {
            re += frame[i] * cosT[j];
            im -= frame[i] * sinT[j];
            j += k;
            if (j >= nFft) j -= nFft;
        }
        power[k] = re * re + im * im;
    }
    __syncthreads();
    for (int m = threadIdx.x; m < nMels; m += blockDim.x) {
        const double* w = melWeights + (size_t)m * nBins;
        double s = 0.0;
        for (int k = melRange[m]; k < melRange[nMels + m]; k++) s += w[k] * power[k];
        o[m] = (float)log(s + eps);
    }
}
