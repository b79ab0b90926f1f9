// Fused Adam/AdamW update on fp32 master weights, for step t >= 1:
//   g  = grad[i] * grad_scale                    (grad_scale folds e.g. a clipping coefficient)
//   g += weight_decay * p                        (Adam's L2 form only: decoupled == 0)
//   m  = beta1 * m + (1 - beta1) * g
//   v  = beta2 * v + (1 - beta2) * g^2
//   p  = p - lr * ((m / bias_correction1) / (sqrt(v / bias_correction2) + eps) + weight_decay * p)
//                                                (the weight_decay * p term: AdamW's decoupled form only,
//                                                 Loshchilov & Hutter)
// with bias_correction1 = 1 - beta1^t and bias_correction2 = 1 - beta2^t computed on the host in
// double precision. param, grad, m, v: n floats each, element-wise (any layout). The _bf16 and
// _fp16 variants also write the updated weights, rounded to nearest, into a half-precision copy
// used by the mixed-precision forward and backward.
// Named <op>_update_kernel: an optimizer step has no forward/backward pair.
// CPU reference (parity tests hold these kernels to it): lmu.backend.cpu.CpuOptimizerKernels.adamUpdate
// (the arithmetic lmu.optim.Adam defines; launcher: lmu.backend.cuda.kernels.CudaOptimizerKernels
// through lmu.backend.cuda.CudaKernels.adamwUpdate). The CPU computes in double and stores m and v
// as float, as here.
#include "common.cuh"
#include <cuda_bf16.h>
#include <cuda_fp16.h>

__device__ __forceinline__ float adamw_step(float* param, const float* grad, float* m, float* v, int i, float lr,
                                            float beta1, float beta2, float bias_correction1,
                                            float bias_correction2, float eps, float weight_decay,
                                            float grad_scale, int decoupled) {
    const float p0 = param[i];
    float g = grad[i] * grad_scale;
    if (!decoupled) g += weight_decay * p0;
    const float mi = beta1 * m[i] + (1.0f - beta1) * g;
    const float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    const float mhat = mi / bias_correction1;
    const float vhat = vi / bias_correction2;
    float upd = mhat / (sqrtf(vhat) + eps);
    if (decoupled) upd += weight_decay * p0;
    const float p = p0 - lr * upd;
    param[i] = p;
    return p;
}

// ----------------------------------------------------------------------------
// CUDA kernels

// param, m, v updated in place; grad read; n elements
extern "C" __global__ void adamw_update_kernel(float* param, const float* grad, float* m, float* v, int n, float lr,
                                               float beta1, float beta2, float bias_correction1,
                                               float bias_correction2, float eps, float weight_decay,
                                               float grad_scale, int decoupled) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        adamw_step(param, grad, m, v, i, lr, beta1, beta2, bias_correction1, bias_correction2, eps, weight_decay,
                   grad_scale, decoupled);
    }
}

// as adamw_update_kernel, and param_bf16[i] = bf16(param[i])
extern "C" __global__ void adamw_update_kernel_bf16(float* param, __nv_bfloat16* param_bf16, const float* grad,
                                                    float* m, float* v, int n, float lr, float beta1, float beta2,
                                                    float bias_correction1, float bias_correction2, float eps,
                                                    float weight_decay, float grad_scale, int decoupled) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        param_bf16[i] = __float2bfloat16_rn(adamw_step(param, grad, m, v, i, lr, beta1, beta2, bias_correction1,
                                                       bias_correction2, eps, weight_decay, grad_scale,
                                                       decoupled));
    }
}

// as adamw_update_kernel, and param_fp16[i] = fp16(param[i])
extern "C" __global__ void adamw_update_kernel_fp16(float* param, __half* param_fp16, const float* grad, float* m,
                                                    float* v, int n, float lr, float beta1, float beta2,
                                                    float bias_correction1, float bias_correction2, float eps,
                                                    float weight_decay, float grad_scale, int decoupled) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        param_fp16[i] = __float2half_rn(adamw_step(param, grad, m, v, i, lr, beta1, beta2, bias_correction1,
                                                   bias_correction2, eps, weight_decay, grad_scale,
                                                       decoupled));
    }
}

// as adamw_update_kernel with the per-step values read from the device-side step state
// (lmu.backend.OptimizerKernels slots): lr = state[0], bias corrections state[1], state[2]; the
// whole update is skipped when state[4] (found inf) is not 0 or state[5] (sum of squares) is not
// finite. Its arguments stay the same from step to step, so a captured launch can be replayed.
extern "C" __global__ void adamw_update_state_kernel(float* param, const float* grad, float* m, float* v, int n,
                                                     const float* state, float beta1, float beta2, float eps,
                                                     float weight_decay, int decoupled) {
    if (state[4] != 0.0f || !isfinite(state[5])) return;  // uniform across the grid
    const float lr = state[0], bias_correction1 = state[1], bias_correction2 = state[2];
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        adamw_step(param, grad, m, v, i, lr, beta1, beta2, bias_correction1, bias_correction2, eps, weight_decay, 1.0f,
                   decoupled);
    }
}

// ----------------------------------------------------------------------------
// launch geometry: 1-D grid-stride loop; block (256), grid min(CEIL_DIV(n, 256), 32 x SMs);
// no shared memory. Memory-bound: 16 bytes read and 12 written per element (18 with a half copy).
