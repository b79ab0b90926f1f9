// Elementwise ops of lmu.backend.Backend on fp32: binary ops with NumPy broadcasting and their
// per-operand gradients (before the reduction to the operand's shape, done by reduce.cu), unary
// activations forward and backward, strided copies (expand, permute), masked fill, dropout with the
// counter-based generator of lmu.util.Rng, and copies along one axis (slice, pad, concat).
// CPU reference: lmu.backend.cpu.CpuBackend (binary, binaryBackward, unary, unaryBackward, expand,
// permute, maskedFill, dropout, copyAlongAxis); op codes below match lmu.backend.cuda.CudaBackend.
#include "strided.cuh"
#include "dropout.cuh"

// BinaryOp codes
#define OP_ADD 0
#define OP_SUB 1
#define OP_MUL 2
#define OP_DIV 3
// UnaryOp codes
#define U_SCALE 0
#define U_ADD_SCALAR 1
#define U_RELU 2
#define U_GELU 3
#define U_TANH 4
#define U_SIGMOID 5
#define U_EXP 6
#define U_LOG 7

#define GELU_SCALE 0.7978845608028654f  // sqrt(2 / pi)

#define GRID_STRIDE(i, n) for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += gridDim.x * blockDim.x)

__device__ __forceinline__ float binary_apply(int op, float x, float y) {
    switch (op) {
        case OP_ADD: return x + y;
        case OP_SUB: return x - y;
        case OP_MUL: return x * y;
        default: return x / y;
    }
}

// ----------------------------------------------------------------------------
// CUDA kernels

// out[i] = op(a[offA(i)], b[offB(i)]); out contiguous with n elements; t.stride[0] = a, [1] = b
extern "C" __global__ void binary_kernel(float* out, const float* a, const float* b, int n, int op, Strided t) {
    GRID_STRIDE(i, n) {
        int oa, ob, unused;
        strided_offsets(t, i, oa, ob, unused);
        out[i] = binary_apply(op, a[oa], b[ob]);
    }
}

// as binary_kernel when a, b and out have the same shape (no index arithmetic)
extern "C" __global__ void binary_contiguous_kernel(float* out, const float* a, const float* b, int n, int op) {
    GRID_STRIDE(i, n) out[i] = binary_apply(op, a[i], b[i]);
}

// Full-size gradient of a broadcast binary op for operand `wrt` (0: a, 1: b), shaped like dout:
//   ADD: dout; SUB: dout or -dout; MUL: dout * other; DIV: dout / b or -dout * a / (b * b)
extern "C" __global__ void binary_grad_kernel(float* out, const float* a, const float* b, const float* dout, int n,
                                              int op, int wrt, Strided t) {
    GRID_STRIDE(i, n) {
        int oa, ob, unused;
        strided_offsets(t, i, oa, ob, unused);
        const float g = dout[i];
        float v;
        switch (op) {
            case OP_ADD: v = g; break;
            case OP_SUB: v = wrt == 0 ? g : -g; break;
            case OP_MUL: v = wrt == 0 ? g * b[ob] : g * a[oa]; break;
            default: {
                const float bv = b[ob];
                v = wrt == 0 ? g / bv : -g * a[oa] / (bv * bv);
            }
        }
        out[i] = v;
    }
}

__device__ __forceinline__ float gelu_value(float x) {
    return 0.5f * x * (1.0f + tanhf(GELU_SCALE * (x + 0.044715f * x * x * x)));
}

__device__ __forceinline__ float gelu_grad(float x) {
    const float t = tanhf(GELU_SCALE * (x + 0.044715f * x * x * x));
    return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * GELU_SCALE * (1.0f + 3.0f * 0.044715f * x * x);
}

// out[i] = op(x[i]); param is SCALE's factor and ADD_SCALAR's constant
extern "C" __global__ void unary_kernel(float* out, const float* x, int n, int op, float param) {
    GRID_STRIDE(i, n) {
        const float v = x[i];
        float r;
        switch (op) {
            case U_SCALE: r = v * param; break;
            case U_ADD_SCALAR: r = v + param; break;
            case U_RELU: r = v > 0.0f ? v : 0.0f; break;
            case U_GELU: r = gelu_value(v); break;
            case U_TANH: r = tanhf(v); break;
            case U_SIGMOID: r = 1.0f / (1.0f + expf(-v)); break;
            case U_EXP: r = expf(v); break;
            default: r = logf(v);
        }
        out[i] = r;
    }
}

