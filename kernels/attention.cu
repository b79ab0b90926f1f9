// Fused multi-head attention (flash-attention style), fp32, forward and backward by recomputation.
// Per batch b, head h, with Dh = head dimension (32 or 64), a score scale (usually 1 / sqrt(Dh)) and
// a mask value (MultiHeadAttention.MASK_VALUE = -1e4):
//   qs  = q * scale                                 (rounded to fp32 first)
//   s   = qs k^T, with s[i, j] = mask value for keys j >= len_b (replaced, not added)  (T, T)
//   p   = softmax(s)
//   p'  = p * keep / (1 - pdrop), keep[i, j] = dropout_keep(seed, ((b H + h) T + i) T + j, threshold)
//   o   = p' v                                                                         (T, Dh)
// exactly lmu.nn.MultiHeadAttention's core (MaskedFill on padded keys, softmax, Dropout): a row whose
// keys are all padded (len_b = 0) averages every frame uniformly. The dropout counter is the element
// index of the (B H, T, T) weight tensor, so the mask is the one lmu.backend.cpu.CpuAttention and
// Backend.dropout on that tensor draw (dropout.cuh); threshold 0 means no dropout (no hashing).
// Query rows at padded frames are computed like the others. No T x T matrix is stored: the forward
// keeps the softmax's statistics per row, stats (B, H, T, 2) = (row max m, log of the sum l of
// exp(s - m)), of the weights before dropout; the backward recomputes p = exp((s - m) - log l) (two
// floats rather than one log-sum-exp, which near the mask value would keep only about 3 decimal
// digits in fp32) and redraws keep:
//   Dd[i] = sum dO[i] o[i] (= sum_j dp'[i, j] p'[i, j]);  dp' = dO v^T;  dp = dp' keep / (1 - pdrop)
//   ds = p (dp - Dd) (0 on padded keys: s is a constant there)
//   dq = scale * ds k;  dk = ds^T qs;  dv = p'^T dO
// Layouts, row-major fp32: q, k, v, o, dO, dq, dk, dv (B, T, H, Dh), i.e. (B, T, C) with C = H Dh and
// head h at channels h Dh .. h Dh + Dh - 1 (the output of the projections, no permute needed);
// stats (B, H, T, 2); Dd (B, H, T); lengths (B) int32 or null (no padding). dq, dk, dv are written
// (=), each by exactly one thread (deterministic).
#include "common.cuh"
#include "dropout.cuh"

#define ATT_WARPS 4
#define ATT_ROWS 8                      // query rows per warp (forward, dq)
#define ATT_QT (ATT_WARPS * ATT_ROWS)   // 32 query rows per block
#define ATT_KT 32                       // keys per tile (forward, dq): one per lane
#define ATT_KW 16                       // keys per warp (dk/dv)
#define ATT_KB (ATT_WARPS * ATT_KW)     // 64 keys per block (dk/dv)
#define ATT_QB 16                       // query rows per step (dk/dv)

__device__ __forceinline__ size_t att_index(int b, int t, int h, int T, int H, int D) {
    return (((size_t)b * T + t) * H + h) * D;
}

// Dropout of one attention weight: w * keep_scale if element (bh, t, key) of the (B H, T, T) weights
// is kept, 0 if dropped; w itself when threshold is 0 (no dropout).
struct AttDropout {
    unsigned long long seed, threshold;
    float keep_scale;
    __device__ __forceinline__ float apply(float w, int bh, int t, int key, int T) const {
        if (threshold == 0ull) return w;
        const unsigned long long counter = ((unsigned long long)bh * T + t) * T + key;
        return dropout_keep(seed, counter, threshold) ? w * keep_scale : 0.0f;
    }
};

// Loads rows r0 .. r0 + rows - 1 of head h into dst (row stride ld), times mul; zero beyond T.
template <int D>
__device__ __forceinline__ void att_load(float* dst, int ld, const float* src, int b, int r0, int rows, int h, int T,
                                         int H, float mul) {
    for (int e = threadIdx.x; e < rows * D; e += blockDim.x) {
        const int r = e / D, c = e % D;
        const int t = r0 + r;
        dst[r * ld + c] = t < T ? src[att_index(b, t, h, T, H, D) + c] * mul : 0.0f;
    }
}

// ----------------------------------------------------------------------------
// CUDA kernels (templates; the extern "C" entry points are at the end)

