// GELU, tanh approximation: y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
// CPU reference: lmu.backend.cpu.CpuBackend.unary / unaryBackward with UnaryOp.GELU (float32 loop:
// lmu.backend.cpu.CpuFloatKernels.unary).
#include "common.cuh"

#define GELU_SCALE 0.7978845608028654f  // sqrt(2 / pi)

// ----------------------------------------------------------------------------
// CUDA kernels

// out[i] = gelu(inp[i]), n elements
extern "C" __global__ void gelu_forward_kernel(float* out, const float* inp, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        float x = inp[i];
        float cube = 0.044715f * x * x * x;
        out[i] = 0.5f * x * (1.0f + tanhf(GELU_SCALE * (x + cube)));
    }
}

// dinp[i] = gelu'(inp[i]) * dout[i], n elements (activation gradient: written, not accumulated)
extern "C" __global__ void gelu_backward_kernel(float* dinp, const float* inp, const float* dout, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        float x = inp[i];
        float cube = 0.044715f * x * x * x;
        float arg = GELU_SCALE * (x + cube);
        float t = tanhf(arg);
        float sech2 = 1.0f - t * t;
        float local = 0.5f * (1.0f + t) + 0.5f * x * sech2 * GELU_SCALE * (1.0f + 3.0f * 0.044715f * x * x);
        dinp[i] = local * dout[i];
    }
}

// ----------------------------------------------------------------------------
// launch geometry: 1-D grid, block 256, grid CEIL_DIV(n, 256)
