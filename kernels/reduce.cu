// Reductions of lmu.backend.Backend on fp32: sums over any set of axes (sumAxes, and the reduction
// of broadcast gradients) and max over one axis with its argmax, forward and backward.
// Deterministic: every output is summed by one block (or one thread) in a fixed order.
// CPU reference: lmu.backend.cpu.CpuBackend.sumAxes / maxAxis / maxAxisBackward.
#include "block_reduce.cuh"
#include "strided.cuh"

// ----------------------------------------------------------------------------
// CUDA kernels

// out[o] = sum over the reduced dimensions of x; one block per output element (grid-stride over
// outputs), r_len = product of the reduced dimensions
extern "C" __global__ void sum_axes_kernel(float* out, const float* x, int n_out, int r_len, Reduction t) {
    for (int o = blockIdx.x; o < n_out; o += gridDim.x) {
        const int base = reduction_kept_offset(t, o);
        float s = 0.0f;
        for (int r = threadIdx.x; r < r_len; r += blockDim.x) s += x[base + reduction_red_offset(t, r)];
        s = block_reduce_sum(s);
        if (threadIdx.x == 0) out[o] = s;
    }
}

// out[j] = sum_r x[r * cols + j] (the leading axes reduced, the trailing ones kept): one thread per
// column, coalesced across the warp, accumulated in double
extern "C" __global__ void sum_columns_kernel(float* out, const float* x, int rows, int cols) {
    for (int j = blockIdx.x * blockDim.x + threadIdx.x; j < cols; j += gridDim.x * blockDim.x) {
        double s = 0.0;
        for (int r = 0; r < rows; r++) s += x[(size_t)r * cols + j];
        out[j] = (float)s;
    }
}

// x viewed as (outer, n, inner): out[o, i] = max_j x[o, j, i], argmax[o, i] = the first j that
// attains it; the first NaN after j = 0 wins (as the CPU reference). One thread per output element.
extern "C" __global__ void max_axis_kernel(float* out, int* argmax, const float* x, int outer, int n, int inner) {
    const int total = outer * inner;
    for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += gridDim.x * blockDim.x) {
        const int o = idx / inner, i = idx % inner;
        const float* p = x + (size_t)o * n * inner + i;
        float best = p[0];
        int arg = 0;
        for (int j = 1; j < n; j++) {  // the CPU loop exactly, NaN at j = 0 included
            const float c = p[(size_t)j * inner];
            if (c > best || isnan(c)) {
                best = c;
                arg = j;
                if (isnan(c)) break;
            }
        }
        out[idx] = best;
        argmax[idx] = arg;
    }
}

// dx[o, argmax[o, i], i] = dout[o, i]; other entries of dx untouched (the caller zeroes dx)
extern "C" __global__ void max_axis_backward_kernel(float* dx, const int* argmax, const float* dout, int outer, int n,
                                                    int inner) {
    const int total = outer * inner;
    for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += gridDim.x * blockDim.x) {
        const int o = idx / inner, i = idx % inner;
        dx[((size_t)o * n + argmax[idx]) * inner + i] = dout[idx];
    }
}

// ----------------------------------------------------------------------------
// launch geometry: sum_axes_kernel: one block per output element, block = a multiple of 32 up
// to 256 (about r_len), grid min(n_out, 65535); the others: 1-D grid-stride, block 256
