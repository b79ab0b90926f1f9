// Global-norm gradient clipping and the fp16 loss scaler's fused unscale, fp32.
//   clipping:  sumsq = sum over every gradient tensor of sum_i g[i]^2   (two stages, deterministic)
//              norm  = sqrt(sumsq); when norm is finite and > max_norm: g[i] *= max_norm / (norm + 1e-6)
//              (otherwise the gradients are left as they are: a non-finite norm is for the caller to skip)
//   unscale:   g[i] *= inv_scale; found_inf = 1 if any result is inf or NaN
// With fp16 loss scaling the step unscales first, then (if found_inf is 0) clips, then updates;
// found_inf is reset to 0 (cuMemsetD32Async) before the first unscale of a step. The scalars
// (sumsq, found_inf) stay on the device, so no host synchronisation is needed until the scaler
// reads found_inf.
// Named after what they do: these are optimizer-step kernels without a forward/backward pair.
// CPU reference (parity tests hold these kernels to it):
//   lmu.backend.cpu.CpuOptimizerKernels.globalNorm / clipGlobalNorm (the norm in double on the CPU;
//   the arithmetic of lmu.optim.GradClip) and unscaleAllFinite (the loss scaler's unscale, false when
//   any unscaled gradient is inf or NaN; lmu.amp.DynamicLossScaler). Launcher:
//   lmu.backend.cuda.kernels.CudaOptimizerKernels.
#include "block_reduce.cuh"

// ----------------------------------------------------------------------------
// CUDA kernels

// partial[blockIdx.x] = sum of g[i]^2 over the block's grid-stride share of [0, n)
extern "C" __global__ void clip_sum_squares_kernel(float* partial, const float* g, int n) {
    float s = 0.0f;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) s += g[i] * g[i];
    s = block_reduce_sum(s);
    if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

// sumsq[0] = (accumulate ? sumsq[0] : 0) + sum_b partial[b], b = 0 .. num_partials - 1; one block.
// Call once per gradient tensor with accumulate = 0 for the first and 1 for the rest.
extern "C" __global__ void clip_sum_squares_final_kernel(float* sumsq, const float* partial, int num_partials,
                                                         int accumulate) {
    float s = 0.0f;
    for (int b = threadIdx.x; b < num_partials; b += blockDim.x) s += partial[b];
    s = block_reduce_sum(s);
    if (threadIdx.x == 0) sumsq[0] = (accumulate ? sumsq[0] : 0.0f) + s;
}

// g[i] *= max_norm / (norm + 1e-6) when norm = sqrt(sumsq[0]) is finite and > max_norm, n elements;
// the coefficient is computed on the device from clip_sum_squares_final_kernel's result
extern "C" __global__ void clip_scale_kernel(float* g, int n, const float* sumsq, float max_norm) {
    const float norm = sqrtf(sumsq[0]);
    if (!isfinite(norm) || !(norm > max_norm)) return;  // uniform across the grid
    const float coef = max_norm / (norm + 1e-6f);
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) g[i] *= coef;
}

// g[i] *= inv_scale, n elements; *found_inf = 1 when any product is inf or NaN (never cleared here)
extern "C" __global__ void unscale_check_kernel(float* g, int n, float inv_scale, int* found_inf) {
    bool bad = false;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        const float x = g[i] * inv_scale;
        g[i] = x;
        bad |= !isfinite(x);
    }
    // one store per warp that saw a bad value; every writer stores the same 1
    if (__any_sync(0xffffffffu, bad) && (threadIdx.x % WARP_SIZE) == 0) *found_inf = 1;
}

// as unscale_check_kernel with the scale and the flag in the device-side step state
// (lmu.backend.OptimizerKernels slots): g[i] *= state[3]; state[4] = 1.0f when any product is inf or NaN
// (the caller clears state[4] once per step)
extern "C" __global__ void unscale_state_kernel(float* g, int n, float* state) {
    const float inv_scale = state[3];
    bool bad = false;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        const float x = g[i] * inv_scale;
        g[i] = x;
        bad |= !isfinite(x);
    }
    if (__any_sync(0xffffffffu, bad) && (threadIdx.x % WARP_SIZE) == 0) state[4] = 1.0f;
}

// ----------------------------------------------------------------------------
// launch geometry:
//   clip_sum_squares_kernel: grid (P) with P = min(CEIL_DIV(n, 256), 1024), block (256) (a multiple
//     of 32); scratch partial of P floats.
//   clip_sum_squares_final_kernel: grid (1), block (1024) (a multiple of 32), num_partials = P.
//   clip_scale_kernel, unscale_check_kernel and unscale_state_kernel: 1-D grid-stride loop, block (256) (a multiple of 32
//     for unscale_check_kernel's warp vote), grid min(CEIL_DIV(n, 256), 32 x SMs).
