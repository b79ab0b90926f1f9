// CTC loss (Graves et al. 2006) on raw logits, fp32, log space, forward and backward.
// Blank is index 0. Per utterance b with T_b = input_lengths[b] frames and L_b = target_lengths[b]
// labels, the extended sequence has S = 2 L_b + 1 states: blanks at even s, label i at s = 2i + 1.
//   log p(v | t) = x[t, v] - logZ[t],  logZ[t] = log sum_v exp(x[t, v])          (log-softmax fused)
//   alpha[t, s] = lse(alpha[t-1, s], alpha[t-1, s-1], skip(s) ? alpha[t-1, s-2]) + log p(ext s | t)
//   beta[t, s]  = lse(beta[t+1, s] + lp(t+1, s), beta[t+1, s+1] + lp(t+1, s+1), skip(s+2) ? ...)
//   loss_b = -log p = -lse(alpha[T_b-1, S-1], alpha[T_b-1, S-2])
//   dlogits[t, v] = scale_b * (softmax(x[t])[v] - sum_{s: ext s = v} exp(alpha[t,s] + beta[t,s] + log p))
// skip(s): s odd, s >= 3 and ext[s] != ext[s-2]. Semantics of lmu.speech.ctc.CtcLoss (the CPU
// reference, which the parity check holds these kernels to):
//   - an utterance with T_b < L_b + (adjacent equal labels) is infeasible: loss +inf and gradient
//     NaN on its frames, or both 0 with zero_infinity;
//   - T_b = 0 (then L_b = 0): loss 0; frames t >= T_b get gradient 0;
//   - scale_b = grad_out * (mean ? 1 / (max(L_b, 1) * B) : 1); reduction mean divides each loss by
//     max(L_b, 1) and averages over the batch, sum adds, none keeps per-utterance losses.
// Logits layout: element (b, t, v) at b * stride_b + t * stride_t + v (V contiguous): (B, T, V) has
// stride_b = T V, stride_t = V; (T, B, V) has stride_b = V, stride_t = B V. dlogits has the same layout.
// Targets (B, Lmax) row-major, int32. The forward keeps log-alpha (B, T, Smax) and logZ (B, T) in
// workspace memory for the backward; the backward fills the whole gradient (deterministic: no
// atomics on floats; labels that repeat are summed along a per-label chain in a fixed order).
#include "block_reduce.cuh"

#define CTC_REDUCTION_MEAN 0
#define CTC_REDUCTION_SUM 1
#define CTC_REDUCTION_NONE 2

__device__ __forceinline__ float log_add(float a, float b) {
    if (a == -INFINITY) return b;
    if (b == -INFINITY) return a;
    return fmaxf(a, b) + log1pf(expf(-fabsf(a - b)));
}

// ext[s] for s in [0, S), and the number of adjacent equal labels (block-wide result)
__device__ int ctc_setup(int* ext, const int* tgt, int L, int S, int* count) {
    if (threadIdx.x == 0) *count = 0;
    __syncthreads();
    int rep = 0;
    for (int s = threadIdx.x; s < S; s += blockDim.x) ext[s] = (s & 1) ? tgt[s >> 1] : 0;
    for (int i = 1 + threadIdx.x; i < L; i += blockDim.x) rep += tgt[i] == tgt[i - 1];
    if (rep) atomicAdd(count, rep);  // integer: order-independent
    __syncthreads();
    return *count;
}

__device__ __forceinline__ bool ctc_skip(const int* ext, int s) { return (s & 1) && s >= 3 && ext[s] != ext[s - 2]; }

// ----------------------------------------------------------------------------
// CUDA kernels

