// A CPU emulation of the small part of CUDA the engine's kernels use, for checking kernel logic on
// machines without a GPU (development only: slow, single-threaded, not part of the build).
// Every CUDA thread of a block is a fiber (ucontext) run round-robin on one OS thread; __syncthreads
// and the warp shuffles are barriers at which fibers yield. __shared__ becomes a static variable
// (one block runs at a time), dynamic shared memory a per-launch buffer filled with NaN bytes so that
// reads of unwritten shared memory show. A barrier nobody can pass (divergent __syncthreads) aborts.
#pragma once
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include <cstddef>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))

struct alignas(16) float4 {
    float x, y, z, w;
};
inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }
struct alignas(16) uint4 {
    unsigned x, y, z, w;
};
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return uint4{x, y, z, w}; }
struct alignas(8) float2 {
    float x, y;
};
inline float2 make_float2(float x, float y) { return float2{x, y}; }
inline void sincospi(double x, double* s, double* c) {
    *s = sin(M_PI * x);
    *c = cos(M_PI * x);
}

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};

inline dim3 threadIdx, blockIdx, blockDim, gridDim;

inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }

namespace emu {
struct Fiber {
    ucontext_t ctx;
    char* stack;
    unsigned tid;
    bool done;
};
struct Barrier {
    int count = 0, gen = 0;
};

inline std::vector<Fiber> fibers;
inline int current = 0;
inline ucontext_t scheduler;
inline long long progress = 0;
inline int live = 0;
inline Barrier block_bar;
inline Barrier warp_bar[32];
inline int warp_live[32];
inline float warp_slots[32][32];
inline std::function<void()> body;
inline char* dyn_smem = nullptr;
inline const size_t STACK = 256 * 1024;

inline void yield() { swapcontext(&fibers[current].ctx, &scheduler); }

inline void arrive(Barrier& b, int n) {
    const int gen = b.gen;
    progress++;
    if (++b.count >= n) {
        b.count = 0;
        b.gen++;
        return;
    }
    while (b.gen == gen) yield();
}

inline void release_if_complete(Barrier& b, int n) {
    if (b.count > 0 && b.count >= n) {
        b.count = 0;
        b.gen++;
    }
}

inline void entry() {
    body();
    Fiber& f = fibers[current];
    f.done = true;
    live--;
    warp_live[f.tid / 32]--;
    progress++;
    release_if_complete(block_bar, live);  // exited threads count as arrived
    release_if_complete(warp_bar[f.tid / 32], warp_live[f.tid / 32]);
}

inline unsigned tid() { return fibers[current].tid; }

// Runs body for every block of grid with block threads each.
inline void launch(dim3 grid, dim3 block, size_t shared_bytes, std::function<void()> kernel) {
    const unsigned n = block.x * block.y * block.z;
    if (n == 0 || n > 1024 || n % 32 != 0) {
        fprintf(stderr, "emu: block of %u threads (this emulation wants a multiple of 32, at most 1024)\n", n);
        abort();
    }
    body = kernel;
    fibers.assign(n, Fiber{});
    for (auto& f : fibers) f.stack = (char*)malloc(STACK);
    dyn_smem = (char*)malloc(shared_bytes + 16);
    gridDim = grid;
    blockDim = block;
    for (unsigned bz = 0; bz < grid.z; bz++)
        for (unsigned by = 0; by < grid.y; by++)
            for (unsigned bx = 0; bx < grid.x; bx++) {
                blockIdx = dim3(bx, by, bz);
                memset(dyn_smem, 0xff, shared_bytes + 16);  // NaN floats, -1 ints
                live = n;
                block_bar = Barrier();
                for (unsigned w = 0; w < n / 32; w++) {
                    warp_bar[w] = Barrier();
                    warp_live[w] = 32;
                }
                for (unsigned t = 0; t < n; t++) {
                    Fiber& f = fibers[t];
                    f.tid = t;
                    f.done = false;
                    getcontext(&f.ctx);
                    f.ctx.uc_stack.ss_sp = f.stack;
                    f.ctx.uc_stack.ss_size = STACK;
                    f.ctx.uc_link = &scheduler;
                    makecontext(&f.ctx, entry, 0);
                }
                while (live > 0) {
                    const long long before = progress;
                    for (unsigned t = 0; t < n; t++) {
                        if (fibers[t].done) continue;
                        current = t;
                        threadIdx = dim3(t % block.x, (t / block.x) % block.y, t / (block.x * block.y));
                        swapcontext(&scheduler, &fibers[t].ctx);
                    }
                    if (progress == before && live > 0) {
                        fprintf(stderr, "emu: deadlock in block (%u, %u, %u): %d threads wait at a barrier\n", bx, by, bz, live);
                        abort();
                    }
                }
            }
    for (auto& f : fibers) free(f.stack);
    free(dyn_smem);
}

template <class F, class Tuple, size_t... I>
void invoke_impl(F f, void** params, std::index_sequence<I...>) {
    f(*static_cast<std::tuple_element_t<I, Tuple>*>(params[I])...);
}

// Calls kernel k with cuLaunchKernel-style parameters (params[i] points at argument i).
template <class... A>
void invoke(void (*k)(A...), void** params) {
    invoke_impl<void (*)(A...), std::tuple<std::remove_cv_t<A>...>>(k, params, std::index_sequence_for<A...>{});
}
}  // namespace emu

inline void __syncthreads() { emu::arrive(emu::block_bar, emu::live); }

inline float emu_exchange(float v, int src) {
    const unsigned t = emu::tid(), w = t / 32, l = t % 32;
    emu::warp_slots[w][l] = v;
    emu::arrive(emu::warp_bar[w], emu::warp_live[w]);
    const float r = emu::warp_slots[w][src & 31];
    emu::arrive(emu::warp_bar[w], emu::warp_live[w]);
    return r;
}

inline void __syncwarp(unsigned = 0xffffffffu) {
    const unsigned w = emu::tid() / 32;
    emu::arrive(emu::warp_bar[w], emu::warp_live[w]);
}

inline float __shfl_xor_sync(unsigned, float v, int off) { return emu_exchange(v, (emu::tid() % 32) ^ off); }
inline float __shfl_sync(unsigned, float v, int src) { return emu_exchange(v, src); }

inline int atomicAdd(int* p, int v) {
    const int old = *p;
    *p += v;
    return old;
}

// Exports `emu_<kernel>(gx, gy, gz, bx, by, bz, shared_bytes, params)` for ctypes.
#define EMU_EXPORT(k)                                                                                   \
    extern "C" void emu_##k(unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, \
                            size_t shared, void** params) {                                            \
        emu::launch(dim3(gx, gy, gz), dim3(bx, by, bz), shared, [=] { emu::invoke(k, params); });     \
    }
