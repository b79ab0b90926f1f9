// Development check of kernels/cast.cu on the CPU: every one of the 2^32 fp32 bit patterns through
// float_to_f16_bits and float_to_bf16_bits, and every 16-bit pattern back to fp32, folded into
// FNV-1a hashes. lmu.tensor.HalfFloats gives the same three hashes for the same loops:
//   29a7cb438fda0383 699018d7f39d0383 6186f52cae3c0383
// so the device and the host conversions agree bit for bit on every input (checked 2026-11-25).
//   g++ -O2 -std=c++17 -I kernels/dev/emu -I kernels -o /tmp/cast_all kernels/dev/emu/cast_exhaustive.cpp && /tmp/cast_all
#include <cstdio>
#include <cstring>
#include <cstdint>
#include "cuda_runtime.h"
static inline unsigned int __float_as_uint(float f) { unsigned int u; memcpy(&u, &f, 4); return u; }
static inline float __uint_as_float(unsigned int u) { float f; memcpy(&f, &u, 4); return f; }
#include "cast.cu"
int main() {
    uint64_t h16 = 1469598103934665603ULL, hbf = h16, hb = h16;
    for (uint64_t i = 0; i <= 0xFFFFFFFFULL; i++) {
        float f = __uint_as_float((unsigned int) i);
        h16 = (h16 ^ float_to_f16_bits(f)) * 1099511628211ULL;
        hbf = (hbf ^ float_to_bf16_bits(f)) * 1099511628211ULL;
    }
    for (int i = 0; i < 65536; i++) {
        hb = (hb ^ __float_as_uint(f16_bits_to_float((unsigned short) i))) * 1099511628211ULL;
        hb = (hb ^ __float_as_uint(bf16_bits_to_float((unsigned short) i))) * 1099511628211ULL;
    }
    printf("%016llx %016llx %016llx\n", (unsigned long long) h16, (unsigned long long) hbf, (unsigned long long) hb);
}
