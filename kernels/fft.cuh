// Block-level complex FFT in shared memory (fp32), used by lmu_conv.cu's FFT form.
//
// A block transforms a buffer of FFT_BUF complex values (float2) holding FFT_BUF / N independent
// sequences ("lanes") of length N = 2^logn, 16 <= N <= FFT_BUF, lane p at buf + p * (N + 1) (one
// float2 of padding between lanes, so that threads reading the same position of neighbouring
// lanes fall in different banks). Self-sorting Stockham algorithm, in place: one radix-2 stage
// first when logn is odd, then radix-4 stages; in each stage every thread loads its butterflies'
// inputs into registers, the block synchronises, and the outputs are written back. Natural order
// in, natural order out, no bit reversal. Forward uses exp(-2 pi i jk / N), inverse exp(+2 pi i
// jk / N), both unnormalised. Twiddles come from a table tw[j] = exp(-2 pi i j / N), j < N, in
// global memory (written by fft_twiddles).
//
// Stage with radix R after the stages so far have combined Ns points (Ns = 1, R, ...): butterfly j
// (0 <= j < N / R) reads x[j + r N / R] (r < R), multiplies input r by w^(r (j mod Ns)) with
// w = exp(-2 pi i / (Ns R)), takes an R-point DFT and writes output r to
// (j / Ns) Ns R + (j mod Ns) + r Ns.
#pragma once
#include "common.cuh"

#define FFT_THREADS 512
#define FFT_WIDE_THREADS 1024  // the FFT backward's blocks: 8 values per thread, no spills in its loop
#define FFT_BUF 8192     // complex values per block buffer (the largest N)
#define FFT_MIN_LOGN 4   // N >= 16

__device__ __forceinline__ float2 cmul(float2 a, float2 b) {
    return make_float2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

// a * conj(b)
__device__ __forceinline__ float2 cmulc(float2 a, float2 b) {
    return make_float2(a.x * b.x + a.y * b.y, a.y * b.x - a.x * b.y);
}

__device__ __forceinline__ float2 cconj(float2 a) { return make_float2(a.x, -a.y); }

// Index of element f of lane p in the padded buffer.
__device__ __forceinline__ int fft_at(int p, int f, int logn) { return p * ((1 << logn) + 1) + f; }

// Complex values a block's buffer holds, lanes and padding included (the dynamic shared memory
// is 8 bytes times this, plus what a kernel adds).
__host__ __device__ __forceinline__ int fft_buffer_values(int logn) { return FFT_BUF + (FFT_BUF >> logn); }

// One Stockham stage of radix R (2 or 4) over every lane of buf; lognsr = log2(N / R),
// logns = log2(Ns).
template <int R, int THREADS>
__device__ __forceinline__ void fft_stage(float2* buf, int logn, int logns, const float2* __restrict__ tw,
                                          bool inverse) {
    constexpr int LOGR = R == 4 ? 2 : 1;
    constexpr int PER = FFT_BUF / R / THREADS;  // butterflies per thread
    const int lognr = logn - LOGR;                  // log2(N / R)
    const int tw_shift = logn - logns - LOGR;       // twiddle index = r * k * N / (Ns R)
    float2 v[PER][R];
#pragma unroll
    for (int q = 0; q < PER; q++) {
        const int e = threadIdx.x + q * THREADS;  // butterfly over all lanes
        const int p = e >> lognr, j = e & ((1 << lognr) - 1);
        const int k = j & ((1 << logns) - 1);
#pragma unroll
        for (int r = 0; r < R; r++) {
            float2 x = buf[fft_at(p, j + (r << lognr), logn)];
            if (r > 0 && k > 0) {
                float2 w = tw[(r * k) << tw_shift];
                if (inverse) w.y = -w.y;
                x = cmul(x, w);
            }
            v[q][r] = x;
        }
        if (R == 2) {
            const float2 a = v[q][0], b = v[q][1];
            v[q][0] = make_float2(a.x + b.x, a.y + b.y);
            v[q][1] = make_float2(a.x - b.x, a.y - b.y);
        } else {
            const float2 a0 = make_float2(v[q][0].x + v[q][2].x, v[q][0].y + v[q][2].y);
            const float2 a1 = make_float2(v[q][0].x - v[q][2].x, v[q][0].y - v[q][2].y);
            const float2 a2 = make_float2(v[q][1].x + v[q][3].x, v[q][1].y + v[q][3].y);
            const float2 d = make_float2(v[q][1].x - v[q][3].x, v[q][1].y - v[q][3].y);
            // a3 = d * (-i) forward, d * (+i) inverse
            const float2 a3 = inverse ? make_float2(-d.y, d.x) : make_float2(d.y, -d.x);
            v[q][0] = make_float2(a0.x + a2.x, a0.y + a2.y);
            v[q][1] = make_float2(a1.x + a3.x, a1.y + a3.y);
            v[q][2] = make_float2(a0.x - a2.x, a0.y - a2.y);
            v[q][3] = make_float2(a1.x - a3.x, a1.y - a3.y);
        }
    }
    __syncthreads();
#pragma unroll
    for (int q = 0; q < PER; q++) {
        const int e = threadIdx.x + q * THREADS;
        const int p = e >> lognr, j = e & ((1 << lognr) - 1);
        const int k = j & ((1 << logns) - 1);
        const int dst = ((j >> logns) << (logns + LOGR)) + k;
#pragma unroll
        for (int r = 0; r < R; r++) buf[fft_at(p, dst + (r << logns), logn)] = v[q][r];
    }
    __syncthreads();
}

// Transforms every lane of buf (FFT_BUF / N lanes of N = 2^logn). Call with all THREADS threads
// of the block (FFT_THREADS, or 1024 where fewer registers per thread must do) after a
// __syncthreads that follows the writes of the input; returns synchronised.
template <int THREADS = FFT_THREADS>
__device__ __forceinline__ void fft_block(float2* buf, int logn, const float2* __restrict__ tw, bool inverse) {
    int logns = 0;
    if (logn & 1) {
        fft_stage<2, THREADS>(buf, logn, 0, tw, inverse);
        logns = 1;
    }
    for (; logns < logn; logns += 2) fft_stage<4, THREADS>(buf, logn, logns, tw, inverse);
}

