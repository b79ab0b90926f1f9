// The recurrent LMU cell over time as one persistent kernel per layer and direction, fp32, forward
// and backward. The recurrence of lmu.nn.lmu.LmuRecurrent (the CPU reference), with the parts that
// do not depend on the previous step computed before and after by matrix products (cuBLAS):
//   forward, per sequence b and frame t < len_b (ux = x e_x + b_u and ax = x W_x + b_h given):
//     u   = ux[t] + h_{t-1} e_h + m_{t-1} e_m                  (K)        e_h, e_m optional
//     m_t = Abar m_{t-1} + Bbar u   (per memory channel k)     (K * d)    channel k*d + i
//     h_t = f(ax[t] + h_{t-1} W_h + m_t W_m)                   (hidden)   W_h optional
//   backward through time, t = len_b - 1 .. 0, with gh = gm = 0 after the last frame:
//     dz  = (dh[t] + gh) * f'(h_t)                             (hidden)   written to dz[t]
//     dm  = gm + W_m dz                                        (K * d)
//     du  = Bbar . dm  (per memory channel)                    (K)        written to du[t]
//     gh  = W_h dz + e_h du                                    (hidden)
//     gm  = Abar^T dm (per channel) + e_m du                   (K * d)
//   from which the caller's matrix products give every parameter gradient and dx:
//   dW_m = m^T dz, dW_h = h_prev^T dz, db_h = sum dz, dW_x = x^T dz, de_x = x^T du, de_h = h_prev^T du,
//   de_m = m_prev^T du, db_u = sum du, dx = dz W_x^T + du e_x^T.
// Layouts, row-major fp32: ux (B, T, K), ax (B, T, H), h (B, T, H), m (B, T, K*d), dh/dz (B, T, H),
// du (B, T, K); weights as the CPU's LmuParameters, (fan_in, fan_out): e_h (H, K), e_m (K*d, K),
// W_h (H, H), W_m (K*d, H). The d x d system matrix is passed as `amat`: the forward takes Abar^T
// (amat[j*d + i] = Abar[i][j]) and the backward Abar itself, so both read it by columns across
// threads (conflict-free in shared memory). Frames t >= len_b are padding: outputs there are 0.
// activation: 0 tanh, 1 relu, 2 identity (f'(a) from the output y: 1 - y^2, y > 0, 1).
#include "common.cuh"

__device__ __forceinline__ float lmu_activate(float a, int act) {
    return act == 0 ? tanhf(a) : (act == 1 ? fmaxf(a, 0.0f) : a);
}

__device__ __forceinline__ float lmu_derivative(float y, int act) {
    return act == 0 ? 1.0f - y * y : (act == 1 ? (y > 0.0f ? 1.0f : 0.0f) : 1.0f);
}

// out[c] = (accumulate ? out[c] : 0) + sum_r v[r] * mat[r * ld + c] for c < cols: one thread per
// column (coalesced reads of a row-major (rows, ld) matrix).
__device__ __forceinline__ float col_dot(const float* __restrict__ mat, int ld, const float* v, int rows, int c) {
    float s = 0.0f;
    for (int r = 0; r < rows; r++) s = fmaf(v[r], mat[(size_t)r * ld + c], s);
    return s;
}

// sum_c mat[r * ld + c] * v[c] for one row r by one warp (lanes over c), result in every lane.
__device__ __forceinline__ float row_dot_warp(const float* __restrict__ mat, int ld, const float* v, int cols, int r) {
    const int lane = threadIdx.x % WARP_SIZE;
    float s = 0.0f;
    for (int c = lane; c < cols; c += WARP_SIZE) s = fmaf(mat[(size_t)r * ld + c], v[c], s);
    return warp_reduce_sum(s);
}

// ----------------------------------------------------------------------------
// CUDA kernels

