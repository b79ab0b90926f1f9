// The emulator's bfloat16 (kernels/dev/emu): the top 16 bits of a float32, rounded to nearest even
// as the device's __float2bfloat16_rn does (NaN kept quiet).
#pragma once
#include <string.h>

struct __nv_bfloat16 {
    unsigned short x;
};

inline __nv_bfloat16 __float2bfloat16_rn(float f) {
    unsigned u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return __nv_bfloat16{(unsigned short)((u >> 16) | 0x40u)};
    return __nv_bfloat16{(unsigned short)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16)};
}

inline float __bfloat162float(__nv_bfloat16 h) {
    const unsigned bits = (unsigned)h.x << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 h) { return h.x; }