// Forward: losses (B) = -log p(y_b | x_b) (+inf or 0 when infeasible); logz (B, T) and, when
// log_alpha is not null, log_alpha (B, T, s_max) for the backward.
// Dynamic shared memory: 2 * s_max floats + s_max ints.
extern "C" __global__ void ctc_loss_forward_kernel(float* losses, float* logz, float* log_alpha, const float* logits,
                                                   long long stride_b, long long stride_t, const int* input_lengths,
                                                   const int* targets, int l_max, const int* target_lengths, int T,
                                                   int V, int s_max, int zero_infinity) {
    extern __shared__ float smem[];
    __shared__ int count;
    const int b = blockIdx.x;
    const int Tb = input_lengths[b];
    const int L = target_lengths[b];
    const int S = 2 * L + 1;
    float* prev = smem;
    float* cur = smem + s_max;
    int* ext = (int*)(smem + 2 * s_max);
    const int rep = ctc_setup(ext, targets + (size_t)b * l_max, L, S, &count);
    if (Tb < L + rep) {  // infeasible: probability 0
        if (threadIdx.x == 0) losses[b] = zero_infinity ? 0.0f : INFINITY;
        return;
    }
    if (Tb == 0) {
        if (threadIdx.x == 0) losses[b] = 0.0f;
        return;
    }
    const float* x = logits + b * stride_b;
    // logZ per frame: one warp per frame
    const int lane = threadIdx.x % WARP_SIZE, warp = threadIdx.x / WARP_SIZE, warps = blockDim.x / WARP_SIZE;
    for (int t = warp; t < Tb; t += warps) {
        const float* row = x + t * stride_t;
        float m = -INFINITY;
        for (int v = lane; v < V; v += WARP_SIZE) m = fmaxf(m, row[v]);
        m = warp_reduce_max(m);
        float sum = 0.0f;
        for (int v = lane; v < V; v += WARP_SIZE) sum += expf(row[v] - m);
        sum = warp_reduce_sum(sum);
        if (lane == 0) logz[(size_t)b * T + t] = m + logf(sum);
    }
    __syncthreads();
    const float* lz = logz + (size_t)b * T;
    float* la = log_alpha == nullptr ? nullptr : log_alpha + (size_t)b * T * s_max;
    for (int s = threadIdx.x; s < S; s += blockDim.x) {
        float a = -INFINITY;
        if (s < 2) a = x[ext[s]] - lz[0];
        prev[s] = a;
        if (la) la[s] = a;
    }
    __syncthreads();
    for (int t = 1; t < Tb; t++) {
        const float* row = x + t * stride_t;
        for (int s = threadIdx.x; s < S; s += blockDim.x) {
            float a = prev[s];
            if (s >= 1) a = log_add(a, prev[s - 1]);
            if (ctc_skip(ext, s)) a = log_add(a, prev[s - 2]);
            a = a == -INFINITY ? a : a + (row[ext[s]] - lz[t]);
            cur[s] = a;
            if (la) la[(size_t)t * s_max + s] = a;
        }
        __syncthreads();
        float* tmp = prev;
        prev = cur;
        cur = tmp;
    }
    if (threadIdx.x == 0) {
        const float logp = S > 1 ? log_add(prev[S - 1], prev[S - 2]) : prev[0];
        losses[b] = -logp;
    }
}

