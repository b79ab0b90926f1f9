// Causal convolution of the parallel LMU with its impulse response, fp32, forward and backward
// (correlation), in the direct (Toeplitz) form: for every sequence b and memory channel k
//   forward   m[b, t, k*d + i] = sum_{lag=0..t} H[lag, i] * u[b, t - lag, k]            t < len_b
//   backward  du[b, s, k]      = sum_{lag=0..len_b-1-s} sum_i H[lag, i] * dm[b, s + lag, k*d + i]
// which is what lmu.nn.lmu.LegendreConvolution computes (its DIRECT and FFT methods agree; the CPU
// reference of the parity check). Padding is fused: u at frames >= len_b is never read, m and du
// there are written as 0, dm there is ignored. Layouts, row-major fp32: u, du (B, T, K); m, dm
// (B, T, K*d); H (h_len, d) with H[lag] = Abar^lag Bbar, h_len >= max len_b (rows beyond h_len read
// as 0). Both kernels are tiled like a matrix product: the forward multiplies the Toeplitz matrix
// of u (64 frames x 16 lags per step) by a (16 lags x 64 coefficients) tile of H; the backward
// correlates a (79 frames x 64 coefficients) tile of dm with a (16 x 64) tile of H. Work is
// O(T^2 d) per (b, k); an FFT form (O(d T log T)) is the better choice for long sequences and is
// not written yet.
#include "common.cuh"

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
// launch geometry: forward grid (CEIL_DIV(d, 64), CEIL_DIV(T, 64), B * K), backward grid
// (CEIL_DIV(T, 64), B * K, 1); block (256, 1, 1) for both; static shared memory only (forward
// 4.3 KiB, backward 28.7 KiB). B * K <= 65535 for the forward's z axis.
