// Fused multi-head attention on tensor cores: q, k, v, o and their gradients in fp16 or bf16, every
// product accumulated in fp32 (nvcuda::wmma 16x16x16 tiles), the online softmax and its statistics
// in fp32. The function is attention.cu's (lmu.nn.MultiHeadAttention's core), per batch b, head h:
//   s   = scale (q k^T)       (fp32; padded keys j >= len_b get the mask value, replaced, not added)
//   p   = softmax(s);  p' = p * keep / (1 - pdrop)  with attention.cu's counter-based dropout mask
//   o   = p' v                                                           (rounded to the format)
// stats (B, H, T, 2) fp32 = (row max m, log of the sum l of exp(s - m)) of the weights before
// dropout, as attention.cu keeps them. The scale multiplies the fp32 scores (not q before the
// product, which would round q * scale to 16 bits once more). Backward by recomputation:
//   Dd[i] = sum dO[i] o[i];  dp' = dO v^T;  dp = dp' keep / (1 - pdrop)
//   ds = p (dp - Dd) (0 on padded keys);  dq = scale ds k;  dk = scale ds^T q;  dv = p'^T dO
// The weights p' and ds enter the second product of each step rounded to the format (the tensor
// cores take 16-bit operands), as flash attention does; the row sums l use the fp32 p.
// Layouts, row-major: q, k, v, o, dO, dq, dk, dv (B, T, H, Dh) of the format (C = H Dh, head h at
// channels h Dh ..; C a multiple of 8 so rows are 16-byte aligned); stats (B, H, T, 2) and Dd
// (B, H, T) fp32; lengths (B) int32 or null. dq, dk, dv written (=), deterministically.
// Kernels: attention_half_{forward,backward_dot,backward_dq,backward_dkdv}_kernel_hd{32,64}_{f16,bf16}.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <mma.h>

#include "common.cuh"
#include "dropout.cuh"

using namespace nvcuda;

#define AH_WARPS 4
#define AH_THREADS (AH_WARPS * WARP_SIZE)
#define AH_QT (AH_WARPS * 16)  // 64 query rows per block (forward, dq): 16 per warp
#define AH_KT 32               // keys per step (forward, dq)
#define AH_KB (AH_WARPS * 16)  // 64 keys per block (dk/dv): 16 per warp
#define AH_QB 32               // query rows per step (dk/dv)
#define AH_PAD 8               // 16-bit elements of padding per shared row (keeps wmma's 32-byte alignment)
#define AH_FPAD 4              // floats of padding per fp32 scratch row

__device__ __forceinline__ float ah_float(__half x) { return __half2float(x); }
__device__ __forceinline__ float ah_float(__nv_bfloat16 x) { return __bfloat162float(x); }
template <typename X>
__device__ __forceinline__ X ah_round(float x);
template <>
__device__ __forceinline__ __half ah_round<__half>(float x) { return __float2half_rn(x); }
template <>
__device__ __forceinline__ __nv_bfloat16 ah_round<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }
__device__ __forceinline__ unsigned ah_bits(__half x) { return __half_as_ushort(x); }
__device__ __forceinline__ unsigned ah_bits(__nv_bfloat16 x) { return __bfloat16_as_ushort(x); }

__device__ __forceinline__ size_t ah_index(int b, int t, int h, int T, int H, int D) {
    return (((size_t)b * T + t) * H + h) * D;
}

// attention.cu's dropout of one weight: w * keep_scale if element (bh, t, key) of the (B H, T, T)
// weights is kept, 0 if dropped; w itself when threshold is 0.
struct AhDropout {
    unsigned long long seed, threshold;
    float keep_scale;
    __device__ __forceinline__ float apply(float w, int bh, int t, int key, int T) const {
        if (threshold == 0ull) return w;
        const unsigned long long counter = ((unsigned long long)bh * T + t) * T + key;
        return dropout_keep(seed, counter, threshold) ? w * keep_scale : 0.0f;
    }
};

