// Block-level complex FFT in shared memory (fp32), used by lmu_conv.cu's FFT form.
//
// A block transforms a buffer holding FFT_BUF / N independent complex sequences ("lanes") of
// length N = 2^logn, 16 <= N <= FFT_BUF = 8192. Self-sorting Stockham algorithm, in place, radix 8
// (one radix-2 or radix-4 stage first when 3 does not divide logn): in each stage every thread
// loads its butterflies' inputs into registers, twiddles them and takes their 8-point DFTs there,
// the block synchronises, and the outputs are written back. Natural order in and out, no bit
// reversal; N = 4096 takes 4 passes through shared memory, 8192 five. Forward uses
// exp(-2 pi i jk / N), inverse exp(+2 pi i jk / N), both unnormalised. Twiddles come from a table
// tw[j] = exp(-2 pi i j / N), j < N, in global memory (L1-resident): two loads per butterfly (w and
// w^2), the other powers multiplied out in registers.
//
// Stage with radix R after the stages so far have combined Ns points (Ns = 1, ...): butterfly j
// (0 <= j < N / R) reads x[j + r N / R] (r < R), multiplies input r by w^(r (j mod Ns)) with
// w = exp(-2 pi i / (Ns R)), takes an R-point DFT and writes output r to
// (j / Ns) Ns R + (j mod Ns) + r Ns.
//
// Layout: element f of lane p sits at a + a / 16 with a = p (N + 1) + f: one float2 of padding per
// lane, so that threads reading one position of neighbouring lanes fall in different banks, and one
// per 16 float2 (a bank row), so that the early stages' writes, R or R Ns float2 apart, spread over
// every bank instead of R-way conflicts.
#pragma once
#include "common.cuh"

#define FFT_THREADS 512
#define FFT_WIDE_THREADS 1024  // the FFT backward's blocks: 8 values per thread, no spills in its loop
#define FFT_BUF 8192           // complex values of all lanes together (the largest N)
#define FFT_MIN_LOGN 4         // N >= 16

