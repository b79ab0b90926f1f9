// Causal convolution of the parallel LMU with its impulse response, fp32, forward and backward
// (correlation): for every sequence b and memory channel k
//   forward   m[b, t, k*d + i] = sum_{lag=0..t} H[lag, i] * u[b, t - lag, k]            t < len_b
//   backward  du[b, s, k]      = sum_{lag=0..len_b-1-s} sum_i H[lag, i] * dm[b, s + lag, k*d + i]
// which is what lmu.nn.lmu.LegendreConvolution computes (its DIRECT and FFT methods agree; the CPU
// reference of the parity check). Padding is fused: u at frames >= len_b is never read, m and du
// there are written as 0, dm there is ignored. Layouts, row-major fp32: u, du (B, T, K); m, dm
// (B, T, K*d); H (h_len, d) with H[lag] = Abar^lag Bbar, h_len >= max len_b (rows beyond h_len read
// as 0). Two forms, chosen by the launcher (lmu.backend.cuda.kernels.CudaLegendreConvolution):
//
// Direct (Toeplitz) form, O(T^2 d) per (b, k), tiled like a matrix product: the forward multiplies
// the Toeplitz matrix of u (64 frames x 16 lags per step) by a (16 lags x 64 coefficients) tile of
// H; the backward correlates a (79 frames x 64 coefficients) tile of dm with a (16 x 64) tile of H.
//
// FFT form, O(d N log N) per (b, k) with N = 2^logn >= 2T - 1 and H cut at N / 2 lags (so the
// circular convolution and correlation equal the linear ones at every frame t < T), N <= 8192
// (T <= 4096), block-level radix-8 FFTs in shared memory (fft.cuh). Real signals go through the FFT two at a time as the real and imaginary parts of one
// complex sequence. Spectra of real signals are kept as their N/2 + 1 non-negative frequencies
// ("half spectra", float2). Kernels:
//   lmu_conv_fft_twiddle_kernel          tw[j] = exp(-2 pi i j / N)
//   lmu_conv_fft_spectrum_kernel         half spectra of real columns: of H (d columns, once per
//                                        H and N, cached by the caller) or of u (B*K sequences)
//   lmu_conv_fft_forward_kernel          per (b, k) and group of columns: X_u * H_i, inverse FFT,
//                                        m written with its padding (nothing of size B*K*d*N
//                                        leaves the chip)
//   lmu_conv_fft_backward_kernel         per (b, k) and slice of columns: sum_i FFT(dm_i) conj(H_i)
//                                        accumulated on chip, one partial half spectrum per slice
//   lmu_conv_fft_backward_output_kernel  sums the slices, inverse FFT, du written with its padding
#include "common.cuh"
#include "fft.cuh"

#define CONV_TT 64   // frames per block
#define CONV_TI 64   // coefficients per block (forward) / per step (backward)
#define CONV_TL 16   // lags per step
#define CONV_THREADS 256

// ----------------------------------------------------------------------------
// CUDA kernels

