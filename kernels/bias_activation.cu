// Bias add fused with an activation, fp32: the epilogue of every linear layer and of the LMU's
// products, one read and one write per element instead of two of each.
//   forward:  z[r, c] = inp[r, c] + bias[c],  out[r, c] = act(z)
//   backward: dinp[r, c] = act'(z[r, c]) * dout[r, c]                      (written, =)
//             dbias[c]   = sum_r dinp[r, c]                                 (written, =)
// act: 0 identity, 1 relu, 2 gelu (tanh approximation), 3 tanh. The backward takes z from inp and
// bias for gelu, and the forward's out for relu (out > 0) and tanh (1 - out^2); identity's dinp is
// dout itself (dinp null: only dbias is computed). inp, out, dout, dinp are row-major (R, C);
// bias, dbias (C); bias may be null (0). The column sums are deterministic: the backward kernel
// writes one partial sum per block row-range and column, the dbias kernel adds them in order.
// CPU reference (parity tests hold these kernels to it):
//   lmu.backend.cpu.CpuFloatKernels.biasActivation / biasActivationBackward
#include "common.cuh"

#define ACT_IDENTITY 0
#define ACT_RELU 1
#define ACT_GELU 2
#define ACT_TANH 3
#define GELU_SCALE 0.7978845608028654f  // sqrt(2 / pi)

__device__ __forceinline__ float activate(int act, float z) {
    switch (act) {
        case ACT_RELU: return z > 0.0f ? z : 0.0f;
        case ACT_GELU: return 0.5f * z * (1.0f + tanhf(GELU_SCALE * (z + 0.044715f * z * z * z)));
        case ACT_TANH: return tanhf(z);
        default: return z;
    }
}

// act'(z) * g from z (gelu) or y (relu, tanh)
__device__ __forceinline__ float activation_grad(int act, float z, float y, float g) {
    switch (act) {
        case ACT_RELU: return y > 0.0f ? g : 0.0f;
        case ACT_GELU: {
            const float t = tanhf(GELU_SCALE * (z + 0.044715f * z * z * z));
            return g * (0.5f * (1.0f + t) + 0.5f * z * (1.0f - t * t) * GELU_SCALE * (1.0f + 3.0f * 0.044715f * z * z));
        }
        case ACT_TANH: return g * (1.0f - y * y);
        default: return g;
    }
}

// ----------------------------------------------------------------------------
// CUDA kernels

// out (R, C) <- act(inp (R, C) + bias (C)); grid-stride over the R * C elements.
extern "C" __global__ void bias_activation_forward_kernel(float* out, const float* inp, const float* bias, int R, int C,
                                                          int act) {
    const size_t n = (size_t)R * C;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const float z = bias ? inp[i] + bias[i % C] : inp[i];
        out[i] = activate(act, z);
    }
}

// dinp (R, C) written (unless null); partial_dbias (gridDim.x, C) written (unless null): block
// (b, cb) owns columns [cb * blockDim.x, ...) of rows [b * rows_per_block, min(R, (b + 1) * rows_per_block)),
// one column per thread, so consecutive threads read consecutive addresses and no thread shares a sum.
extern "C" __global__ void bias_activation_backward_kernel(float* dinp, float* partial_dbias, const float* dout,
                                                           const float* inp, const float* bias, const float* out, int R,
                                                           int C, int act, int rows_per_block) {
    const int c = blockIdx.y * blockDim.x + threadIdx.x;
    if (c >= C) return;
    const int r0 = blockIdx.x * rows_per_block;
    const int r1 = min(R, r0 + rows_per_block);
    const float b = (bias && act == ACT_GELU) ? bias[c] : 0.0f;
    float sum = 0.0f;
    for (int r = r0; r < r1; r++) {
        const size_t i = (size_t)r * C + c;
        const float z = act == ACT_GELU ? inp[i] + b : 0.0f;
        const float y = (act == ACT_RELU || act == ACT_TANH) ? out[i] : 0.0f;
        const float g = activation_grad(act, z, y, dout[i]);
        if (dinp) dinp[i] = g;
        sum += g;
    }
    if (partial_dbias) partial_dbias[(size_t)blockIdx.x * C + c] = sum;
}

// dbias[c] = sum_b partial_dbias[b, c], b = 0 .. num_partials - 1 in order (deterministic).
extern "C" __global__ void bias_activation_dbias_kernel(float* dbias, const float* partial_dbias, int num_partials, int C) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    float s = 0.0f;
    for (int b = 0; b < num_partials; b++) s += partial_dbias[(size_t)b * C + c];
    dbias[c] = s;
}

// ----------------------------------------------------------------------------
// launch geometry:
//   bias_activation_forward_kernel:  grid min(CEIL_DIV(R * C, 256), 8 x SMs), block (256), grid-stride.
//   bias_activation_backward_kernel: grid (P, CEIL_DIV(C, T)) with P = CEIL_DIV(R, rows_per_block)
//     (rows_per_block chosen so P is about 2 x the number of SMs), block (T) = min(256, 32 * CEIL_DIV(C, 32));
//     scratch partial_dbias of P * C floats.
//   bias_activation_dbias_kernel: grid (CEIL_DIV(C, 256)), block (256), num_partials = P.