// Key and value rows in shared memory are D + 4 floats apart: 16-byte aligned for float4 loads, and
// the 8 lanes of a quarter-warp reading 8 consecutive rows hit 32 distinct banks.
#define ATT_KV_STRIDE(D) ((D) + 4)

// s[r] = sum_c rows[r][c] * key[c] for the warp's ATT_ROWS query rows (row stride D, broadcast
// reads) and this lane's key row, both read as float4.
template <int D>
__device__ __forceinline__ void att_scores(float* s, const float* rows, const float* key) {
#pragma unroll
    for (int r = 0; r < ATT_ROWS; r++) s[r] = 0.0f;
#pragma unroll
    for (int c = 0; c < D; c += 4) {
        const float4 kv = *reinterpret_cast<const float4*>(key + c);
#pragma unroll
        for (int r = 0; r < ATT_ROWS; r++) {
            const float4 qv = *reinterpret_cast<const float4*>(rows + r * D + c);
            s[r] = fmaf(qv.x, kv.x, fmaf(qv.y, kv.y, fmaf(qv.z, kv.z, fmaf(qv.w, kv.w, s[r]))));
        }
    }
}

// acc[r][c] += sum_j w[r][j] * mat[j][lane + 32 c] over the ATT_KT keys of a tile: w is the warp's
// (ATT_ROWS, ATT_KT) weights in shared memory (float4 broadcast reads), mat a key-major tile with
// rows ATT_KV_STRIDE(D) apart.
template <int D>
__device__ __forceinline__ void att_accumulate(float (*acc)[D / WARP_SIZE], const float* w, const float* mat) {
    constexpr int DC = D / WARP_SIZE;
    const int lane = threadIdx.x % WARP_SIZE;
#pragma unroll
    for (int j = 0; j < ATT_KT; j += 4) {
        float mv[4][DC];
#pragma unroll
        for (int jj = 0; jj < 4; jj++)
#pragma unroll
            for (int c = 0; c < DC; c++) mv[jj][c] = mat[(j + jj) * ATT_KV_STRIDE(D) + lane + WARP_SIZE * c];
#pragma unroll
        for (int r = 0; r < ATT_ROWS; r++) {
            const float4 wv = *reinterpret_cast<const float4*>(w + r * ATT_KT + j);
#pragma unroll
            for (int c = 0; c < DC; c++)
                acc[r][c] = fmaf(wv.x, mv[0][c], fmaf(wv.y, mv[1][c], fmaf(wv.z, mv[2][c], fmaf(wv.w, mv[3][c], acc[r][c]))));
        }
    }
}

