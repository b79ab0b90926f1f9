// Row softmax and log-softmax over the last dimension, fp32, forward and backward.
//   softmax:      out[r, j] = exp(x[r, j] - max_r) / sum_k exp(x[r, k] - max_r)
//   log-softmax:  out[r, j] = x[r, j] - max_r - log(sum_k exp(x[r, k] - max_r))
//   softmax backward:      dinp[r, j] = y[r, j] * (dout[r, j] - sum_k dout[r, k] y[r, k]),  y = softmax out
//   log-softmax backward:  dinp[r, j] = dout[r, j] - exp(y[r, j]) * sum_k dout[r, k],       y = log-softmax out
// The softmax axis has V entries and stride `inner` (the product of the dimensions after it; 1 for
// the last axis): a tensor of shape (outer, V, inner) holds R = outer * inner rows, and row
// r = o * inner + i has its entries at o * V * inner + i + j * inner, j = 0 .. V - 1. For the last
// axis (inner = 1) this is row-major (R, V) and the loads are coalesced; other axes are correct
// but strided. Activation gradients are written (=), not accumulated.
// A row whose entries are all -inf gives zeros from softmax (no mass, not NaN) and NaN from
// log-softmax, as the CPU reference does.
// CPU reference (parity tests hold these kernels to it):
//   lmu.backend.cpu.CpuBackend.softmax(out, x, axis, log) / softmaxBackward(dx, y, dy, axis, log)
//   (float32 loops: lmu.backend.cpu.CpuFloatKernels.softmaxRows / softmaxBackwardRows)
#include "block_reduce.cuh"

// offset of entry 0 of row r
__device__ __forceinline__ size_t row_base(int r, int V, int inner) {
    return (size_t)(r / inner) * V * inner + (r % inner);
}

// ----------------------------------------------------------------------------
// CUDA kernels

// out = softmax(inp) row by row; inp, out (outer, V, inner), R = outer * inner rows
extern "C" __global__ void softmax_forward_kernel(float* out, const float* inp, int R, int V, int inner) {
    const int r = blockIdx.x;
    if (r >= R) return;
    const size_t base = row_base(r, V, inner);
    const float* x = inp + base;
    float* y = out + base;
    float m = -INFINITY;
    for (int j = threadIdx.x; j < V; j += blockDim.x) m = fmaxf(m, x[(size_t)j * inner]);
    m = block_reduce_max(m);
    if (m == -INFINITY) m = 0.0f;  // every entry -inf: avoid inf - inf
    float s = 0.0f;
    for (int j = threadIdx.x; j < V; j += blockDim.x) s += expf(x[(size_t)j * inner] - m);
    s = block_reduce_sum(s);
    const float inv = s == 0.0f ? 0.0f : 1.0f / s;
    for (int j = threadIdx.x; j < V; j += blockDim.x) y[(size_t)j * inner] = expf(x[(size_t)j * inner] - m) * inv;
}

// dinp = out * (dout - <dout, out>) row by row; out is softmax_forward's output; all (outer, V, inner)
extern "C" __global__ void softmax_backward_kernel(float* dinp, const float* out, const float* dout, int R, int V,
                                                   int inner) {
    const int r = blockIdx.x;
    if (r >= R) return;
    const size_t base = row_base(r, V, inner);
    float dot = 0.0f;
    for (int j = threadIdx.x; j < V; j += blockDim.x) {
        const size_t p = base + (size_t)j * inner;
        dot += dout[p] * out[p];
    }
    dot = block_reduce_sum(dot);
    for (int j = threadIdx.x; j < V; j += blockDim.x) {
        const size_t p = base + (size_t)j * inner;
        dinp[p] = out[p] * (dout[p] - dot);
    }
}

// out = log_softmax(inp) row by row; inp, out (outer, V, inner)
extern "C" __global__ void log_softmax_forward_kernel(float* out, const float* inp, int R, int V, int inner) {
    const int r = blockIdx.x;
    if (r >= R) return;
    const size_t base = row_base(r, V, inner);
    const float* x = inp + base;
    float* y = out + base;
    float m = -INFINITY;
    for (int j = threadIdx.x; j < V; j += blockDim.x) m = fmaxf(m, x[(size_t)j * inner]);
    m = block_reduce_max(m);
    if (m == -INFINITY) m = 0.0f;
    float s = 0.0f;
    for (int j = threadIdx.x; j < V; j += blockDim.x) s += expf(x[(size_t)j * inner] - m);
    s = block_reduce_sum(s);
    const float shift = m + logf(s);
    for (int j = threadIdx.x; j < V; j += blockDim.x) y[(size_t)j * inner] = x[(size_t)j * inner] - shift;
}

// dinp = dout - exp(out) * sum(dout) row by row; out is log_softmax_forward's output; all (outer, V, inner)
extern "C" __global__ void log_softmax_backward_kernel(float* dinp, const float* out, const float* dout, int R, int V,
                                                       int inner) {
    const int r = blockIdx.x;
    if (r >= R) return;
    const size_t base = row_base(r, V, inner);
    float s = 0.0f;
    for (int j = threadIdx.x; j < V; j += blockDim.x) s += dout[base + (size_t)j * inner];
    s = block_reduce_sum(s);
    for (int j = threadIdx.x; j < V; j += blockDim.x) {
        const size_t p = base + (size_t)j * inner;
        dinp[p] = dout[p] - expf(out[p]) * s;
    }
}

// ----------------------------------------------------------------------------
// launch geometry: one block per row, grid (R, 1, 1), R <= 2^31 - 1; block (threads, 1, 1) with
// threads a multiple of 32 from 32 to 1024: 32 for V <= 64 (the CTC vocabulary, V = 29), else
// min(1024, 32 * CEIL_DIV(V, 32 * 4)) so each thread handles about 4 columns. No dynamic shared
// memory.
