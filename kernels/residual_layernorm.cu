// Residual add fused with layer normalisation over the last dimension, fp32: the joint of every
// encoder sub-block. The sum s is an output too (a pre-LN block carries it on as its residual
// stream), so one pass reads x and r and writes s and y.
//   forward:  s[r, c] = inp[r, c] + res[r, c]
//             mean_r = sum_c s[r, c] / C,  rstd_r = 1 / sqrt(sum_c (s[r, c] - mean_r)^2 / C + eps)
//             out[r, c] = (s - mean_r) * rstd_r * weight[c] + bias[c]
//   backward: dnorm = dout * weight,  shat = (s - mean_r) * rstd_r
//             dinp[r, c] = dres[r, c] + rstd_r * (dnorm - mean_c(dnorm) - shat * mean_c(dnorm * shat))   (written, =)
//             dweight[c] = sum_r dout[r, c] * shat[r, c],  dbias[c] = sum_r dout[r, c]           (written, =)
// dres is the gradient that reached s from elsewhere (null: none); dinp is also the gradient of the
// residual input. inp, res, s, out, dout, dres, dinp are row-major (R, C) with R = B*T rows;
// weight, bias, dweight, dbias (C), weight and bias may be null (scale 1, shift 0); mean, rstd (R).
// The variance is the biased one in two passes (mean first), as layernorm.cu and the CPU do.
// Parameter gradients are reduced deterministically through per-block partial sums.
// CPU reference (parity tests hold these kernels to it):
//   lmu.backend.cpu.CpuFloatKernels.residualLayerNorm / layerNormBackward (with ds)
#include "block_reduce.cuh"
#include "layernorm_backward.cuh"

// ----------------------------------------------------------------------------
// CUDA kernels

// s, out (R, C), mean, rstd (R) <- inp, res (R, C), weight, bias (C); one block per row.
extern "C" __global__ void residual_layernorm_forward_kernel(float* s, float* out, float* mean, float* rstd,
                                                             const float* inp, const float* res, const float* weight,
                                                             const float* bias, int R, int C, float eps) {
    const int r = blockIdx.x;
    if (r >= R) return;
    const size_t base = (size_t)r * C;
    float sum = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        const float v = inp[base + c] + res[base + c];
        s[base + c] = v;  // read back below by the same thread only
        sum += v;
    }
    const float m = block_reduce_sum(sum) / C;
    float var = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        const float d = s[base + c] - m;
        var += d * d;
    }
    const float rs = rsqrtf(block_reduce_sum(var) / C + eps);
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        float v = (s[base + c] - m) * rs;
        if (weight) v *= weight[c];
        if (bias) v += bias[c];
        out[base + c] = v;
    }
    if (threadIdx.x == 0) {
        mean[r] = m;
        rstd[r] = rs;
    }
}

// dinp (R, C) written (unless null); partial_dweight, partial_dbias (gridDim.x, C) written (unless
// null): block b's sums over rows [b * rows_per_block, min(R, (b + 1) * rows_per_block)).
// Dynamic shared memory: 2 * C floats (the block's running column sums).
extern "C" __global__ void residual_layernorm_backward_kernel(float* dinp, float* partial_dweight, float* partial_dbias,
                                                              const float* dout, const float* dres, const float* s,
                                                              const float* weight, const float* mean, const float* rstd,
                                                              int R, int C, int rows_per_block) {
    extern __shared__ float smem[];  // the column sums: [0, C) dweight, [C, 2C) dbias
    layernorm_backward_block(dinp, partial_dweight, partial_dbias, dout, dres, s, weight, mean, rstd, R, C,
                             rows_per_block, smem);
}

// dweight[c] = sum_b partial_dweight[b, c], dbias[c] = sum_b partial_dbias[b, c], b in order
// (deterministic); either may be null (with its partials).
extern "C" __global__ void residual_layernorm_dparams_kernel(float* dweight, float* dbias, const float* partial_dweight,
                                                             const float* partial_dbias, int num_partials, int C) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    if (dweight) {
        float dw = 0.0f;
        for (int b = 0; b < num_partials; b++) dw += partial_dweight[(size_t)b * C + c];
        dweight[c] = dw;
    }
    if (dbias) {
        float db = 0.0f;
        for (int b = 0; b < num_partials; b++) db += partial_dbias[(size_t)b * C + c];
        dbias[c] = db;
    }
}

// ----------------------------------------------------------------------------
// launch geometry:
//   residual_layernorm_forward_kernel:  grid (R), block (T) with T a multiple of 32 in [32, 1024],
//     min(1024, 32 * CEIL_DIV(C, 32 * 4)); no dynamic shared memory.
//   residual_layernorm_backward_kernel: grid (P) with P = CEIL_DIV(R, rows_per_block) (about 2 x
//     SMs when parameter gradients are wanted, else rows_per_block = 1), block (T) as above; dynamic
//     shared memory 2 * C * 4 bytes; scratch partial_dweight and partial_dbias of P * C floats each.
//   residual_layernorm_dparams_kernel: grid (CEIL_DIV(C, 256)), block (256), num_partials = P.