// Forward. One block per sequence. Dynamic shared memory (floats): [d*d if amat_shared] Abar^T,
// then m_prev (K*d), m (K*d), h_prev (H), u (K).
extern "C" __global__ void lmu_recurrent_forward_kernel(float* h, float* m, const float* ux, const float* ax,
                                                        const float* amat_t, const float* bbar, const float* eh,
                                                        const float* em, const float* wh, const float* wm,
                                                        const int* lengths, int T, int H, int K, int d,
                                                        int activation, int amat_shared) {
    extern __shared__ float smem[];
    const int b = blockIdx.x;
    const int len = lengths[b];
    const int W = K * d;
    float* sa = smem;
    float* m_prev = smem + (amat_shared ? d * d : 0);
    float* m_cur = m_prev + W;
    float* h_prev = m_cur + W;
    float* u = h_prev + H;
    const float* A = amat_t;
    if (amat_shared) {
        for (int i = threadIdx.x; i < d * d; i += blockDim.x) sa[i] = amat_t[i];
        A = sa;
    }
    for (int i = threadIdx.x; i < W; i += blockDim.x) m_prev[i] = 0.0f;
    for (int i = threadIdx.x; i < H; i += blockDim.x) h_prev[i] = 0.0f;
    const int lane = threadIdx.x % WARP_SIZE, warp = threadIdx.x / WARP_SIZE, warps = blockDim.x / WARP_SIZE;
    __syncthreads();
    for (int t = 0; t < len; t++) {
        const size_t row = (size_t)b * T + t;
        // u = ux + h_prev e_h + m_prev e_m: one warp per memory channel
        for (int k = warp; k < K; k += warps) {
            float s = 0.0f;
            if (eh != nullptr) for (int r = lane; r < H; r += WARP_SIZE) s = fmaf(h_prev[r], eh[(size_t)r * K + k], s);
            if (em != nullptr) for (int r = lane; r < W; r += WARP_SIZE) s = fmaf(m_prev[r], em[(size_t)r * K + k], s);
            s = warp_reduce_sum(s);
            if (lane == 0) u[k] = ux[row * K + k] + s;
        }
        __syncthreads();
        // m = Abar m_prev + Bbar u, per channel
        for (int q = threadIdx.x; q < W; q += blockDim.x) {
            const int k = q / d, i = q % d;
            const float v = col_dot(A, d, m_prev + k * d, d, i) + bbar[i] * u[k];
            m_cur[q] = v;
            m[row * W + q] = v;
        }
        __syncthreads();
        // h = f(ax + h_prev W_h + m W_m)
        float hv[4];  // blockDim.x >= H / 4 (launch contract): at most 4 hidden units per thread
#pragma unroll
        for (int r = 0; r < 4; r++) {
            const int j = threadIdx.x + r * blockDim.x;
            if (j < H) {
                float a = ax[row * H + j] + col_dot(wm, H, m_cur, W, j);
                if (wh != nullptr) a += col_dot(wh, H, h_prev, H, j);
                hv[r] = lmu_activate(a, activation);
                h[row * H + j] = hv[r];
            }
        }
        __syncthreads();  // h_prev read by every thread above
#pragma unroll
        for (int r = 0; r < 4; r++) {
            const int j = threadIdx.x + r * blockDim.x;
            if (j < H) h_prev[j] = hv[r];
        }
        float* tmp = m_prev;
        m_prev = m_cur;
        m_cur = tmp;
        __syncthreads();
    }
    for (int t = len; t < T; t++) {  // padding
        const size_t row = (size_t)b * T + t;
        for (int q = threadIdx.x; q < W; q += blockDim.x) m[row * W + q] = 0.0f;
        for (int j = threadIdx.x; j < H; j += blockDim.x) h[row * H + j] = 0.0f;
    }
}

