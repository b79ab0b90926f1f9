// The backward of layer normalisation over the rows of one block, shared by layernorm.cu and
// residual_layernorm.cu (whose backward is the same plus a gradient that reached the sum directly):
//   xhat = (x - mean_r) * rstd_r,  dnorm = dout * weight
//   dinp[r, c] = dres[r, c] + rstd_r * (dnorm - mean_c(dnorm) - xhat * mean_c(dnorm * xhat))   (written, =)
//   partial_dweight[b, c] = sum_r dout * xhat,  partial_dbias[b, c] = sum_r dout over block b's rows
// Rows [blockIdx.x * rows_per_block, min(R, (blockIdx.x + 1) * rows_per_block)); dres, dinp,
// weight and either partial may be null; col_sums is the block's 2 C floats of shared memory.
#pragma once
#include "block_reduce.cuh"

__device__ __forceinline__ void layernorm_backward_block(float* dinp, float* partial_dweight, float* partial_dbias,
                                                         const float* dout, const float* dres, const float* x,
                                                         const float* weight, const float* mean, const float* rstd,
                                                         int R, int C, int rows_per_block, float* col_sums) {
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        col_sums[c] = 0.0f;
        col_sums[C + c] = 0.0f;
    }
    const int r0 = blockIdx.x * rows_per_block;
    const int r1 = min(R, r0 + rows_per_block);
    for (int r = r0; r < r1; r++) {
        const size_t base = (size_t)r * C;
        const float m = mean[r];
        const float rs = rstd[r];
        float sum_dnorm = 0.0f, sum_dnorm_xhat = 0.0f;
        for (int c = threadIdx.x; c < C; c += blockDim.x) {
            const float xhat = (x[base + c] - m) * rs;
            const float g = dout[base + c];
            const float dnorm = weight ? g * weight[c] : g;
            sum_dnorm += dnorm;
            sum_dnorm_xhat += dnorm * xhat;
            col_sums[c] += g * xhat;  // column c belongs to this thread alone
            col_sums[C + c] += g;
        }
        if (dinp == nullptr) continue;  // uniform across the block: every thread skips the reductions
        const float mean_dnorm = block_reduce_sum(sum_dnorm) / C;
        const float mean_dnorm_xhat = block_reduce_sum(sum_dnorm_xhat) / C;
        for (int c = threadIdx.x; c < C; c += blockDim.x) {
            const float xhat = (x[base + c] - m) * rs;
            const float dnorm = weight ? dout[base + c] * weight[c] : dout[base + c];
            const float v = rs * (dnorm - mean_dnorm - xhat * mean_dnorm_xhat);
            dinp[base + c] = dres ? dres[base + c] + v : v;
        }
    }
    const size_t out = (size_t)blockIdx.x * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        if (partial_dweight) partial_dweight[out + c] = col_sums[c];
        if (partial_dbias) partial_dbias[out + c] = col_sums[C + c];
    }
}
