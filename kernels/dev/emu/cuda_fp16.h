// The emulator's IEEE half (kernels/dev/emu): 16 bits, conversions rounding to nearest even as the
// device's __float2half_rn does (subnormals, overflow to infinity, NaN kept).
#pragma once
#include <math.h>
#include <string.h>

struct __half {
    unsigned short x;
};

inline __half __float2half_rn(float f) {
    unsigned u;
    memcpy(&u, &f, 4);
    const unsigned short sign = (unsigned short)((u >> 16) & 0x8000u);
    const unsigned a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return __half{(unsigned short)(sign | 0x7e00u)};  // NaN
    if (a >= 0x477ff000u) return __half{(unsigned short)(sign | 0x7c00u)};  // >= 65520: infinity
    if (a < 0x38800000u) {                                                   // below 2^-14: multiples of 2^-24
        float af;
        memcpy(&af, &a, 4);
        return __half{(unsigned short)(sign | (unsigned short)nearbyintf(af * 16777216.0f))};
    }
    const unsigned r = a + 0xfffu + ((a >> 13) & 1u) - 0x38000000u;  // ties to even, exponent rebiased 127 -> 15
    return __half{(unsigned short)(sign | (r >> 13))};
}

inline float __half2float(__half h) {
    const unsigned sign = (unsigned)(h.x & 0x8000u) << 16, e = (h.x >> 10) & 0x1fu, m = h.x & 0x3ffu;
    if (e == 0) {
        const float v = (float)m * 5.9604644775390625e-8f;  // m * 2^-24
        return sign ? -v : v;
    }
    const unsigned bits = e == 31 ? (sign | 0x7f800000u | (m << 13)) : (sign | ((e + 112u) << 23) | (m << 13));
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

inline unsigned short __half_as_ushort(__half h) { return h.x; }
