/* The handle-owned random generator: xoshiro256** seeded through splitmix64.
 * Small, fast, and reproducible bit for bit from the seed on every platform. */
#ifndef AC_RNG_H
#define AC_RNG_H

#include <stdint.h>

typedef struct ac__rng {
    uint64_t s[4];
} ac__rng;

void ac__rng_seed(ac__rng *r, uint64_t seed);
uint64_t ac__rng_next(ac__rng *r);
/* Uniform in [0, bound) without modulo bias; bound > 0. */
uint64_t ac__rng_below(ac__rng *r, uint64_t bound);
/* Uniform double in [0, 1) with 53 random bits. */
double ac__rng_uniform(ac__rng *r);
/* Standard normal draw (Marsaglia's polar method). */
double ac__rng_normal(ac__rng *r);
/* Fisher-Yates shuffle of a[0..n). */
void ac__rng_shuffle_u32(ac__rng *r, uint32_t *a, uint32_t n);

#endif