// Copies rows r0 .. r0 + rows - 1 of head h into dst (row stride ld elements) in 16-byte pieces;
// zero beyond T.
template <typename X, int D>
__device__ __forceinline__ void ah_load(X* dst, int ld, const X* src, int b, int r0, int rows, int h, int T, int H) {
    constexpr int P = D / 8;  // 16-byte pieces per row
    for (int e = threadIdx.x; e < rows * P; e += blockDim.x) {
        const int r = e / P, c = (e % P) * 8, t = r0 + r;
        uint4 val = make_uint4(0u, 0u, 0u, 0u);
        if (t < T) val = *reinterpret_cast<const uint4*>(src + ah_index(b, t, h, T, H, D) + c);
        *reinterpret_cast<uint4*>(dst + r * ld + c) = val;
    }
}

// Writes 16 fp32 values v[i] * mul, rounded to the format, to dst[0 .. 15] (16-byte aligned).
template <typename X>
__device__ __forceinline__ void ah_store16(X* dst, const float* v, float mul) {
#pragma unroll
    for (int c = 0; c < 16; c += 8) {
        unsigned w[4];
#pragma unroll
        for (int i = 0; i < 4; i++)
            w[i] = ah_bits(ah_round<X>(v[c + 2 * i] * mul)) | (ah_bits(ah_round<X>(v[c + 2 * i + 1] * mul)) << 16);
        *reinterpret_cast<uint4*>(dst + c) = make_uint4(w[0], w[1], w[2], w[3]);
    }
}

template <typename X>
using FragA = wmma::fragment<wmma::matrix_a, 16, 16, 16, X, wmma::row_major>;
template <typename X>
using FragBRow = wmma::fragment<wmma::matrix_b, 16, 16, 16, X, wmma::row_major>;
template <typename X>
using FragBCol = wmma::fragment<wmma::matrix_b, 16, 16, 16, X, wmma::col_major>;
using FragC = wmma::fragment<wmma::accumulator, 16, 16, 16, float>;

// out (16 x 16 n, row stride ldo floats) = a (16 x D, row-major, stride lda) times b^T, b (16 n x D)
// row-major with stride ldb: the scores of 16 rows against 16 n keys. With fragments qa (the D/16
// A fragments already loaded), a is not read.
template <typename X, int D, int N>
__device__ __forceinline__ void ah_scores(float* out, int ldo, const X* a, int lda, const X* b, int ldb,
                                          const FragA<X>* qa = nullptr) {
#pragma unroll
    for (int j = 0; j < N; j++) {
        FragC acc;
        wmma::fill_fragment(acc, 0.0f);
#pragma unroll
        for (int kk = 0; kk < D / 16; kk++) {
            FragBCol<X> fb;
            wmma::load_matrix_sync(fb, b + j * 16 * ldb + kk * 16, ldb);
            if (qa != nullptr) {
                wmma::mma_sync(acc, qa[kk], fb, acc);
            } else {
                FragA<X> fa;
                wmma::load_matrix_sync(fa, a + kk * 16, lda);
                wmma::mma_sync(acc, fa, fb, acc);
            }
        }
        wmma::store_matrix_sync(out + j * 16, acc, ldo, wmma::mem_row_major);
    }
}

// acc[n] += a (16 x 32, row-major, stride lda) times b (32 x D, row-major, stride ldb), column block n.
template <typename X, int D>
__device__ __forceinline__ void ah_accumulate(FragC* acc, const X* a, int lda, const X* b, int ldb) {
#pragma unroll
    for (int kk = 0; kk < 2; kk++) {
        FragA<X> fa;
        wmma::load_matrix_sync(fa, a + kk * 16, lda);
#pragma unroll
        for (int n = 0; n < D / 16; n++) {
            FragBRow<X> fb;
            wmma::load_matrix_sync(fb, b + kk * 16 * ldb + n * 16, ldb);
            wmma::mma_sync(acc[n], fa, fb, acc[n]);
        }
    }
}

