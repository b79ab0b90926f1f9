// Row softmax and log-softmax over the last dimension, fp32, forward and backward.
//   softmax:      out[r, j] = exp(x[r, j] - max_r) / sum_k exp(x[r, k] - max_r)
//   log-softmax:  out[r, j] = x[r, j] - max_r - log(sum_k exp(x[r, k] - max_r))
//   softmax backward:      dinp[r, j] = y[r, j] * (dout[r, j] - sum_k dout[r, k] y[r, k]),  y = softmax out
//   log-softmax backward:  dinp[r, j] = dout[r, j] - exp(y[r, j]) * sum_k dout[r, k],       y = log-softmax out
// Tensors are row-major (R, V): R rows (e.g. B*T frames), V columns (e.g. the vocabulary incl.
// blank); row r starts at r * V. Activation gradients are written (=), not accumulated.
// CPU reference (parity tests hold these kernels to it):
//   lmu.backend.cpu.CpuKernels.softmaxForward / softmaxBackward
//   lmu.backend.cpu.CpuKernels.logSoftmaxForward / logSoftmaxBackward
#include "block_reduce.cuh"

// ----------------------------------------------------------------------------
// CUDA kernels

// out = softmax(inp) row by row; inp, out (R, V)
extern "C" __global__ void softmax_forward_kernel(float* out, const float* inp, int R, int V) {
    const int r = blockIdx.x;
    if (r >= R) return;
    const float* x = inp + (size_t)r * V;
    float* y = out + (size_t)r * V;
    float m = -INFINITY;
    for (int j = threadIdx.x; j < V; j += blockDim.x) m = fmaxf(m, x[j]);
    m = block_reduce_max(m);
    float s = 0.0f;
    for (int j = threadIdx.x; j < V; j += blockDim.x) s += expf(x[j] - m);
    s = block_reduce_sum(s);
    const float inv = 1.0f / s;
    for (int j = threadIdx.x; j < V; j += blockDim.x) y[j] = expf(x[j] - m) * inv;
}

// dinp = out * (dout - <dout, out>) row by row; out is softmax_forward's output; all (R, V)
extern "C" __global__ void softmax_backward_kernel(float* dinp, const float* out, const float* dout, int R, int V) {
    const int r = blockIdx.x;
    if (r >= R) return;
    const size_t base = (size_t)r * V;
    float dot = 0.0f;
    for (int j = threadIdx.x; j < V; j += blockDim.x) dot += dout[base + j] * out[base + j];
    dot = block_reduce_sum(dot);
    for (int j = threadIdx.x; j < V; j += blockDim.x) dinp[base + j] = out[base + j] * (dout[base + j] - dot);
}

// out = log_softmax(inp) row by row; inp, out (R, V)
extern "C" __global__ void log_softmax_forward_kernel(float* out, const float* inp, int R, int V) {
    const int r = blockIdx.x;
    if (r >= R) return;
    const float* x = inp + (size_t)r * V;
    float* y = out + (size_t)r * V;
    float m = -INFINITY;
    for (int j = threadIdx.x; j < V; j += blockDim.x) m = fmaxf(m, x[j]);
    m = block_reduce_max(m);
    float s = 0.0f;
    for (int j = threadIdx.x; j < V; j += blockDim.x) s += expf(x[j] - m);
    s = block_reduce_sum(s);
    const float shift = m + logf(s);
    for (int j = threadIdx.x; j < V; j += blockDim.x) y[j] = x[j] - shift;
}

// dinp = dout - exp(out) * sum(dout) row by row; out is log_softmax_forward's output; all (R, V)
extern "C" __global__ void log_softmax_backward_kernel(float* dinp, const float* out, const float* dout, int R, int V) {
    const int r = blockIdx.x;
    if (r >= R) return;
    const size_t base = (size_t)r * V;
    float s = 0.0f;
    for (int j = threadIdx.x; j < V; j += blockDim.x) s += dout[base + j];
    s = block_reduce_sum(s);
    for (int j = threadIdx.x; j < V; j += blockDim.x) dinp[base + j] = dout[base + j] - expf(out[base + j]) * s;
}

// ----------------------------------------------------------------------------
// launch geometry: one block per row, grid (R, 1, 1), R <= 2^31 - 1; block (threads, 1, 1) with
// threads a multiple of 32 from 32 to 1024: 32 for V <= 64 (the CTC vocabulary, V = 29), else
// min(1024, 32 * CEIL_DIV(V, 32 * 4)) so each thread handles about 4 columns. No dynamic shared
// memory. A row with every entry -inf yields NaN, as in the CPU reference.