// grid (CEIL_DIV(T, 32), H, B), block 128: warp w owns query rows q0 + 8w .. q0 + 8w + 7. Per key
// tile, lane j scores key k0 + j against all 8 rows at once (its key row read once as float4s, the
// query rows broadcast), the weights go through shared memory, then lanes own the output
// dimensions lane + 32 c and read 4 weights of a row per float4 (register blocking keeps the
// kernel from being bound by shared-memory loads).
template <int D>
__device__ void attention_forward(float* o, float* stats, const float* q, const float* k, const float* v,
                                  const int* lengths, int T, int H, float scale, float mask_value, AttDropout drop) {
    constexpr int DC = D / WARP_SIZE;
    __shared__ __align__(16) float qs[ATT_QT][D];
    __shared__ __align__(16) float ks[ATT_KT][ATT_KV_STRIDE(D)];
    __shared__ __align__(16) float vs[ATT_KT][ATT_KV_STRIDE(D)];
    __shared__ __align__(16) float ps[ATT_WARPS][ATT_ROWS][ATT_KT];
    const int q0 = blockIdx.x * ATT_QT, h = blockIdx.y, b = blockIdx.z;
    const int len = lengths == nullptr ? T : lengths[b];
    const int lane = threadIdx.x % WARP_SIZE, warp = threadIdx.x / WARP_SIZE;
    att_load<D>(&qs[0][0], D, q, b, q0, ATT_QT, h, T, H, scale);
    float m[ATT_ROWS], l[ATT_ROWS], acc[ATT_ROWS][DC];
#pragma unroll
    for (int r = 0; r < ATT_ROWS; r++) {
        m[r] = -INFINITY;
        l[r] = 0.0f;
#pragma unroll
        for (int c = 0; c < DC; c++) acc[r][c] = 0.0f;
    }
    for (int k0 = 0; k0 < T; k0 += ATT_KT) {
        __syncthreads();  // previous tile consumed (and qs loaded on the first pass)
        att_load<D>(&ks[0][0], ATT_KV_STRIDE(D), k, b, k0, ATT_KT, h, T, H, 1.0f);
        att_load<D>(&vs[0][0], ATT_KV_STRIDE(D), v, b, k0, ATT_KT, h, T, H, 1.0f);
        __syncthreads();
        const int key = k0 + lane;
        float s[ATT_ROWS];
        att_scores<D>(s, &qs[warp * ATT_ROWS][0], &ks[lane][0]);
#pragma unroll
        for (int r = 0; r < ATT_ROWS; r++) {
            float sr = s[r];
            if (key >= T) sr = -INFINITY;
            else if (key >= len) sr = mask_value;
            const float m_new = fmaxf(m[r], warp_reduce_max(sr));
            const float p = expf(sr - m_new);
            const float corr = expf(m[r] - m_new);
            l[r] = l[r] * corr + warp_reduce_sum(p);  // the softmax's normaliser: weights before dropout
            m[r] = m_new;
#pragma unroll
            for (int c = 0; c < DC; c++) acc[r][c] *= corr;
            const int t = q0 + warp * ATT_ROWS + r;
            ps[warp][r][lane] = key < T && t < T ? drop.apply(p, b * H + h, t, key, T) : p;
        }
        __syncwarp();
        att_accumulate<D>(acc, &ps[warp][0][0], &vs[0][0]);
        __syncwarp();
    }
#pragma unroll
    for (int r = 0; r < ATT_ROWS; r++) {
        const int t = q0 + warp * ATT_ROWS + r;
        if (t >= T) continue;
        const float inv = 1.0f / l[r];
#pragma unroll
        for (int c = 0; c < DC; c++) o[att_index(b, t, h, T, H, D) + lane + WARP_SIZE * c] = acc[r][c] * inv;
        if (lane == 0) {
            const size_t row = ((size_t)b * H + h) * T + t;
            stats[2 * row] = m[r];
            stats[2 * row + 1] = logf(l[r]);
        }
    }
}

// Dd[b, h, t] = sum_c dO[b, t, h, c] * o[b, t, h, c]: one warp per row (b, t, h); grid
// CEIL_DIV(B T H, 4), block 128.
template <int D>
__device__ void attention_backward_dot(float* dd, const float* dout, const float* o, int B, int T, int H) {
    const int lane = threadIdx.x % WARP_SIZE;
    const long long row = (long long)blockIdx.x * ATT_WARPS + threadIdx.x / WARP_SIZE;  // (b * T + t) * H + h
    if (row >= (long long)B * T * H) return;
    float s = 0.0f;
#pragma unroll
    for (int c = lane; c < D; c += WARP_SIZE) s = fmaf(dout[row * D + c], o[row * D + c], s);
    s = warp_reduce_sum(s);
    const int h = (int)(row % H);
    const long long bt = row / H;
    const int t = (int)(bt % T), b = (int)(bt / T);
    if (lane == 0) dd[((size_t)b * H + h) * T + t] = s;
}