// grid (CEIL_DIV(d, 64), CEIL_DIV(T, 64), B * K), block 256. Each thread computes 4 frames x 4
// coefficients: frames t0 + ty + 16 a, coefficients i0 + tx + 16 c (a, c = 0..3).
extern "C" __global__ void __launch_bounds__(CONV_THREADS)
lmu_conv_forward_kernel(float* m, const float* u, const float* hresp, const int* lengths, int T, int K, int d,
                        int h_len) {
    __shared__ float hs[CONV_TL][CONV_TI];
    __shared__ float us[CONV_TT + CONV_TL];
    const int i0 = blockIdx.x * CONV_TI;
    const int t0 = blockIdx.y * CONV_TT;
    const int b = blockIdx.z / K, k = blockIdx.z % K;
    const int len = lengths[b];
    const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
    const int W = K * d;
    float acc[4][4];
#pragma unroll
    for (int a = 0; a < 4; a++)
#pragma unroll
        for (int c = 0; c < 4; c++) acc[a][c] = 0.0f;
    // lags that reach a valid output of this tile: lag <= t <= min(t0 + 63, len - 1)
    const int t_hi = t0 < len ? min(t0 + CONV_TT, len) - 1 : -1;
    for (int l0 = 0; l0 <= t_hi; l0 += CONV_TL) {
        // hs[ll][ii] = H[l0 + ll, i0 + ii]
        for (int e = threadIdx.x; e < CONV_TL * CONV_TI; e += CONV_THREADS) {
            const int ll = e / CONV_TI, ii = e % CONV_TI;
            const int lag = l0 + ll, i = i0 + ii;
            hs[ll][ii] = (lag < h_len && i < d) ? hresp[(size_t)lag * d + i] : 0.0f;
        }
        // us[j] = u[base + j], base = t0 - l0 - (TL - 1): frames t - lag for t in the tile, lag in the step
        const int base = t0 - l0 - (CONV_TL - 1);
        for (int j = threadIdx.x; j < CONV_TT + CONV_TL - 1; j += CONV_THREADS) {
            const int s = base + j;
            us[j] = (s >= 0 && s < len) ? u[((size_t)b * T + s) * K + k] : 0.0f;
        }
        __syncthreads();
#pragma unroll
        for (int ll = 0; ll < CONV_TL; ll++) {
            float hv[4], uv[4];
#pragma unroll
            for (int c = 0; c < 4; c++) hv[c] = hs[ll][tx + 16 * c];
#pragma unroll
            for (int a = 0; a < 4; a++) uv[a] = us[ty + 16 * a - ll + CONV_TL - 1];
#pragma unroll
            for (int a = 0; a < 4; a++)
#pragma unroll
                for (int c = 0; c < 4; c++) acc[a][c] = fmaf(uv[a], hv[c], acc[a][c]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int a = 0; a < 4; a++) {
        const int t = t0 + ty + 16 * a;
        if (t >= T) continue;
#pragma unroll
        for (int c = 0; c < 4; c++) {
            const int i = i0 + tx + 16 * c;
            if (i < d) m[((size_t)b * T + t) * W + (size_t)k * d + i] = t < len ? acc[a][c] : 0.0f;
        }
    }
}

// grid (CEIL_DIV(T, 64), B * K), block 256. Each thread sums 4 frames s0 + ty + 16 a over its
// coefficients tx + 16 c of every 64-coefficient step; the 16 partial sums of a frame (one per tx,
// in one half-warp) are added by shuffles at the end.
#define CONV_DS_STRIDE (CONV_TI + 16)  // rows 80 floats apart: the two frames a warp reads hit disjoint banks
extern "C" __global__ void __launch_bounds__(CONV_THREADS)
lmu_conv_backward_kernel(float* du, const float* dm, const float* hresp, const int* lengths, int T, int K, int d,
                         int h_len) {
    __shared__ float hs[CONV_TL][CONV_TI];
    __shared__ float ds[(CONV_TT + CONV_TL - 1) * CONV_DS_STRIDE];
    const int s0 = blockIdx.x * CONV_TT;
    const int b = blockIdx.y / K, k = blockIdx.y % K;
    const int len = lengths[b];
    const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
    const int W = K * d;
    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    // lags that reach a valid frame: s + lag <= len - 1 with s >= s0
    const int lag_hi = len - 1 - s0;
    for (int i0 = 0; i0 < d; i0 += CONV_TI) {
        for (int l0 = 0; l0 <= lag_hi; l0 += CONV_TL) {
            for (int e = threadIdx.x; e < CONV_TL * CONV_TI; e += CONV_THREADS) {
                const int ll = e / CONV_TI, ii = e % CONV_TI;
                const int lag = l0 + ll, i = i0 + ii;
                hs[ll][ii] = (lag < h_len && i < d) ? hresp[(size_t)lag * d + i] : 0.0f;
            }
            // ds[j][ii] = dm[b, s0 + l0 + j, k*d + i0 + ii]
            for (int e = threadIdx.x; e < (CONV_TT + CONV_TL - 1) * CONV_TI; e += CONV_THREADS) {
                const int j = e / CONV_TI, ii = e % CONV_TI;
                const int t = s0 + l0 + j, i = i0 + ii;
                ds[j * CONV_DS_STRIDE + ii] =
                    (t < len && i < d) ? dm[((size_t)b * T + t) * W + (size_t)k * d + i] : 0.0f;
            }
            __syncthreads();
#pragma unroll 4
            for (int ll = 0; ll < CONV_TL; ll++) {
#pragma unroll
                for (int c = 0; c < 4; c++) {
                    const float hv = hs[ll][tx + 16 * c];
#pragma unroll
                    for (int a = 0; a < 4; a++)
                        acc[a] = fmaf(hv, ds[(ty + 16 * a + ll) * CONV_DS_STRIDE + tx + 16 * c], acc[a]);
                }
            }
            __syncthreads();
        }
    }
#pragma unroll
    for (int a = 0; a < 4; a++) {
        float v = acc[a];
        for (int off = 8; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);  // within 16 lanes
        const int s = s0 + ty + 16 * a;
        if (tx == 0 && s < T) du[((size_t)b * T + s) * K + k] = s < len ? v : 0.0f;
    }
}

// ----------------------------------------------------------------------------
// FFT form (N = 2^logn, lanes = FFT_BUF / N sequences per block buffer, half = N / 2 + 1)


// grid (CEIL_DIV(N, 256)), block 256. tw[j] = exp(-2 pi i j / N), rounded once from float64.
extern "C" __global__ void lmu_conv_fft_twiddle_kernel(float2* tw, int logn) {
    const int n = 1 << logn;
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j < n) {
        double s, c;
        sincospi(-2.0 * j / n, &s, &c);
        tw[j] = make_float2((float)c, (float)s);
    }
}

// Half spectra of `jobs` real sequences, two per complex FFT: job j reads
// src[(j / group) * group_stride + (j % group) + s * stride] at s < len_j and 0 beyond, len_j =
// min(lengths[j / group], limit) (limit alone when lengths is null), and writes spec[j * half + g],
// g < half. For u: group K, group_stride T*K, stride K, limit T, lengths. For H: group d,
// group_stride 0, stride d, limit min(h_len, N / 2), no lengths: every lag < T is kept (T <= N / 2)
// and none that could wrap around onto a frame t < T (lag + T <= N), so one spectrum serves every
// T of its N.
// grid (CEIL_DIV(jobs, 2 * lanes)), block FFT_THREADS, dynamic shared 8 * fft_buffer_values(logn).
extern "C" __global__ void __launch_bounds__(FFT_THREADS, 2)
lmu_conv_fft_spectrum_kernel(float2* spec, const float* __restrict__ src, const int* __restrict__ lengths, int jobs,
                             int group, long long group_stride, int stride, int limit, int logn,
                             const float2* __restrict__ tw) {
    extern __shared__ float smem[];
    float2* buf = (float2*)smem;
    const int n = 1 << logn, half = n / 2 + 1;
    const int lanes = FFT_BUF >> logn;
    const int j0 = blockIdx.x * 2 * lanes;
    for (int e = threadIdx.x; e < FFT_BUF; e += FFT_THREADS) {
        const int p = e >> logn, s = e & (n - 1);
        float v[2];
#pragma unroll
        for (int c = 0; c < 2; c++) {
            const int j = j0 + 2 * p + c;
            float x = 0.0f;
            if (j < jobs) {
                const int q = j / group;
                const int len = lengths ? min(lengths[q], limit) : limit;
                if (s < len) x = src[q * group_stride + (j - q * group) + (long long)s * stride];
            }
            v[c] = x;
        }
        buf[fft_at(p, s, logn)] = make_float2(v[0], v[1]);
    }
    __syncthreads();
    fft_block(buf, logn, tw, false);
    // z = FFT(a + i b): A[g] = (z[g] + conj z[-g]) / 2, B[g] = -i (z[g] - conj z[-g]) / 2
    for (int e = threadIdx.x; e < lanes * half; e += FFT_THREADS) {
        const int p = e / half, g = e - p * half;
        const float2 z = buf[fft_at(p, g, logn)];
        const float2 zc = cconj(buf[fft_at(p, (n - g) & (n - 1), logn)]);
        const int ja = j0 + 2 * p;
        if (ja < jobs) spec[(size_t)ja * half + g] = make_float2(0.5f * (z.x + zc.x), 0.5f * (z.y + zc.y));
        if (ja + 1 < jobs) spec[(size_t)(ja + 1) * half + g] = make_float2(0.5f * (z.y - zc.y), -0.5f * (z.x - zc.x));
    }
}

// m[b, t, k*d + i] for the 2 * lanes columns i0 = blockIdx.x * 2 * lanes ... of one (b, k): the
// spectra Y_i = X_u H_i of columns i0 + 2p and i0 + 2p + 1 (Hermitian, extended to every
// frequency) make lane p's Y_a + i Y_b, whose inverse FFT is y_a + i y_b; frames t < len are
// written scaled by 1/N, frames len <= t < T as 0.
// grid (CEIL_DIV(d, 2 * lanes), B * K), block FFT_THREADS, dynamic shared 8 * fft_buffer_values(logn).
extern "C" __global__ void __launch_bounds__(FFT_THREADS, 2)
lmu_conv_fft_forward_kernel(float* m, const float2* __restrict__ uspec, const float2* __restrict__ hspec,
                            const int* __restrict__ lengths, int T, int K, int d, int logn,
                            const float2* __restrict__ tw) {
    extern __shared__ float smem[];
    float2* buf = (float2*)smem;
    const int n = 1 << logn, half = n / 2 + 1;
    const int logc = 14 - logn, cols = 1 << logc;  // 2 * lanes columns
    const int i0 = blockIdx.x * cols;
    const int bk = blockIdx.y, b = bk / K, k = bk % K;
    const int len = lengths[b];
    const size_t W = (size_t)K * d;
    if (len > 0) {  // block-uniform
        const float2* x = uspec + (size_t)bk * half;
#pragma unroll 1
        for (int e = threadIdx.x; e < FFT_BUF; e += FFT_THREADS) {
            const int p = e >> logn, f = e & (n - 1);
            const int g = f <= n / 2 ? f : n - f;
            const int ia = i0 + 2 * p;
            const float2 xv = x[g];
            float2 ya = make_float2(0.0f, 0.0f), yb = ya;
            if (ia < d) ya = cmul(xv, hspec[(size_t)ia * half + g]);
            if (ia + 1 < d) yb = cmul(xv, hspec[(size_t)(ia + 1) * half + g]);
            if (f > n / 2) {
                ya = cconj(ya);
                yb = cconj(yb);
            }
            buf[fft_at(p, f, logn)] = make_float2(ya.x - yb.y, ya.y + yb.x);
        }
        __syncthreads();
        fft_block(buf, logn, tw, true);
    }
    const float scale = 1.0f / (float)n;
    const int ncols = min(cols, d - i0);
    float* mo = m + (size_t)b * T * W + (size_t)k * d + i0;
    // column fastest: neighbouring threads write neighbouring coefficients of a frame
#pragma unroll 1
    for (int e = threadIdx.x; e < (T << logc); e += FFT_THREADS) {
        const int t = e >> logc, c = e & (cols - 1);
        if (c >= ncols) continue;
        float v = 0.0f;
        if (t < len) {
            const float2 z = buf[fft_at(c >> 1, t, logn)];
            v = (c & 1 ? z.y : z.x) * scale;
        }
        mo[(size_t)t * W + c] = v;
    }
}

// Partial spectrum of du for one (b, k) and one slice of column pairs [s * pairs_per_slice,
// min((s + 1) * pairs_per_slice, CEIL_DIV(d, 2))), s = blockIdx.x: sum over its columns i of
// FFT(dm_i) conj(H_i), lanes pairs per round, accumulated in shared memory (thread-owned
// frequencies), written to partial[(bk * slices + s) * half + g]. Nothing written when len_b = 0
// (the output kernel does not read it then). pairs_per_slice is a multiple of lanes.
// grid (slices, B * K), block FFT_WIDE_THREADS (1024), dynamic shared 8 * (fft_buffer_values(logn) + half).
extern "C" __global__ void __launch_bounds__(FFT_WIDE_THREADS, 1)
lmu_conv_fft_backward_kernel(float2* partial, const float* __restrict__ dm, const float2* __restrict__ hspec,
                             const int* __restrict__ lengths, int T, int K, int d, int pairs_per_slice, int logn,
                             const float2* __restrict__ tw) {
    extern __shared__ float smem[];
    float2* buf = (float2*)smem;
    const int n = 1 << logn, half = n / 2 + 1;
    float2* acc = buf + fft_buffer_values(logn);
    const int lanes = FFT_BUF >> logn, logc = 14 - logn, cols = 1 << logc;
    const int bk = blockIdx.y, b = bk / K, k = bk % K;
    const int len = min(lengths[b], T);  // the fill below runs to N > T frames
    if (len == 0) return;  // block-uniform
    const size_t W = (size_t)K * d;
    const float* g0 = dm + (size_t)b * T * W + (size_t)k * d;
    for (int g = threadIdx.x; g < half; g += FFT_WIDE_THREADS) acc[g] = make_float2(0.0f, 0.0f);
    const int p_end = min(CEIL_DIV(d, 2), (int)(blockIdx.x + 1) * pairs_per_slice);
    for (int p0 = blockIdx.x * pairs_per_slice; p0 < p_end; p0 += lanes) {
        const int i0 = 2 * p0;
        // columns i0 ... i0 + cols - 1 at frames t < len, column fastest (neighbouring threads read
        // neighbouring coefficients of a frame); lane c / 2 gets column c in its real (c even) or
        // imaginary part
        for (int e = threadIdx.x; e < (n << logc); e += FFT_WIDE_THREADS) {
            const int t = e >> logc, c = e & (cols - 1);
            const int i = i0 + c;
            const float v = (t < len && i < d && p0 + (c >> 1) < p_end) ? g0[(size_t)t * W + i] : 0.0f;
            float* slot = (float*)&buf[fft_at(c >> 1, t, logn)];
            slot[c & 1] = v;
        }
        __syncthreads();
        fft_block<FFT_WIDE_THREADS>(buf, logn, tw, false);
        for (int g = threadIdx.x; g < half; g += FFT_WIDE_THREADS) {
            float2 a = acc[g];
            const int gc = (n - g) & (n - 1);
            for (int p = 0; p < lanes; p++) {
                const int ia = i0 + 2 * p;
                if (ia >= d || p0 + p >= p_end) break;
                const float2 z = buf[fft_at(p, g, logn)], zc = cconj(buf[fft_at(p, gc, logn)]);
                const float2 za = make_float2(0.5f * (z.x + zc.x), 0.5f * (z.y + zc.y));
                a = cadd(a, cmulc(za, hspec[(size_t)ia * half + g]));
                if (ia + 1 < d) {
                    const float2 zb = make_float2(0.5f * (z.y - zc.y), -0.5f * (z.x - zc.x));
                    a = cadd(a, cmulc(zb, hspec[(size_t)(ia + 1) * half + g]));
                }
            }
            acc[g] = a;
        }
        __syncthreads();  // buf is refilled by the next round
    }
    float2* out = partial + ((size_t)bk * gridDim.x + blockIdx.x) * half;
    for (int g = threadIdx.x; g < half; g += FFT_WIDE_THREADS) out[g] = acc[g];
}

// du for 2 * lanes sequences (b, k) = (j / K, j % K), j = blockIdx.x * 2 * lanes ...: the slices'
// partial spectra summed, two sequences per inverse FFT (real and imaginary parts), frames t < len
// written scaled by 1/N, len <= t < T as 0.
// grid (CEIL_DIV(B * K, 2 * lanes)), block FFT_THREADS, dynamic shared 8 * fft_buffer_values(logn).
extern "C" __global__ void __launch_bounds__(FFT_THREADS, 2)
lmu_conv_fft_backward_output_kernel(float* du, const float2* __restrict__ partial, const int* __restrict__ lengths,
                                    int B, int T, int K, int slices, int logn, const float2* __restrict__ tw) {
    extern __shared__ float smem[];
    float2* buf = (float2*)smem;
    const int n = 1 << logn, half = n / 2 + 1;
    const int lanes = FFT_BUF >> logn;
    const int jobs = B * K, j0 = blockIdx.x * 2 * lanes;
    for (int e = threadIdx.x; e < FFT_BUF; e += FFT_THREADS) {
        const int p = e >> logn, f = e & (n - 1);
        const int g = f <= n / 2 ? f : n - f;
        float2 y[2];
#pragma unroll
        for (int c = 0; c < 2; c++) {
            const int j = j0 + 2 * p + c;
            float2 s = make_float2(0.0f, 0.0f);
            if (j < jobs && lengths[j / K] > 0)
                for (int sl = 0; sl < slices; sl++) s = cadd(s, partial[((size_t)j * slices + sl) * half + g]);
            y[c] = f > n / 2 ? cconj(s) : s;
        }
        buf[fft_at(p, f, logn)] = make_float2(y[0].x - y[1].y, y[0].y + y[1].x);
    }
    __syncthreads();
    fft_block(buf, logn, tw, true);
    const float scale = 1.0f / (float)n;
    // frame fastest: du's frames of one sequence are K floats apart
    for (int e = threadIdx.x; e < 2 * lanes * T; e += FFT_THREADS) {
        const int c = e / T, t = e - c * T;
        const int j = j0 + c;
        if (j >= jobs) continue;
        const int b = j / K, k = j - b * K;
        float v = 0.0f;
        if (t < lengths[b]) {
            const float2 z = buf[fft_at(c >> 1, t, logn)];
            v = (c & 1 ? z.y : z.x) * scale;
        }
        du[((size_t)b * T + t) * K + k] = v;
    }
}

// ----------------------------------------------------------------------------
// launch geometry
// Direct: forward grid (CEIL_DIV(d, 64), CEIL_DIV(T, 64), B * K), backward grid
// (CEIL_DIV(T, 64), B * K, 1); block (256, 1, 1) for both; static shared memory only (forward
// 4.3 KiB, backward 28.7 KiB). B * K <= 65535 for the forward's z axis.
// FFT (N = 2^logn, 16 <= N <= 8192, N >= 2T - 1; lanes = 8192 / N; half = N / 2 + 1): block
// (FFT_THREADS = 512, 1, 1) everywhere except the twiddle kernel (256) and the backward kernel
// (FFT_WIDE_THREADS = 1024: in its loop over column pairs 512 threads would spill); dynamic shared
// memory 8 * fft_buffer_values(logn) bytes (A + A / 16 + 1 float2, A = 8192 + lanes: 68 to 73 KiB),
// the backward kernel 8 * half more (at most 101 KiB):
//   twiddle          grid CEIL_DIV(N, 256)
//   spectrum         grid CEIL_DIV(jobs, 2 lanes)        (jobs = d for H, B * K for u)
//   forward          grid (CEIL_DIV(d, 2 lanes), B * K)
//   backward         grid (slices, B * K), slices = CEIL_DIV(CEIL_DIV(d, 2), pairs_per_slice)
//   backward_output  grid CEIL_DIV(B * K, 2 lanes)
// Workspaces (float2): twiddles N, H spectrum d * half, u spectrum B * K * half, backward partial
// spectra B * K * slices * half.
