// Block-wide reductions built on common.cuh's warp reductions. Every thread of the block must
// call them (they synchronise), blockDim.x must be a multiple of 32 and at most 1024, and every
// thread receives the result. Used by the row-wise kernels (softmax, layer norm, clipping).
#pragma once
#include "common.cuh"

__device__ __forceinline__ float block_reduce_sum(float v) {
    __shared__ float warp_vals[WARP_SIZE];
    const int lane = threadIdx.x % WARP_SIZE;
    const int warp = threadIdx.x / WARP_SIZE;
    const int num_warps = blockDim.x / WARP_SIZE;
    v = warp_reduce_sum(v);
    __syncthreads();  // warp_vals may still be read by a previous reduction
    if (lane == 0) warp_vals[warp] = v;
    __syncthreads();
    v = lane < num_warps ? warp_vals[lane] : 0.0f;
    return warp_reduce_sum(v);  // every warp sums the same values in the same order
}

__device__ __forceinline__ float block_reduce_max(float v) {
    __shared__ float warp_vals[WARP_SIZE];
    const int lane = threadIdx.x % WARP_SIZE;
    const int warp = threadIdx.x / WARP_SIZE;
    const int num_warps = blockDim.x / WARP_SIZE;
    v = warp_reduce_max(v);
    __syncthreads();
    if (lane == 0) warp_vals[warp] = v;
    __syncthreads();
    v = lane < num_warps ? warp_vals[lane] : -INFINITY;
    return warp_reduce_max(v);
}