// dq. grid (CEIL_DIV(T, 32), H, B), block 128: rows as the forward; per key tile lane j recomputes
// p and ds of key k0 + j for the warp's 8 rows, then lanes own the dimensions lane + 32 c of dq.
template <int D>
__device__ void attention_backward_dq(float* dq, const float* q, const float* k, const float* v, const float* dout,
                                      const float* stats, const float* dd, const int* lengths, int T, int H,
                                      float scale, AttDropout drop) {
    constexpr int DC = D / WARP_SIZE;
    __shared__ __align__(16) float qs[ATT_QT][D];
    __shared__ __align__(16) float dos[ATT_QT][D];
    __shared__ __align__(16) float ks[ATT_KT][ATT_KV_STRIDE(D)];
    __shared__ __align__(16) float vs[ATT_KT][ATT_KV_STRIDE(D)];
    __shared__ __align__(16) float dss[ATT_WARPS][ATT_ROWS][ATT_KT];
    const int q0 = blockIdx.x * ATT_QT, h = blockIdx.y, b = blockIdx.z;
    const int len = lengths == nullptr ? T : lengths[b];
    const int lane = threadIdx.x % WARP_SIZE, warp = threadIdx.x / WARP_SIZE;
    att_load<D>(&qs[0][0], D, q, b, q0, ATT_QT, h, T, H, scale);
    att_load<D>(&dos[0][0], D, dout, b, q0, ATT_QT, h, T, H, 1.0f);
    float rm[ATT_ROWS], rl[ATT_ROWS], rd[ATT_ROWS], acc[ATT_ROWS][DC];
#pragma unroll
    for (int r = 0; r < ATT_ROWS; r++) {
        const int t = q0 + warp * ATT_ROWS + r;
        rm[r] = t < T ? stats[2 * (((size_t)b * H + h) * T + t)] : 0.0f;
        rl[r] = t < T ? stats[2 * (((size_t)b * H + h) * T + t) + 1] : 0.0f;
        rd[r] = t < T ? dd[((size_t)b * H + h) * T + t] : 0.0f;
#pragma unroll
        for (int c = 0; c < DC; c++) acc[r][c] = 0.0f;
    }
    for (int k0 = 0; k0 < T; k0 += ATT_KT) {
        __syncthreads();
        att_load<D>(&ks[0][0], ATT_KV_STRIDE(D), k, b, k0, ATT_KT, h, T, H, 1.0f);
        att_load<D>(&vs[0][0], ATT_KV_STRIDE(D), v, b, k0, ATT_KT, h, T, H, 1.0f);
        __syncthreads();
        const int key = k0 + lane;
        float s[ATT_ROWS], dp[ATT_ROWS];
        att_scores<D>(s, &qs[warp * ATT_ROWS][0], &ks[lane][0]);
        att_scores<D>(dp, &dos[warp * ATT_ROWS][0], &vs[lane][0]);
#pragma unroll
        for (int r = 0; r < ATT_ROWS; r++) {
            // padded keys (constant score) and keys beyond T: no gradient
            const int t = q0 + warp * ATT_ROWS + r;
            dss[warp][r][lane] = key < len && t < T
                                     ? expf((s[r] - rm[r]) - rl[r]) * (drop.apply(dp[r], b * H + h, t, key, T) - rd[r])
                                     : 0.0f;
        }
        __syncwarp();
        att_accumulate<D>(acc, &dss[warp][0][0], &ks[0][0]);
        __syncwarp();
    }
#pragma unroll
    for (int r = 0; r < ATT_ROWS; r++) {
        const int t = q0 + warp * ATT_ROWS + r;
        if (t >= T) continue;
#pragma unroll
        for (int c = 0; c < DC; c++) dq[att_index(b, t, h, T, H, D) + lane + WARP_SIZE * c] = acc[r][c] * scale;
    }
}

