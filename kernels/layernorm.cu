// Layer normalisation over the last dimension, fp32.
//   forward:  mean_r = sum_c x[r, c] / C,  rstd_r = 1 / sqrt(sum_c (x[r, c] - mean_r)^2 / C + eps)
//             xhat = (x - mean_r) * rstd_r,  out[r, c] = xhat * weight[c] + bias[c]
//   backward: dnorm = dout * weight
//             dinp[r, c] = rstd_r * (dnorm - mean_c(dnorm) - xhat * mean_c(dnorm * xhat))   (written, =)
//             dweight[c] += sum_r dout[r, c] * xhat[r, c],  dbias[c] += sum_r dout[r, c]   (accumulated, +=)
// inp, out, dout, dinp are row-major (R, C) with R = B*T rows; weight, bias, dweight, dbias (C);
// mean, rstd (R), saved by the forward for the backward. The variance is the biased one (divide
// by C) computed in two passes (mean first), as the CPU reference does. weight and bias may be
// null (scale 1, shift 0); in the backward dinp may be null (not computed), and so may either of
// the partial sums (that parameter gradient is not computed).
// The parameter gradients are reduced deterministically: the backward kernel writes one partial
// sum per block and column into scratch, and the dparams kernel adds the partials in block order.
// CPU reference (parity tests hold these kernels to it):
//   lmu.backend.cpu.CpuBackend.layerNorm / layerNormBackward
//   (float32 loops: lmu.backend.cpu.CpuFloatKernels.layerNorm / layerNormBackward)
#include "block_reduce.cuh"
#include "layernorm_backward.cuh"

// ----------------------------------------------------------------------------
// CUDA kernels

// out (R, C), mean (R), rstd (R)  <-  inp (R, C), weight (C), bias (C)
extern "C" __global__ void layernorm_forward_kernel(float* out, float* mean, float* rstd, const float* inp,
                                                    const float* weight, const float* bias, int R, int C, float eps) {
    const int r = blockIdx.x;
    if (r >= R) return;
    const float* x = inp + (size_t)r * C;
    float* y = out + (size_t)r * C;
    float s = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) s += x[c];
    const float m = block_reduce_sum(s) / C;
    float v = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        float d = x[c] - m;
        v += d * d;
    }
    const float rs = rsqrtf(block_reduce_sum(v) / C + eps);
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        float val = (x[c] - m) * rs;
        if (weight) val *= weight[c];
        if (bias) val += bias[c];
        y[c] = val;
    }
    if (threadIdx.x == 0) {
        mean[r] = m;
        rstd[r] = rs;
    }
}

// dinp (R, C) written; partial_dweight, partial_dbias (gridDim.x, C) written: block b's sums over
// its rows [b * rows_per_block, min(R, (b + 1) * rows_per_block)).
// Dynamic shared memory: 2 * C floats (the block's running column sums).
extern "C" __global__ void layernorm_backward_kernel(float* dinp, float* partial_dweight, float* partial_dbias,
                                                     const float* dout, const float* inp, const float* weight,
                                                     const float* mean, const float* rstd, int R, int C,
                                                     int rows_per_block) {
    extern __shared__ float col_sums[];  // [0, C): dweight, [C, 2C): dbias
    layernorm_backward_block(dinp, partial_dweight, partial_dbias, dout, nullptr, inp, weight, mean, rstd, R, C,
                             rows_per_block, col_sums);
}

// dweight[c] += sum_b partial_dweight[b, c], dbias[c] += sum_b partial_dbias[b, c], b = 0 .. num_partials - 1
// in order (deterministic); partial_* (num_partials, C) from layernorm_backward_kernel. Either
// gradient may be null (with its partials).
extern "C" __global__ void layernorm_backward_dparams_kernel(float* dweight, float* dbias, const float* partial_dweight,
                                                             const float* partial_dbias, int num_partials, int C) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    if (dweight) {
        float dw = 0.0f;
        for (int b = 0; b < num_partials; b++) dw += partial_dweight[(size_t)b * C + c];
        dweight[c] += dw;
    }
    if (dbias) {
        float db = 0.0f;
        for (int b = 0; b < num_partials; b++) db += partial_dbias[(size_t)b * C + c];
        dbias[c] += db;
    }
}

// ----------------------------------------------------------------------------
// launch geometry:
//   layernorm_forward_kernel:  grid (R), block (T) with T a multiple of 32 in [32, 1024], e.g.
//     min(1024, 32 * CEIL_DIV(C, 32 * 4)); no dynamic shared memory.
//   layernorm_backward_kernel: grid (P) with P = CEIL_DIV(R, rows_per_block) (e.g. rows_per_block
//     chosen so P is about 2 x the number of SMs), block (T) as above; dynamic shared memory
//     2 * C * 4 bytes (C <= 6144 within the default 48 KiB); scratch partial_dweight and
//     partial_dbias of P * C floats each.
//   layernorm_backward_dparams_kernel: grid (CEIL_DIV(C, 256)), block (256), num_partials = P.