// Backward: dlogits (same layout as logits) = scale_b * (softmax - posterior) on frames t < T_b, 0
// after; NaN (or 0 with zero_infinity) on the frames of an infeasible utterance. grad_out: null
// for 1, else 1 float (mean, sum) or B floats (none). Needs the forward's losses, logz, log_alpha.
// Dynamic shared memory: 3 * s_max floats + 2 * s_max ints + V ints.
extern "C" __global__ void ctc_loss_backward_kernel(float* dlogits, const float* logits, long long stride_b,
                                                    long long stride_t, const float* losses, const float* logz,
                                                    const float* log_alpha, const int* input_lengths,
                                                    const int* targets, int l_max, const int* target_lengths, int B,
                                                    int T, int V, int s_max, const float* grad_out, int reduction,
                                                    int zero_infinity) {
    extern __shared__ float smem[];
    __shared__ int count;
    const int b = blockIdx.x;
    const int Tb = input_lengths[b];
    const int L = target_lengths[b];
    const int S = 2 * L + 1;
    float* prev = smem;               // beta[t + 1] + lp(t + 1)
    float* cur = smem + s_max;        // beta[t]
    float* gam = smem + 2 * s_max;    // posterior of state s at frame t
    int* ext = (int*)(smem + 3 * s_max);
    int* next = ext + s_max;          // next state with the same label (odd states only), -1 at the end
    int* head = next + s_max;         // first state of label v, -1 if v is not in the target (v >= 1)
    const float* x = logits + b * stride_b;
    float* dx = dlogits + b * stride_b;
    for (int t = Tb; t < T; t++)
        for (int v = threadIdx.x; v < V; v += blockDim.x) dx[t * stride_t + v] = 0.0f;
    const int rep = ctc_setup(ext, targets + (size_t)b * l_max, L, S, &count);
    if (Tb < L + rep) {
        const float fill = zero_infinity ? 0.0f : NAN;
        for (int t = 0; t < Tb; t++)
            for (int v = threadIdx.x; v < V; v += blockDim.x) dx[t * stride_t + v] = fill;
        return;
    }
    if (Tb == 0) return;
    float scale = grad_out == nullptr ? 1.0f : grad_out[reduction == CTC_REDUCTION_NONE ? b : 0];
    if (reduction == CTC_REDUCTION_MEAN) scale /= (float)max(L, 1) * (float)B;
    // label chains, built by one thread in label order (deterministic summation order)
    if (threadIdx.x == 0) {
        for (int v = 0; v < V; v++) head[v] = -1;
        for (int s = S - 2; s >= 1; s -= 2) {
            next[s] = head[ext[s]];
            head[ext[s]] = s;
        }
    }
    const float logp = -losses[b];
    const float* lz = logz + (size_t)b * T;
    const float* la = log_alpha + (size_t)b * T * s_max;
    for (int t = Tb - 1; t >= 0; t--) {
        const float* row = x + t * stride_t;
        for (int s = threadIdx.x; s < S; s += blockDim.x) {
            float be;
            if (t == Tb - 1) {
                be = s >= S - 2 ? 0.0f : -INFINITY;
            } else {
                be = prev[s];
                if (s + 1 < S) be = log_add(be, prev[s + 1]);
                if (s + 2 < S && ctc_skip(ext, s + 2)) be = log_add(be, prev[s + 2]);
            }
            const float a = la[(size_t)t * s_max + s];
            gam[s] = (a == -INFINITY || be == -INFINITY) ? 0.0f : expf(a + be - logp);
            cur[s] = be == -INFINITY ? be : be + (row[ext[s]] - lz[t]);  // what frame t - 1 reads
        }
        __syncthreads();  // gam, cur and (first frame) head/next complete
        float blank = 0.0f;
        for (int s = 2 * threadIdx.x; s < S; s += 2 * blockDim.x) blank += gam[s];
        blank = block_reduce_sum(blank);
        for (int v = threadIdx.x; v < V; v += blockDim.x) {
            float post = 0.0f;
            if (v == 0) {
                post = blank;
            } else {
                for (int s = head[v]; s >= 0; s = next[s]) post += gam[s];
            }
            dx[t * stride_t + v] = scale * (expf(row[v] - lz[t]) - post);
        }
        __syncthreads();  // gam read before the next frame overwrites it
        float* tmp = prev;
        prev = cur;
        cur = tmp;
    }
}

// out[0] = reduced loss: mean of losses[b] / max(L_b, 1) (mean) or sum of losses[b] (sum), in
// batch order (deterministic). One thread.
extern "C" __global__ void ctc_loss_reduce_kernel(float* out, const float* losses, const int* target_lengths, int B,
                                                  int reduction) {
    if (threadIdx.x != 0 || blockIdx.x != 0) return;
    double s = 0.0;
    for (int b = 0; b < B; b++)
        s += reduction == CTC_REDUCTION_MEAN ? (double)losses[b] / max(target_lengths[b], 1) : (double)losses[b];
    out[0] = (float)(reduction == CTC_REDUCTION_MEAN ? s / B : s);
}

// out[i] = in[i] rounded to int, for n integral float32 values: the lengths and labels of the device
// form (CtcKernels), kept in float tensors that the host rewrites before a graph replay.
extern "C" __global__ void ctc_ints_from_floats_kernel(int* out, const float* in, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = __float2int_rn(in[i]);
}

// ----------------------------------------------------------------------------
// launch geometry: forward and backward one block per utterance, grid (B, 1, 1); block (threads, 1, 1)
// with threads a multiple of 32 from 64 to 512 covering S_max = 2 L_max + 1 states when it can
// (min(512, max(64, 32 * CEIL_DIV(S_max, 32)))), looping over states beyond it. Dynamic shared
// memory: forward 12 * S_max bytes, backward 20 * S_max + 4 * V bytes. Workspace: logz (B, T)
// floats, log_alpha (B, T, S_max) floats. Reduce: grid 1, block 32. Ints from floats: grid CEIL_DIV(n, 256),
// block 256.