// Writes the warp's 16 x D fp32 fragments times mul to rows t0 .. t0 + 15 (< T) of head h of dst,
// 32 columns at a time through the warp's scratch (16 x 32, stride sld): lane pairs own rows.
template <typename X, int D>
__device__ __forceinline__ void ah_write(X* dst, FragC* acc, float* scratch, int sld, float mul, int b, int t0, int h,
                                         int T, int H) {
    const int lane = threadIdx.x % WARP_SIZE, r = lane / 2, c0 = (lane % 2) * 16;
#pragma unroll
    for (int n = 0; n < D / 16; n += 2) {
        wmma::store_matrix_sync(scratch, acc[n], sld, wmma::mem_row_major);
        wmma::store_matrix_sync(scratch + 16, acc[n + 1], sld, wmma::mem_row_major);
        __syncwarp();
        if (t0 + r < T) ah_store16<X>(dst + ah_index(b, t0 + r, h, T, H, D) + n * 16 + c0, scratch + r * sld + c0, mul);
        __syncwarp();
    }
}

// ----------------------------------------------------------------------------
// CUDA kernels (templates; the extern "C" entry points are at the end)

// grid (CEIL_DIV(T, 64), H, B), block 128: warp w owns query rows q0 + 16 w .. + 15 (its Q
// fragments stay in registers). Per step of 32 keys: S (16 x 32) on tensor cores into the warp's
// scratch; lane pair (2r, 2r + 1) owns row r, 16 keys each, for the online softmax in fp32 and
// writes the dropped weights P' in the format and the row's correction exp(m_old - m_new); the
// output accumulates P' V in fp32 fragments, rescaled row by row first. Fragments are opaque, so
// the row of each accumulator element comes from loading a matrix whose element (i, j) is i into
// a fragment of the same type (elementwise fragment code is valid under any layout).
template <typename X, int D>
__device__ void ah_forward(X* o, float* stats, const X* q, const X* k, const X* v, const int* lengths, int T, int H,
                           float scale, float mask_value, AhDropout drop) {
    constexpr int LD = D + AH_PAD, SLD = AH_KT + AH_FPAD, PLD = AH_KT + AH_PAD, KH = AH_KT / 2;
    __shared__ __align__(32) X qs[AH_QT * LD];
    __shared__ __align__(32) X ks[AH_KT * LD];
    __shared__ __align__(32) X vs[AH_KT * LD];
    __shared__ __align__(32) float scratch[AH_WARPS][16 * SLD];
    __shared__ __align__(32) X ps[AH_WARPS][16 * PLD];
    __shared__ float rowf[AH_WARPS][16];  // per-row factor of the warp's rows: correction, then 1 / l
    const int q0 = blockIdx.x * AH_QT, h = blockIdx.y, b = blockIdx.z, bh = b * H + h;
    const int len = lengths == nullptr ? T : lengths[b];
    const int lane = threadIdx.x % WARP_SIZE, warp = threadIdx.x / WARP_SIZE;
    const int r = lane / 2, t = q0 + warp * 16 + r, kc0 = (lane % 2) * KH;
    float* sw = scratch[warp];
    X* pw = ps[warp];
    float* fw = rowf[warp];
    ah_load<X, D>(qs, LD, q, b, q0, AH_QT, h, T, H);
    for (int e = lane; e < 256; e += WARP_SIZE) sw[(e / 16) * SLD + e % 16] = (float)(e / 16);
    __syncthreads();
    FragA<X> qa[D / 16];
#pragma unroll
    for (int kk = 0; kk < D / 16; kk++) wmma::load_matrix_sync(qa[kk], qs + warp * 16 * LD + kk * 16, LD);
    FragC rows, acc[D / 16];
    wmma::load_matrix_sync(rows, sw, SLD, wmma::mem_row_major);
#pragma unroll
    for (int n = 0; n < D / 16; n++) wmma::fill_fragment(acc[n], 0.0f);
    float m = -INFINITY, l = 0.0f;
    for (int k0 = 0; k0 < T; k0 += AH_KT) {
        __syncthreads();  // previous tile consumed (and the row matrix read on the first pass)
        ah_load<X, D>(ks, LD, k, b, k0, AH_KT, h, T, H);
        ah_load<X, D>(vs, LD, v, b, k0, AH_KT, h, T, H);
        __syncthreads();
        ah_scores<X, D, AH_KT / 16>(sw, SLD, nullptr, 0, ks, LD, qa);
        __syncwarp();
        float s[KH], mx = -INFINITY;
#pragma unroll
        for (int i = 0; i < KH; i++) {
            const int key = k0 + kc0 + i;
            float sv = sw[r * SLD + kc0 + i] * scale;
            if (key >= T) sv = -INFINITY;
            else if (key >= len) sv = mask_value;
            s[i] = sv;
            mx = fmaxf(mx, sv);
        }
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
        const float m_new = fmaxf(m, mx);  // finite: key k0 < T
        const float corr = expf(m - m_new);
        float sum = 0.0f;
#pragma unroll
        for (int i = 0; i < KH; i++) {
            const int key = k0 + kc0 + i;
            const float p = expf(s[i] - m_new);
            sum += p;
            pw[r * PLD + kc0 + i] = ah_round<X>(key < T && t < T ? drop.apply(p, bh, t, key, T) : p);
        }
        sum += __shfl_xor_sync(0xffffffffu, sum, 1);
        l = l * corr + sum;  // the softmax's normaliser: weights before dropout
        m = m_new;
        if (lane % 2 == 0) fw[r] = corr;
        __syncwarp();
#pragma unroll
        for (int n = 0; n < D / 16; n++)
#pragma unroll
            for (int e = 0; e < acc[n].num_elements; e++) acc[n].x[e] *= fw[(int)rows.x[e]];
        ah_accumulate<X, D>(acc, pw, PLD, vs, LD);
    }
    __syncwarp();  // every lane's corrections read
    if (lane % 2 == 0) fw[r] = 1.0f / l;
    __syncwarp();
#pragma unroll
    for (int n = 0; n < D / 16; n++)
#pragma unroll
        for (int e = 0; e < acc[n].num_elements; e++) acc[n].x[e] *= fw[(int)rows.x[e]];
    ah_write<X, D>(o, acc, sw, SLD, 1.0f, b, q0 + warp * 16, h, T, H);
    if (t < T && lane % 2 == 0) {
        const size_t row = (size_t)bh * T + t;
        stats[2 * row] = m;
        stats[2 * row + 1] = logf(l);
    }
}

