// The counter-based dropout rule of lmu.util.Rng, shared by every kernel that drops elements
// (elementwise.cu's dropout_kernel, attention.cu's weights). __host__ too, so the rule can be
// checked against Java off the GPU.
#pragma once

// SplitMix64 finaliser, as lmu.util.Rng.mix
__host__ __device__ __forceinline__ unsigned long long splitmix64_mix(unsigned long long z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Inverted dropout: element `counter` is kept when (Rng.bits(seed, counter) >>> 11) >= threshold,
// where Rng.bits(seed, i) = mix(seed + (i + 1) * 0x9E3779B97F4A7C15) and threshold = ceil(p * 2^53);
// kept elements are multiplied by (float) (1 / (1 - p)). Bit-for-bit the CPU mask. threshold 0
// (p = 0) keeps everything.
__host__ __device__ __forceinline__ bool dropout_keep(unsigned long long seed, unsigned long long counter,
                                                      unsigned long long threshold) {
    const unsigned long long bits = splitmix64_mix(seed + (counter + 1ull) * 0x9E3779B97F4A7C15ull);
    return (bits >> 11) >= threshold;
}

// The dropout seed of a launch: slot `slot` of a device-side seed table (lmu.backend.SeedTable: four
// floats per seed, each an exact 16-bit chunk, low first) when `seeds` is non-null, else `seed`.
// Read once per thread at kernel start, so a captured launch replays with the table's current seed.
__device__ __forceinline__ unsigned long long dropout_seed(const float* seeds, int slot, unsigned long long seed) {
    if (seeds == nullptr) return seed;
    unsigned long long s = 0;
    for (int k = 0; k < 4; k++) s |= ((unsigned long long)seeds[4 * slot + k] & 0xFFFFull) << (16 * k);
    return s;
}
