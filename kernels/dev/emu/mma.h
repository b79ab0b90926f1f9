// The emulator's nvcuda::wmma (kernels/dev/emu): 16x16x16 fragments of __half / __nv_bfloat16
// operands and float accumulators, the part of the API the kernels use (fill_fragment,
// load_matrix_sync, store_matrix_sync, mma_sync).
// Fragments are opaque on a GPU, so the emulator picks its own layout: element e of lane l is
// element (i / 16, i % 16), i = 32 e + l, of the fragment's matrix (A: 16 rows m x 16 columns k; B:
// k x n; accumulator: m x n): every lane holds elements of 8 rows, unlike the device's layouts, so
// a kernel that assumes a layout fails here. Elementwise fragment code stays valid under any layout. Loads and
// stores touch only the lane's own elements, without a barrier, so a kernel that reads another
// lane's stored elements without __syncwarp reads stale shared memory here as it may on a GPU;
// mma_sync is warp-collective (every lane of the warp must call it: a barrier before and after the
// exchange of operands, a divergent call deadlocks and aborts), and accumulates in fp32 in k order.
#pragma once
#include "cuda_bf16.h"
#include "cuda_fp16.h"
#include "cuda_runtime.h"

namespace nvcuda {
namespace wmma {
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };

inline float emu_float(float x) { return x; }
inline float emu_float(__half x) { return __half2float(x); }
inline float emu_float(__nv_bfloat16 x) { return __bfloat162float(x); }
inline void emu_set(float& d, float v) { d = v; }
inline void emu_set(__half& d, float v) { d = __float2half_rn(v); }
inline void emu_set(__nv_bfloat16& d, float v) { d = __float2bfloat16_rn(v); }

template <class Use, int M, int N, int K, class T, class Layout = void>
struct fragment {
    static_assert(M == 16 && N == 16 && K == 16, "emu wmma: 16x16x16 fragments only");
    typedef T element_type;
    enum { num_elements = 8 };
    T x[8];
};

// The device's contract for load_matrix_sync / store_matrix_sync: a 256-bit aligned pointer and ldm a
// multiple of 16 bytes' worth of elements (8 for 16-bit types, 4 for float); aborts otherwise.
inline void emu_check_matrix(const void* p, unsigned ldm, size_t element, const char* what) {
    if (((size_t)p & 31u) != 0 || (ldm * element) % 16 != 0) {
        fprintf(stderr, "emu: %s at %p with ldm %u (wmma wants 32-byte aligned pointers and ldm a multiple of %zu)\n", what, p,
                ldm, 16 / element);
        abort();
    }
}

template <class Use, class T, class L>
inline void fill_fragment(fragment<Use, 16, 16, 16, T, L>& f, float v) {
    for (int e = 0; e < 8; e++) emu_set(f.x[e], v);
}

// A (row m, column k) or B (row k, column n) from p: row-major p[row * ldm + col], column-major p[col * ldm + row].
template <class Use, class T, class L>
inline void load_matrix_sync(fragment<Use, 16, 16, 16, T, L>& f, const T* p, unsigned ldm) {
    emu_check_matrix(p, ldm, sizeof(T), "load_matrix_sync");
    const unsigned l = emu::tid() % 32;
    for (int e = 0; e < 8; e++) {
        const unsigned i = 32 * e + l, row = i / 16, col = i % 16;
        f.x[e] = std::is_same<L, row_major>::value ? p[row * ldm + col] : p[col * ldm + row];
    }
}

inline void load_matrix_sync(fragment<accumulator, 16, 16, 16, float>& f, const float* p, unsigned ldm, layout_t layout) {
    emu_check_matrix(p, ldm, sizeof(float), "load_matrix_sync");
    const unsigned l = emu::tid() % 32;
    for (int e = 0; e < 8; e++) {
        const unsigned i = 32 * e + l, row = i / 16, col = i % 16;
        f.x[e] = layout == mem_row_major ? p[row * ldm + col] : p[col * ldm + row];
    }
}

inline void store_matrix_sync(float* p, const fragment<accumulator, 16, 16, 16, float>& f, unsigned ldm, layout_t layout) {
    emu_check_matrix(p, ldm, sizeof(float), "store_matrix_sync");
    const unsigned l = emu::tid() % 32;
    for (int e = 0; e < 8; e++) {
        const unsigned i = 32 * e + l, row = i / 16, col = i % 16;
        (layout == mem_row_major ? p[row * ldm + col] : p[col * ldm + row]) = f.x[e];
    }
}

inline float emu_a[32][256], emu_b[32][256], emu_c[32][256];

// d = a b + c for the warp's 16x16 tiles (d may be c).
template <class T, class LA, class LB>
inline void mma_sync(fragment<accumulator, 16, 16, 16, float>& d, const fragment<matrix_a, 16, 16, 16, T, LA>& a,
                     const fragment<matrix_b, 16, 16, 16, T, LB>& b, const fragment<accumulator, 16, 16, 16, float>& c) {
    const unsigned t = emu::tid(), w = t / 32, l = t % 32;
    for (int e = 0; e < 8; e++) {
        emu_a[w][32 * e + l] = emu_float(a.x[e]);
        emu_b[w][32 * e + l] = emu_float(b.x[e]);
        emu_c[w][32 * e + l] = c.x[e];
    }
    emu::arrive(emu::warp_bar[w], emu::warp_live[w]);
    if (emu::warp_live[w] != 32) {
        fprintf(stderr, "emu: mma_sync with %d live lanes in warp %u (every lane must call it)\n", emu::warp_live[w], w);
        abort();
    }
    float out[8];
    for (int e = 0; e < 8; e++) {
        const unsigned i = 32 * e + l, row = i / 16, col = i % 16;
        float s = emu_c[w][i];
        for (int kk = 0; kk < 16; kk++) s = fmaf(emu_a[w][row * 16 + kk], emu_b[w][kk * 16 + col], s);
        out[e] = s;
    }
    emu::arrive(emu::warp_bar[w], emu::warp_live[w]);
    for (int e = 0; e < 8; e++) d.x[e] = out[e];
}
}  // namespace wmma
}  // namespace nvcuda