// Dd[b, h, t] = sum_c dO[b, t, h, c] o[b, t, h, c] in fp32: one warp per row (b, t, h); grid
// CEIL_DIV(B T H, 4), block 128.
template <typename X, int D>
__device__ void ah_backward_dot(float* dd, const X* dout, const X* o, int B, int T, int H) {
    const int lane = threadIdx.x % WARP_SIZE;
    const long long row = (long long)blockIdx.x * AH_WARPS + threadIdx.x / WARP_SIZE;  // (b T + t) H + h
    if (row >= (long long)B * T * H) return;
    float s = 0.0f;
#pragma unroll
    for (int c = lane; c < D; c += WARP_SIZE) s = fmaf(ah_float(dout[row * D + c]), ah_float(o[row * D + c]), s);
    s = warp_reduce_sum(s);
    const int h = (int)(row % H);
    const long long bt = row / H;
    const int t = (int)(bt % T), b = (int)(bt / T);
    if (lane == 0) dd[((size_t)b * H + h) * T + t] = s;
}

// dq. grid (CEIL_DIV(T, 64), H, B), block 128: rows as the forward (the warp's Q and dO fragments
// stay in registers). Per step of 32 keys: S and
// dP' = dO V^T (16 x 32 each, one after the other through the warp's scratch), lane pairs compute
// ds for row r, 16 keys each, into the warp's dS tile in the format; dq (16 x Dh) accumulates
// dS K in fp32 fragments across the steps.
template <typename X, int D>
__device__ void ah_backward_dq(X* dq, const X* q, const X* k, const X* v, const X* dout, const float* stats,
                               const float* dd, const int* lengths, int T, int H, float scale, AhDropout drop) {
    constexpr int LD = D + AH_PAD, SLD = AH_KT + AH_FPAD, PLD = AH_KT + AH_PAD, KH = AH_KT / 2;
    __shared__ __align__(32) X qs[AH_QT * LD];
    __shared__ __align__(32) X dos[AH_QT * LD];
    __shared__ __align__(32) X ks[AH_KT * LD];
    __shared__ __align__(32) X vs[AH_KT * LD];
    __shared__ __align__(32) float scratch[AH_WARPS][16 * SLD];
    __shared__ __align__(32) X dsm[AH_WARPS][16 * PLD];
    const int q0 = blockIdx.x * AH_QT, h = blockIdx.y, b = blockIdx.z, bh = b * H + h;
    const int len = lengths == nullptr ? T : lengths[b];
    const int lane = threadIdx.x % WARP_SIZE, warp = threadIdx.x / WARP_SIZE;
    const int r = lane / 2, t = q0 + warp * 16 + r, kc0 = (lane % 2) * KH;
    float* sw = scratch[warp];
    X* dw = dsm[warp];
    ah_load<X, D>(qs, LD, q, b, q0, AH_QT, h, T, H);
    ah_load<X, D>(dos, LD, dout, b, q0, AH_QT, h, T, H);
    const size_t srow = (size_t)bh * T + t;
    const float rm = t < T ? stats[2 * srow] : 0.0f, rl = t < T ? stats[2 * srow + 1] : 0.0f;
    const float rd = t < T ? dd[srow] : 0.0f;
    FragC acc[D / 16];
#pragma unroll
    for (int n = 0; n < D / 16; n++) wmma::fill_fragment(acc[n], 0.0f);
    __syncthreads();
    FragA<X> qa[D / 16], da[D / 16];  // the warp's rows of q and dO stay in registers
#pragma unroll
    for (int kk = 0; kk < D / 16; kk++) {
        wmma::load_matrix_sync(qa[kk], qs + warp * 16 * LD + kk * 16, LD);
        wmma::load_matrix_sync(da[kk], dos + warp * 16 * LD + kk * 16, LD);
    }
    for (int k0 = 0; k0 < T; k0 += AH_KT) {
        __syncthreads();
        ah_load<X, D>(ks, LD, k, b, k0, AH_KT, h, T, H);
        ah_load<X, D>(vs, LD, v, b, k0, AH_KT, h, T, H);
        __syncthreads();
        ah_scores<X, D, AH_KT / 16>(sw, SLD, nullptr, 0, ks, LD, qa);
        __syncwarp();
        float p[KH];
#pragma unroll
        for (int i = 0; i < KH; i++) {
            const int key = k0 + kc0 + i;  // padded keys (constant score) and keys beyond T: no gradient
            p[i] = key < len && t < T ? expf((sw[r * SLD + kc0 + i] * scale - rm) - rl) : 0.0f;
        }
        __syncwarp();
        ah_scores<X, D, AH_KT / 16>(sw, SLD, nullptr, 0, vs, LD, da);
        __syncwarp();
#pragma unroll
        for (int i = 0; i < KH; i++) {
            const int key = k0 + kc0 + i;
            const float dp = sw[r * SLD + kc0 + i];
            dw[r * PLD + kc0 + i] = ah_round<X>(key < len && t < T ? p[i] * (drop.apply(dp, bh, t, key, T) - rd) : 0.0f);
        }
        __syncwarp();
        ah_accumulate<X, D>(acc, dw, PLD, ks, LD);
    }
    __syncwarp();
    ah_write<X, D>(dq, acc, sw, SLD, scale, b, q0 + warp * 16, h, T, H);
}

