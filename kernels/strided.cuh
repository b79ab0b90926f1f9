// Index arithmetic for kernels that read tensors through strides (broadcasting, permutes, masks,
// reductions). The Java side (lmu.backend.cuda.StridedIndex) merges dimensions that are contiguous
// in every operand and drops dimensions of size 1, so the rank seen here is usually 1 to 3, and
// stores the dimensions right-aligned: dimension d of a rank-r index sits at slot MAX_RANK - r + d.
// Structs are passed by value as kernel parameters (all ints, 4-byte aligned).
#pragma once
#include "common.cuh"

#define MAX_RANK 8

// Output index -> offsets into up to three operands. The output is contiguous row-major with
// `shape`; operand k is read at sum_d coord[d] * stride[k][d] (stride 0 on broadcast dimensions).
struct Strided {
    int rank;
    int shape[MAX_RANK];
    int stride[3][MAX_RANK];
};

__device__ __forceinline__ void strided_offsets(const Strided& t, int idx, int& o0, int& o1, int& o2) {
    o0 = 0;
    o1 = 0;
    o2 = 0;
#pragma unroll
    for (int d = MAX_RANK - 1; d >= 0; d--) {
        if (d >= MAX_RANK - t.rank) {
            const int c = idx % t.shape[d];
            idx /= t.shape[d];
            o0 += c * t.stride[0][d];
            o1 += c * t.stride[1][d];
            o2 += c * t.stride[2][d];
        }
    }
}

// A reduction: output element o enumerates the kept dimensions (row-major, contiguous output),
// reduction step r enumerates the reduced dimensions; both map to input offsets through strides.
struct Reduction {
    int kept_rank;
    int kept_shape[MAX_RANK];
    int kept_stride[MAX_RANK];
    int red_rank;
    int red_shape[MAX_RANK];
    int red_stride[MAX_RANK];
};

__device__ __forceinline__ int reduction_kept_offset(const Reduction& t, int o) {
    int off = 0;
#pragma unroll
    for (int d = MAX_RANK - 1; d >= 0; d--) {
        if (d >= MAX_RANK - t.kept_rank) {
            off += (o % t.kept_shape[d]) * t.kept_stride[d];
            o /= t.kept_shape[d];
        }
    }
    return off;
}

__device__ __forceinline__ int reduction_red_offset(const Reduction& t, int r) {
    int off = 0;
#pragma unroll
    for (int d = MAX_RANK - 1; d >= 0; d--) {
        if (d >= MAX_RANK - t.red_rank) {
            off += (r % t.red_shape[d]) * t.red_stride[d];
            r /= t.red_shape[d];
        }
    }
    return off;
}
