// The data movement of lmu.backend.Backend.conv1d on fp32, channels-last: im2col builds the
// (B * Tout, Cin * K) matrix that one matrix product with the (Cout, Cin * K) weight turns into the
// output, and col2im sums the gradient of that matrix back into the input gradient (gathered per
// input element, so no atomics and a fixed order).
//   cols[(b, t), ci * K + k] = x[b, t * stride + k - padding, ci]  (0 outside [0, T))
// CPU reference: lmu.backend.cpu.CpuBackend.conv1d / conv1dBackward (im2col and its col2im loop).
#include "common.cuh"

// ----------------------------------------------------------------------------
// CUDA kernels

// cols (B * Tout, Cin * K) from x (B, T, Cin); one thread per cols element
extern "C" __global__ void im2col_kernel(float* cols, const float* x, int B, int T, int Cin, int K, int stride,
                                         int padding, int Tout) {
    const int row_len = Cin * K;
    const int n = B * Tout * row_len;
    for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < n; idx += gridDim.x * blockDim.x) {
        const int r = idx / row_len, c = idx % row_len;
        const int ci = c / K, k = c % K;
        const int b = r / Tout, to = r % Tout;
        const int ti = to * stride + k - padding;
        cols[idx] = (ti >= 0 && ti < T) ? x[((size_t)b * T + ti) * Cin + ci] : 0.0f;
    }
}

// dx (B, T, Cin) = sum of the dcols entries that im2col copied from each x entry (written, not accumulated)
extern "C" __global__ void col2im_kernel(float* dx, const float* dcols, int B, int T, int Cin, int K, int stride,
                                         int padding, int Tout) {
    const int n = B * T * Cin;
    for (int idx = blockIdx.x * blockDim.x + threadIdx.x; idx < n; idx += gridDim.x * blockDim.x) {
        const int ci = idx % Cin;
        const int ti = (idx / Cin) % T;
        const int b = idx / (Cin * T);
        float s = 0.0f;
        for (int k = 0; k < K; k++) {
            const int t = ti + padding - k;  // = to * stride
            if (t < 0 || t % stride != 0) continue;
            const int to = t / stride;
            if (to >= Tout) continue;
            s += dcols[((size_t)b * Tout + to) * Cin * K + ci * K + k];
        }
        dx[idx] = s;
    }
}

// ----------------------------------------------------------------------------
// launch geometry: 1-D grid-stride, block 256