// dk and dv. grid (CEIL_DIV(T, 64), H, B), block 128: warp w owns keys k0 + 16 w .. + 15 and
// accumulates their dk, dv (16 x Dh each) in fp32 fragments over every query row, 32 rows per
// step: S^T = K Q^T and dP'^T = V dO^T (16 keys x 32 rows, one after the other through the
// scratch), lane pairs own key r, 16 rows each, and write P'^T and dS^T in the format; then
// dv += P'^T dO and dk += dS^T Q on tensor cores.
template <typename X, int D>
__device__ void ah_backward_dkdv(X* dk, X* dv, const X* q, const X* k, const X* v, const X* dout, const float* stats,
                                 const float* dd, const int* lengths, int T, int H, float scale, float mask_value,
                                 AhDropout drop) {
    constexpr int LD = D + AH_PAD, SLD = AH_QB + AH_FPAD, PLD = AH_QB + AH_PAD, QH = AH_QB / 2;
    __shared__ __align__(32) X ks[AH_KB * LD];
    __shared__ __align__(32) X vs[AH_KB * LD];
    __shared__ __align__(32) X qs[AH_QB * LD];
    __shared__ __align__(32) X dos[AH_QB * LD];
    __shared__ float lm[AH_QB], ll[AH_QB], ldd[AH_QB];
    __shared__ __align__(32) float scratch[AH_WARPS][16 * SLD];
    __shared__ __align__(32) X pts[AH_WARPS][16 * PLD];
    __shared__ __align__(32) X dts[AH_WARPS][16 * PLD];
    const int k0 = blockIdx.x * AH_KB, h = blockIdx.y, b = blockIdx.z, bh = b * H + h;
    const int len = lengths == nullptr ? T : lengths[b];
    const int lane = threadIdx.x % WARP_SIZE, warp = threadIdx.x / WARP_SIZE;
    const int r = lane / 2, key = k0 + warp * 16 + r, qc0 = (lane % 2) * QH;
    float* sw = scratch[warp];
    X* pw = pts[warp];
    X* dw = dts[warp];
    ah_load<X, D>(ks, LD, k, b, k0, AH_KB, h, T, H);
    ah_load<X, D>(vs, LD, v, b, k0, AH_KB, h, T, H);
    FragC gk[D / 16], gv[D / 16];
#pragma unroll
    for (int n = 0; n < D / 16; n++) {
        wmma::fill_fragment(gk[n], 0.0f);
        wmma::fill_fragment(gv[n], 0.0f);
    }
    for (int i0 = 0; i0 < T; i0 += AH_QB) {
        __syncthreads();
        ah_load<X, D>(qs, LD, q, b, i0, AH_QB, h, T, H);
        ah_load<X, D>(dos, LD, dout, b, i0, AH_QB, h, T, H);
        if (threadIdx.x < AH_QB) {
            const int t = i0 + threadIdx.x;
            const size_t row = (size_t)bh * T + t;
            lm[threadIdx.x] = t < T ? stats[2 * row] : 0.0f;
            ll[threadIdx.x] = t < T ? stats[2 * row + 1] : 0.0f;
            ldd[threadIdx.x] = t < T ? dd[row] : 0.0f;
        }
        __syncthreads();
        ah_scores<X, D, AH_QB / 16>(sw, SLD, ks + warp * 16 * LD, LD, qs, LD);
        __syncwarp();
        float p[QH];
#pragma unroll
        for (int i = 0; i < QH; i++) {
            const int ir = qc0 + i, t = i0 + ir;
            float w = 0.0f;
            if (key < T && t < T) {
                const float sv = key < len ? sw[r * SLD + ir] * scale : mask_value;  // padded key: constant score
                w = expf((sv - lm[ir]) - ll[ir]);
            }
            p[i] = w;
        }
        __syncwarp();
        ah_scores<X, D, AH_QB / 16>(sw, SLD, vs + warp * 16 * LD, LD, dos, LD);
        __syncwarp();
#pragma unroll
        for (int i = 0; i < QH; i++) {
            const int ir = qc0 + i, t = i0 + ir;
            float ds = 0.0f, pd = 0.0f;
            if (key < T && t < T) {
                if (key < len) ds = p[i] * (drop.apply(sw[r * SLD + ir], bh, t, key, T) - ldd[ir]);
                pd = drop.apply(p[i], bh, t, key, T);  // dv takes the dropped weights
            }
            pw[r * PLD + ir] = ah_round<X>(pd);
            dw[r * PLD + ir] = ah_round<X>(ds);
        }
        __syncwarp();
        ah_accumulate<X, D>(gv, pw, PLD, dos, LD);
        ah_accumulate<X, D>(gk, dw, PLD, qs, LD);
    }
    __syncwarp();
    ah_write<X, D>(dk, gk, sw, SLD, scale, b, k0 + warp * 16, h, T, H);
    ah_write<X, D>(dv, gv, sw, SLD, 1.0f, b, k0 + warp * 16, h, T, H);
}

