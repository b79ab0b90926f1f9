// Conversions between fp32 and the 16-bit storage formats of mixed precision: IEEE fp16 (1 sign,
// 5 exponent, 10 mantissa bits) and bfloat16 (the top 16 bits of an fp32). Rounding is to nearest,
// ties to even; fp16 overflows to infinity and keeps subnormals (multiples of 2^-24); NaN stays a
// quiet NaN with the sign kept. The bit arithmetic is that of lmu.tensor.HalfFloats, so device and
// host conversions give the same 16 bits for every input, NaN payloads included (the hardware
// cvt.rn instructions would return a canonical NaN instead).
// CPU reference: lmu.tensor.HalfFloats; launcher: lmu.backend.cuda.CudaBackend.cast.
//
// launch geometry: one thread per element in a grid-stride loop, blocks of 256, any grid.
#include "common.cuh"

#define GRID_STRIDE(i, n) for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += gridDim.x * blockDim.x)

// 16-bit formats (the codes of lmu.backend.cuda.CudaBackend.formatCode)
#define FMT_F16 0
#define FMT_BF16 1

__device__ __forceinline__ unsigned short float_to_bf16_bits(float f) {
    unsigned int bits = __float_as_uint(f);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return (unsigned short) ((bits >> 16) | 0x40u);  // quiet NaN
    unsigned int rounding = 0x7FFFu + ((bits >> 16) & 1u);
    return (unsigned short) ((bits + rounding) >> 16);
}

__device__ __forceinline__ float bf16_bits_to_float(unsigned short h) {
    return __uint_as_float(((unsigned int) h) << 16);
}

__device__ __forceinline__ unsigned short float_to_f16_bits(float f) {
    unsigned int bits = __float_as_uint(f);
    unsigned int sign = (bits >> 16) & 0x8000u;
    int exp = (int) ((bits >> 23) & 0xFFu);
    unsigned int mant = bits & 0x7FFFFFu;
    if (exp == 0xFF) return (unsigned short) (sign | 0x7C00u | (mant != 0 ? 0x200u : 0u));  // inf / NaN
    int e = exp - 127 + 15;
    if (e >= 0x1F) return (unsigned short) (sign | 0x7C00u);  // overflow
    if (e <= 0) {
        if (e < -10) return (unsigned short) sign;  // underflows to zero
        mant |= 0x800000u;                          // implicit bit
        int shift = 14 - e;
        unsigned int half = mant >> shift;
        unsigned int rem = mant & ((1u << shift) - 1u);
        unsigned int mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1u))) half++;
        return (unsigned short) (sign | half);
    }
    unsigned int half = ((unsigned int) e << 10) | (mant >> 13);
    unsigned int rem = mant & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (half & 1u))) half++;  // a carry into the exponent is correct
    return (unsigned short) (sign | half);
}

__device__ __forceinline__ float f16_bits_to_float(unsigned short h) {
    unsigned int bits = h;
    unsigned int sign = (bits & 0x8000u) << 16;
    unsigned int exp = (bits >> 10) & 0x1Fu;
    unsigned int mant = bits & 0x3FFu;
    if (exp == 0x1F) return __uint_as_float(sign | 0x7F800000u | (mant << 13));
    if (exp == 0) {
        if (mant == 0) return __uint_as_float(sign);
        float v = (float) mant * 5.9604644775390625e-8f;  // subnormal: mant * 2^-24, exact
        return sign ? -v : v;
    }
    return __uint_as_float(sign | ((exp - 15 + 127) << 23) | (mant << 13));
}

__device__ __forceinline__ unsigned short to_half_bits(int fmt, float f) {
    return fmt == FMT_F16 ? float_to_f16_bits(f) : float_to_bf16_bits(f);
}

__device__ __forceinline__ float from_half_bits(int fmt, unsigned short h) {
    return fmt == FMT_F16 ? f16_bits_to_float(h) : bf16_bits_to_float(h);
}

// ----------------------------------------------------------------------------
// CUDA kernels

// out[i] = x[i] rounded to the 16-bit format fmt (FMT_F16 or FMT_BF16)
extern "C" __global__ void cast_f32_to_half_kernel(unsigned short* out, const float* x, int n, int fmt) {
    GRID_STRIDE(i, n) out[i] = to_half_bits(fmt, x[i]);
}

// out[i] = x[i] widened to fp32 (exact)
extern "C" __global__ void cast_half_to_f32_kernel(float* out, const unsigned short* x, int n, int fmt) {
    GRID_STRIDE(i, n) out[i] = from_half_bits(fmt, x[i]);
}

// out[i] = x[i] from format fromFmt to toFmt, through fp32 (widening is exact: one rounding)
extern "C" __global__ void cast_half_to_half_kernel(unsigned short* out, const unsigned short* x, int n, int fromFmt,
                                                    int toFmt) {
    GRID_STRIDE(i, n) out[i] = to_half_bits(toFmt, from_half_bits(fromFmt, x[i]));
}
