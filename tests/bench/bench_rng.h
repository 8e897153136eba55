/* The benchmarks' own random numbers: splitmix64 for seeds and hashes, and
 * xoshiro256** seeded through it. Public algorithms, written once here so
 * that every benchmark draws the same way; the library's generator is not
 * used, on purpose: a benchmark's noise must not depend on the library it
 * measures. Header-only, for the programs under tests/bench. */
#ifndef AC_BENCH_RNG_H
#define AC_BENCH_RNG_H

#include <stdint.h>

static inline uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef struct xoshiro256 {
    uint64_t s[4];
} xoshiro256;

static inline void xoshiro_seed(xoshiro256 *r, uint64_t seed)
{
    uint64_t st = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&st);
}

static inline uint64_t xoshiro_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t xoshiro_next(xoshiro256 *r)
{
    uint64_t *s = r->s;
    uint64_t result = xoshiro_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = xoshiro_rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1), 53 random bits. */
static inline double xoshiro_uniform(xoshiro256 *r)
{
    return (double)(xoshiro_next(r) >> 11) * 0x1.0p-53;
}

#endif