// ----------------------------------------------------------------------------
// entry points, one per head dimension and format (f16: __half, bf16: __nv_bfloat16)

// Dropout arguments (seed, threshold = ceil(pdrop 2^53), keep_scale = (float) (1 / (1 - pdrop))) of
// the forward, dq and dkdv kernels must be the same in one forward/backward pair. seeds/slot: when seeds
// is non-null the seed is read from that device seed table slot instead (dropout_seed in dropout.cuh).
#define AH_ENTRY_POINTS(D, X, S)                                                                               \
    extern "C" __global__ void __launch_bounds__(AH_THREADS) attention_half_forward_kernel_hd##D##_##S(        \
        X* o, float* stats, const X* q, const X* k, const X* v, const int* lengths, int T, int H, float scale, \
        float mask_value, unsigned long long seed, const float* seeds, int slot, unsigned long long threshold, \
        float keep_scale) {                                                                                    \
        ah_forward<X, D>(o, stats, q, k, v, lengths, T, H, scale, mask_value,                                  \
                         AhDropout{dropout_seed(seeds, slot, seed), threshold, keep_scale});                   \
    }                                                                                                          \
    extern "C" __global__ void __launch_bounds__(AH_THREADS) attention_half_backward_dot_kernel_hd##D##_##S(   \
        float* dd, const X* dout, const X* o, int B, int T, int H) {                                           \
        ah_backward_dot<X, D>(dd, dout, o, B, T, H);                                                           \
    }                                                                                                          \
    extern "C" __global__ void __launch_bounds__(AH_THREADS) attention_half_backward_dq_kernel_hd##D##_##S(    \
        X* dq, const X* q, const X* k, const X* v, const X* dout, const float* stats, const float* dd,         \
        const int* lengths, int T, int H, float scale, unsigned long long seed, const float* seeds, int slot,  \
        unsigned long long threshold, float keep_scale) {                                                      \
        ah_backward_dq<X, D>(dq, q, k, v, dout, stats, dd, lengths, T, H, scale,                               \
                             AhDropout{dropout_seed(seeds, slot, seed), threshold, keep_scale});               \
    }                                                                                                          \
    extern "C" __global__ void __launch_bounds__(AH_THREADS) attention_half_backward_dkdv_kernel_hd##D##_##S(  \
        X* dk, X* dv, const X* q, const X* k, const X* v, const X* dout, const float* stats, const float* dd,  \
        const int* lengths, int T, int H, float scale, float mask_value, unsigned long long seed,              \
        const float* seeds, int slot, unsigned long long threshold, float keep_scale) {                        \
        ah_backward_dkdv<X, D>(dk, dv, q, k, v, dout, stats, dd, lengths, T, H, scale, mask_value,             \
                               AhDropout{dropout_seed(seeds, slot, seed), threshold, keep_scale});             \
    }

AH_ENTRY_POINTS(32, __half, f16)
AH_ENTRY_POINTS(64, __half, f16)
AH_ENTRY_POINTS(32, __nv_bfloat16, bf16)
AH_ENTRY_POINTS(64, __nv_bfloat16, bf16)

// ----------------------------------------------------------------------------
// launch geometry: block (128, 1, 1) for all four kernels, static shared memory only (at most
// 47 KiB at Dh 64: dkdv's 64 keys and values plus a 32-row step). forward and dq: grid
// (CEIL_DIV(T, 64), H, B); dot: grid (CEIL_DIV(B T H, 4), 1, 1); dkdv: grid (CEIL_DIV(T, 64), H, B).
// H, B <= 65535; C = H Dh a multiple of 8 (16-byte rows). Order of the backward: dot, then dq and
// dkdv (independent). Tensor cores: wmma 16x16x16 with fp32 accumulators (sm_80 and later).