__device__ __forceinline__ float2 cmul(float2 a, float2 b) {
    return make_float2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

// a * conj(b)
__device__ __forceinline__ float2 cmulc(float2 a, float2 b) {
    return make_float2(a.x * b.x + a.y * b.y, a.y * b.x - a.x * b.y);
}

__device__ __forceinline__ float2 cconj(float2 a) { return make_float2(a.x, -a.y); }
__device__ __forceinline__ float2 cadd(float2 a, float2 b) { return make_float2(a.x + b.x, a.y + b.y); }
__device__ __forceinline__ float2 csub(float2 a, float2 b) { return make_float2(a.x - b.x, a.y - b.y); }

// Index of element f of lane p in the padded buffer.
__device__ __forceinline__ int fft_at(int p, int f, int logn) {
    const int a = p * ((1 << logn) + 1) + f;
    return a + (a >> 4);
}

// float2 values a block's buffer spans, padding included (the dynamic shared memory is 8 bytes
// times this, plus what a kernel adds after it).
__host__ __device__ __forceinline__ int fft_buffer_values(int logn) {
    const int a = FFT_BUF + (FFT_BUF >> logn);  // lanes (N + 1)
    return a + (a >> 4) + 1;
}

// 4-point DFT in place: forward multiplies by (-i)^(jk), inverse by i^(jk).
__device__ __forceinline__ void dft4(float2& v0, float2& v1, float2& v2, float2& v3, bool inverse) {
    const float2 a0 = cadd(v0, v2), a1 = csub(v0, v2), a2 = cadd(v1, v3), d = csub(v1, v3);
    const float2 a3 = inverse ? make_float2(-d.y, d.x) : make_float2(d.y, -d.x);  // d * (-+i)
    v0 = cadd(a0, a2);
    v1 = cadd(a1, a3);
    v2 = csub(a0, a2);
    v3 = csub(a1, a3);
}

// R-point DFT of v in place (R = 2, 4 or 8); the 8-point one as two 4-point DFTs of the even and
// odd inputs combined with w8^m = exp(-+ i pi m / 4).
template <int R>
__device__ __forceinline__ void dft(float2* v, bool inverse) {
    if (R == 2) {
        const float2 a = v[0], b = v[1];
        v[0] = cadd(a, b);
        v[1] = csub(a, b);
    } else if (R == 4) {
        dft4(v[0], v[1], v[2], v[3], inverse);
    } else {
        float2 e0 = v[0], e1 = v[2], e2 = v[4], e3 = v[6];
        float2 o0 = v[1], o1 = v[3], o2 = v[5], o3 = v[7];
        dft4(e0, e1, e2, e3, inverse);
        dft4(o0, o1, o2, o3, inverse);
        const float h = 0.70710678118654752f;  // 1 / sqrt 2
        const float sg = inverse ? 1.0f : -1.0f;  // sign of the imaginary part of w8
        // w8^1 = h (1 + sg i), w8^2 = sg i, w8^3 = h (-1 + sg i)
        o1 = make_float2(h * (o1.x - sg * o1.y), h * (o1.y + sg * o1.x));
        o2 = make_float2(-sg * o2.y, sg * o2.x);
        o3 = make_float2(h * (-o3.x - sg * o3.y), h * (-o3.y + sg * o3.x));
        v[0] = cadd(e0, o0);
        v[4] = csub(e0, o0);
        v[1] = cadd(e1, o1);
        v[5] = csub(e1, o1);
        v[2] = cadd(e2, o2);
        v[6] = csub(e2, o2);
        v[3] = cadd(e3, o3);
        v[7] = csub(e3, o3);
    }
}

// One Stockham stage of radix R over every lane of buf; logns = log2(Ns).
template <int R, int THREADS>
__device__ __forceinline__ void fft_stage(float2* buf, int logn, int logns, const float2* __restrict__ tw,
                                          bool inverse) {
    constexpr int LOGR = R == 8 ? 3 : R == 4 ? 2 : 1;
    constexpr int PER = FFT_BUF / R / THREADS;  // butterflies per thread
    const int lognr = logn - LOGR;              // log2(N / R)
    const int tw_shift = logn - logns - LOGR;   // twiddle index = r * k * N / (Ns R)
    float2 v[PER][R];
#pragma unroll
    for (int q = 0; q < PER; q++) {
        const int e = threadIdx.x + q * THREADS;  // butterfly over all lanes
        const int p = e >> lognr, j = e & ((1 << lognr) - 1);
        const int k = j & ((1 << logns) - 1);
#pragma unroll
        for (int r = 0; r < R; r++) v[q][r] = buf[fft_at(p, j + (r << lognr), logn)];
        if (R > 2 && k > 0) {  // the radix-2 stage runs first (Ns = 1, k = 0) and needs no twiddles
            // w and w^2 from the table, the higher powers as products of those (at most 3
            // roundings), each applied as soon as it is formed
            float2 w1 = tw[k << tw_shift], w2 = tw[(2 * k) << tw_shift];
            if (inverse) {
                w1.y = -w1.y;
                w2.y = -w2.y;
            }
            v[q][1] = cmul(v[q][1], w1);
            v[q][2] = cmul(v[q][2], w2);
            const float2 w3 = cmul(w1, w2);
            v[q][3] = cmul(v[q][3], w3);
            if (R == 8) {
                const float2 w4 = cmul(w2, w2);
                v[q][4] = cmul(v[q][4], w4);
                v[q][5] = cmul(v[q][5], cmul(w1, w4));
                v[q][6] = cmul(v[q][6], cmul(w2, w4));
                v[q][7] = cmul(v[q][7], cmul(w3, w4));
            }
        }
        dft<R>(v[q], inverse);
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
    const int rem = logn % 3;
    if (rem == 1) {
        fft_stage<2, THREADS>(buf, logn, 0, tw, inverse);
        logns = 1;
    } else if (rem == 2) {
        fft_stage<4, THREADS>(buf, logn, 0, tw, inverse);
        logns = 2;
    }
    for (; logns < logn; logns += 3) fft_stage<8, THREADS>(buf, logn, logns, tw, inverse);
}