// dx[i] = op'(x[i]) * dy[i]; y is the forward output (tanh, sigmoid and exp use it); written, not accumulated
extern "C" __global__ void unary_backward_kernel(float* dx, const float* x, const float* y, const float* dy, int n,
                                                 int op, float param) {
    GRID_STRIDE(i, n) {
        const float g = dy[i];
        float r;
        switch (op) {
            case U_SCALE: r = g * param; break;
            case U_ADD_SCALAR: r = g; break;
            case U_RELU: r = x[i] > 0.0f ? g : 0.0f; break;
            case U_GELU: r = g * gelu_grad(x[i]); break;
            case U_TANH: r = g * (1.0f - y[i] * y[i]); break;
            case U_SIGMOID: r = g * y[i] * (1.0f - y[i]); break;
            case U_EXP: r = g * y[i]; break;
            default: r = g / x[i];
        }
        dx[i] = r;
    }
}

// out[i] = scale * x[offX(i)]: expand (broadcast strides) and permute (permuted strides); t.stride[0] = x
extern "C" __global__ void strided_copy_kernel(float* out, const float* x, int n, float scale, Strided t) {
    GRID_STRIDE(i, n) {
        int ox, unused1, unused2;
        strided_offsets(t, i, ox, unused1, unused2);
        out[i] = scale * x[ox];
    }
}

// out[i] = mask[offM(i)] != 0 ? value : x[i]; x and out contiguous, the mask broadcast (t.stride[0])
extern "C" __global__ void masked_fill_kernel(float* out, const float* x, const int* mask, int n, float value,
                                              Strided t) {
    GRID_STRIDE(i, n) {
        int om, unused1, unused2;
        strided_offsets(t, i, om, unused1, unused2);
        out[i] = mask[om] != 0 ? value : x[i];
    }
}

extern "C" __global__ void dropout_kernel(float* out, const float* x, int n, unsigned long long seed,
                                          unsigned long long threshold, float scale) {
    GRID_STRIDE(i, n) out[i] = dropout_keep(seed, (unsigned long long)i, threshold) ? x[i] * scale : 0.0f;
}

// dropout_kernel with the seed read from slot `slot` of a device-side seed table (lmu.backend.SeedTable:
// four floats per seed, each an exact 16-bit chunk, low first), so a captured launch replays with the
// table's current seed
extern "C" __global__ void dropout_table_kernel(float* out, const float* x, int n, const float* seeds, int slot,
                                                unsigned long long threshold, float scale) {
    const unsigned long long seed = dropout_seed(seeds, slot, 0ull);
    GRID_STRIDE(i, n) out[i] = dropout_keep(seed, (unsigned long long)i, threshold) ? x[i] * scale : 0.0f;
}

// dst viewed as (outer, nd, inner), src as (outer, ns, inner): for j < len,
// dst[o, dstStart + j, i] = (or +=) src[o, srcStart + j, i]; n = outer * len * inner
extern "C" __global__ void copy_along_axis_kernel(float* dst, const float* src, int n, int len, int inner, int nd,
                                                  int ns, int dst_start, int src_start, int accumulate) {
    GRID_STRIDE(idx, n) {
        const int i = idx % inner;
        const int rest = idx / inner;
        const int j = rest % len;
        const int o = rest / len;
        const float v = src[((size_t)o * ns + src_start + j) * inner + i];
        float* d = dst + ((size_t)o * nd + dst_start + j) * inner + i;
        if (accumulate) *d += v;
        else *d = v;
    }
}

// ----------------------------------------------------------------------------
// launch geometry: every kernel here is a 1-D grid-stride loop, block 256,
// grid min(CEIL_DIV(n, 256), 32 blocks per SM) (LaunchGeometry.gridStrideBlocks)