// Backward through time. One block per sequence. Dynamic shared memory (floats): [d*d if
// amat_shared] Abar, then gm (K*d), dm (K*d), gh (H), dz (H), du (K).
extern "C" __global__ void lmu_recurrent_backward_kernel(float* dz_out, float* du_out, const float* dh,
                                                         const float* h, const float* amat, const float* bbar,
                                                         const float* eh, const float* em, const float* wh,
                                                         const float* wm, const int* lengths, int T, int H, int K,
                                                         int d, int activation, int amat_shared) {
    extern __shared__ float smem[];
    const int b = blockIdx.x;
    const int len = lengths[b];
    const int W = K * d;
    float* sa = smem;
    float* gm = smem + (amat_shared ? d * d : 0);
    float* dm = gm + W;
    float* gh = dm + W;
    float* dz = gh + H;
    float* du = dz + H;
    const float* A = amat;
    if (amat_shared) {
        for (int i = threadIdx.x; i < d * d; i += blockDim.x) sa[i] = amat[i];
        A = sa;
    }
    for (int i = threadIdx.x; i < W; i += blockDim.x) gm[i] = 0.0f;
    for (int i = threadIdx.x; i < H; i += blockDim.x) gh[i] = 0.0f;
    const int lane = threadIdx.x % WARP_SIZE, warp = threadIdx.x / WARP_SIZE, warps = blockDim.x / WARP_SIZE;
    for (int t = len; t < T; t++) {  // padding
        const size_t row = (size_t)b * T + t;
        for (int j = threadIdx.x; j < H; j += blockDim.x) dz_out[row * H + j] = 0.0f;
        for (int k = threadIdx.x; k < K; k += blockDim.x) du_out[row * K + k] = 0.0f;
    }
    __syncthreads();
    for (int t = len - 1; t >= 0; t--) {
        const size_t row = (size_t)b * T + t;
        for (int j = threadIdx.x; j < H; j += blockDim.x) {
            const float v = (dh[row * H + j] + gh[j]) * lmu_derivative(h[row * H + j], activation);
            dz[j] = v;
            dz_out[row * H + j] = v;
        }
        __syncthreads();
        // dm = gm + W_m dz: one warp per row of W_m
        for (int r = warp; r < W; r += warps) {
            const float s = row_dot_warp(wm, H, dz, H, r);
            if (lane == 0) dm[r] = gm[r] + s;
        }
        __syncthreads();
        // du = Bbar . dm per channel
        for (int k = warp; k < K; k += warps) {
            float s = 0.0f;
            for (int i = lane; i < d; i += WARP_SIZE) s = fmaf(bbar[i], dm[k * d + i], s);
            s = warp_reduce_sum(s);
            if (lane == 0) {
                du[k] = s;
                du_out[row * K + k] = s;
            }
        }
        __syncthreads();
        // gh = W_h dz + e_h du: one warp per hidden unit
        for (int r = warp; r < H; r += warps) {
            float s = 0.0f;
            if (wh != nullptr) s = row_dot_warp(wh, H, dz, H, r);
            if (eh != nullptr) s += row_dot_warp(eh, K, du, K, r);
            if (lane == 0) gh[r] = s;
        }
        // gm = Abar^T dm per channel + e_m du: one thread per state
        for (int q = threadIdx.x; q < W; q += blockDim.x) {
            const int k = q / d, j = q % d;
            float s = col_dot(A, d, dm + k * d, d, j);
            if (em != nullptr) for (int c = 0; c < K; c++) s = fmaf(em[(size_t)q * K + c], du[c], s);
            gm[q] = s;
        }
        __syncthreads();
    }
}

// ----------------------------------------------------------------------------
// launch geometry: one block per sequence, grid (B, 1, 1); block (threads, 1, 1) with threads a
// multiple of 32, at least H / 4 (the forward keeps up to 4 hidden units per thread) and at most
// 1024: min(1024, max(256, 32 * CEIL_DIV(CEIL_DIV(H, 4), 32))). Dynamic shared memory, bytes:
// forward 4 * (2 K d + H + K), backward 4 * (2 K d + 2 H + K), plus 4 d^2 when amat_shared = 1
// (Abar kept on chip; the launcher sets it when the total fits the device's opt-in limit,
// otherwise Abar is read through L1/L2).