// dk and dv. grid (CEIL_DIV(T, 64), H, B), block 128: warp w owns keys k0 + 16 w .. k0 + 16 w + 15
// and accumulates their dk, dv in registers (lanes over dimensions lane + 32 c) while looping over
// every query row, 4 rows per pass. Scores s = qs k and dp = dO v of the 16 keys x 4 rows are
// computed by lane pairs (key lane % 16; dimensions split in two contiguous halves, float4 loads)
// and handed to the accumulation through shared memory (float4 broadcast reads).
#define ATT_RB 4  // query rows per pass (dk/dv)
template <int D>
__device__ void attention_backward_dkdv(float* dk, float* dv, const float* q, const float* k, const float* v,
                                        const float* dout, const float* stats, const float* dd, const int* lengths,
                                        int T, int H, float scale, float mask_value, AttDropout drop) {
    constexpr int DC = D / WARP_SIZE;
    constexpr int HALF = D / 2;
    __shared__ __align__(16) float ks[ATT_KB][ATT_KV_STRIDE(D)];
    __shared__ __align__(16) float vs[ATT_KB][ATT_KV_STRIDE(D)];
    __shared__ __align__(16) float qs[ATT_QB][D];
    __shared__ __align__(16) float dos[ATT_QB][D];
    __shared__ float lm[ATT_QB];
    __shared__ float ls[ATT_QB];
    __shared__ float ds_[ATT_QB];
    __shared__ __align__(16) float pw[ATT_WARPS][ATT_RB][ATT_KW];
    __shared__ __align__(16) float dw[ATT_WARPS][ATT_RB][ATT_KW];
    const int k0 = blockIdx.x * ATT_KB, h = blockIdx.y, b = blockIdx.z;
    const int len = lengths == nullptr ? T : lengths[b];
    const int lane = threadIdx.x % WARP_SIZE, warp = threadIdx.x / WARP_SIZE;
    const int j = lane % ATT_KW, half = lane / ATT_KW;
    const int kr = warp * ATT_KW + j;  // this lane's key row in ks, vs
    const int key = k0 + kr;
    att_load<D>(&ks[0][0], ATT_KV_STRIDE(D), k, b, k0, ATT_KB, h, T, H, 1.0f);
    att_load<D>(&vs[0][0], ATT_KV_STRIDE(D), v, b, k0, ATT_KB, h, T, H, 1.0f);
    float gk[ATT_KW][DC], gv[ATT_KW][DC];
#pragma unroll
    for (int jj = 0; jj < ATT_KW; jj++)
#pragma unroll
        for (int c = 0; c < DC; c++) gk[jj][c] = gv[jj][c] = 0.0f;
    for (int i0 = 0; i0 < T; i0 += ATT_QB) {
        __syncthreads();
        att_load<D>(&qs[0][0], D, q, b, i0, ATT_QB, h, T, H, scale);
        att_load<D>(&dos[0][0], D, dout, b, i0, ATT_QB, h, T, H, 1.0f);
        if (threadIdx.x < ATT_QB) {
            const int t = i0 + threadIdx.x;
            lm[threadIdx.x] = t < T ? stats[2 * (((size_t)b * H + h) * T + t)] : 0.0f;
            ls[threadIdx.x] = t < T ? stats[2 * (((size_t)b * H + h) * T + t) + 1] : 0.0f;
            ds_[threadIdx.x] = t < T ? dd[((size_t)b * H + h) * T + t] : 0.0f;
        }
        __syncthreads();
        const int rows = min(ATT_QB, T - i0);
        for (int i = 0; i < rows; i += ATT_RB) {
            float s[ATT_RB], dp[ATT_RB];
#pragma unroll
            for (int rr = 0; rr < ATT_RB; rr++) s[rr] = dp[rr] = 0.0f;
#pragma unroll
            for (int c = half * HALF; c < half * HALF + HALF; c += 4) {
                const float4 kv = *reinterpret_cast<const float4*>(&ks[kr][c]);
                const float4 vv = *reinterpret_cast<const float4*>(&vs[kr][c]);
#pragma unroll
                for (int rr = 0; rr < ATT_RB; rr++) {
                    const float4 qv = *reinterpret_cast<const float4*>(&qs[i + rr][c]);
                    const float4 gv4 = *reinterpret_cast<const float4*>(&dos[i + rr][c]);
                    s[rr] = fmaf(qv.x, kv.x, fmaf(qv.y, kv.y, fmaf(qv.z, kv.z, fmaf(qv.w, kv.w, s[rr]))));
                    dp[rr] = fmaf(gv4.x, vv.x, fmaf(gv4.y, vv.y, fmaf(gv4.z, vv.z, fmaf(gv4.w, vv.w, dp[rr]))));
                }
            }
#pragma unroll
            for (int rr = 0; rr < ATT_RB; rr++) {
                const float sr = s[rr] + __shfl_xor_sync(0xffffffffu, s[rr], ATT_KW);
                const float dpr = dp[rr] + __shfl_xor_sync(0xffffffffu, dp[rr], ATT_KW);
                const int ir = i + rr;
                float p = 0.0f, ds = 0.0f;
                if (ir < rows && key < T && half == 0) {
                    const int t = i0 + ir;
                    if (key < len) {
                        p = expf((sr - lm[ir]) - ls[ir]);
                        ds = p * (drop.apply(dpr, b * H + h, t, key, T) - ds_[ir]);
                    } else {
                        p = expf((mask_value - lm[ir]) - ls[ir]);  // padded key: constant score, weight only
                    }
                    p = drop.apply(p, b * H + h, t, key, T);  // dv takes the dropped weights
                }
                if (half == 0) {
                    pw[warp][rr][j] = p;
                    dw[warp][rr][j] = ds;
                }
            }
            __syncwarp();
#pragma unroll
            for (int rr = 0; rr < ATT_RB; rr++) {
                float qv[DC], gin[DC];
#pragma unroll
                for (int c = 0; c < DC; c++) {
                    qv[c] = qs[i + rr][lane + WARP_SIZE * c];  // rows past the block's rows are zero-filled
                    gin[c] = dos[i + rr][lane + WARP_SIZE * c];
                }
#pragma unroll
                for (int jj = 0; jj < ATT_KW; jj += 4) {
                    const float4 p4 = *reinterpret_cast<const float4*>(&pw[warp][rr][jj]);
                    const float4 d4 = *reinterpret_cast<const float4*>(&dw[warp][rr][jj]);
                    const float pa[4] = {p4.x, p4.y, p4.z, p4.w}, da[4] = {d4.x, d4.y, d4.z, d4.w};
#pragma unroll
                    for (int e = 0; e < 4; e++)
#pragma unroll
                        for (int c = 0; c < DC; c++) {
                            gv[jj + e][c] = fmaf(pa[e], gin[c], gv[jj + e][c]);
                            gk[jj + e][c] = fmaf(da[e], qv[c], gk[jj + e][c]);
                        }
                }
            }
            __syncwarp();
        }
    }
#pragma unroll
    for (int jj = 0; jj < ATT_KW; jj++) {
        const int t = k0 + warp * ATT_KW + jj;
        if (t >= T) continue;
#pragma unroll
        for (int c = 0; c < DC; c++) {
            const size_t idx = att_index(b, t, h, T, H, D) + lane + WARP_SIZE * c;
            dk[idx] = gk[jj][c];
            dv[idx] = gv[jj][c];
        }
    }
}

