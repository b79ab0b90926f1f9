// Batched fp32 matrix product, the fallback of lmu.backend.cuda.CudaBackend.matmul when cuBLAS
// cannot be loaded (and a second opinion in the parity checks): row-major
//   C[z] = op(A[z]) · op(B[z]) + beta · C[z],  op(A) (M, K), op(B) (K, N), C (M, N)
// with A[z] at A + z * strideA (strideA 0 broadcasts one matrix), element (i, p) of op(A) at
// A[p * lda + i] when transA else A[i * lda + p]; likewise B. 16x16 tiles staged through shared
// memory; fp32 accumulation. When beta is 0, C is not read (it may hold garbage or NaN).
// CPU reference: lmu.backend.cpu.Gemm.sgemmStridedBatched.
#include "common.cuh"

#define TILE 16

// ----------------------------------------------------------------------------
// CUDA kernels

extern "C" __global__ void gemm_kernel(float* C, const float* A, const float* B, int M, int N, int K, int lda, int ldb,
                                       long long strideA, long long strideB, int transA, int transB, float beta) {
    __shared__ float as[TILE][TILE + 1];
    __shared__ float bs[TILE][TILE + 1];
    const int z = blockIdx.z;
    const float* a = A + z * strideA;
    const float* b = B + z * strideB;
    float* c = C + (long long)z * M * N;
    const int row = blockIdx.y * TILE + threadIdx.y;  // i in [0, M)
    const int col = blockIdx.x * TILE + threadIdx.x;  // j in [0, N)
    float acc = 0.0f;
    for (int p0 = 0; p0 < K; p0 += TILE) {
        const int pa = p0 + threadIdx.x;  // the A tile: rows of this block, columns p0 ..
        const int pb = p0 + threadIdx.y;  // the B tile: rows p0 .., columns of this block
        as[threadIdx.y][threadIdx.x] =
            (row < M && pa < K) ? (transA ? a[(size_t)pa * lda + row] : a[(size_t)row * lda + pa]) : 0.0f;
        bs[threadIdx.y][threadIdx.x] =
            (pb < K && col < N) ? (transB ? b[(size_t)col * ldb + pb] : b[(size_t)pb * ldb + col]) : 0.0f;
        __syncthreads();
#pragma unroll
        for (int q = 0; q < TILE; q++) acc += as[threadIdx.y][q] * bs[q][threadIdx.x];
        __syncthreads();
    }
    if (row < M && col < N) {
        float* out = c + (size_t)row * N + col;
        *out = beta == 0.0f ? acc : acc + beta * *out;
    }
}

// ----------------------------------------------------------------------------
// launch geometry: block (16, 16), grid (CEIL_DIV(N, 16), CEIL_DIV(M, 16), batch)