// ----------------------------------------------------------------------------
// entry points, one per head dimension

// Dropout arguments (seed, threshold = ceil(pdrop 2^53), keep_scale = (float) (1 / (1 - pdrop))) of
// the forward, dq and dkdv kernels must be the same in one forward/backward pair. seeds/slot: when seeds
// is non-null the seed is read from that device seed table slot instead (dropout_seed in dropout.cuh).
#define ATT_ENTRY_POINTS(D)                                                                                          \
    extern "C" __global__ void __launch_bounds__(128, 1) attention_forward_kernel_hd##D(                             \
        float* o, float* stats, const float* q, const float* k, const float* v, const int* lengths, int T, int H,    \
        float scale, float mask_value, unsigned long long seed, const float* seeds, int slot,                        \
        unsigned long long threshold, float keep_scale) {                                                            \
        attention_forward<D>(o, stats, q, k, v, lengths, T, H, scale, mask_value,                                    \
                             AttDropout{dropout_seed(seeds, slot, seed), threshold, keep_scale});                    \
    }                                                                                                                \
    extern "C" __global__ void __launch_bounds__(128) attention_backward_dot_kernel_hd##D(                           \
        float* dd, const float* dout, const float* o, int B, int T, int H) {                                         \
        attention_backward_dot<D>(dd, dout, o, B, T, H);                                                             \
    }                                                                                                                \
    extern "C" __global__ void __launch_bounds__(128) attention_backward_dq_kernel_hd##D(                            \
        float* dq, const float* q, const float* k, const float* v, const float* dout, const float* stats,            \
        const float* dd, const int* lengths, int T, int H, float scale, unsigned long long seed, const float* seeds, \
        int slot, unsigned long long threshold, float keep_scale) {                                                  \
        attention_backward_dq<D>(dq, q, k, v, dout, stats, dd, lengths, T, H, scale,                                 \
                                 AttDropout{dropout_seed(seeds, slot, seed), threshold, keep_scale});                \
    }                                                                                                                \
    extern "C" __global__ void __launch_bounds__(128) attention_backward_dkdv_kernel_hd##D(                          \
        float* dk, float* dv, const float* q, const float* k, const float* v, const float* dout,                     \
        const float* stats, const float* dd, const int* lengths, int T, int H, float scale, float mask_value,        \
        unsigned long long seed, const float* seeds, int slot, unsigned long long threshold, float keep_scale) {     \
        attention_backward_dkdv<D>(dk, dv, q, k, v, dout, stats, dd, lengths, T, H, scale, mask_value,               \
                                   AttDropout{dropout_seed(seeds, slot, seed), threshold, keep_scale});              \
    }

ATT_ENTRY_POINTS(32)
ATT_ENTRY_POINTS(64)

// ----------------------------------------------------------------------------
// launch geometry: block (128, 1, 1) for all four kernels, static shared memory only (at most
// 46 KiB: forward and dq 32 query rows, 32 keys per tile; dkdv 64 keys, 16 query rows per step).
// forward and dq: grid (CEIL_DIV(T, 32), H, B); dot: grid (CEIL_DIV(B T H, 4), 1, 1); dkdv: grid
// (CEIL_DIV(T, 64), H, B). H, B <= 65535. Order of the backward: dot, then dq and dkdv (independent).
