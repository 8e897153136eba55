/* Bit counting on 64-bit words: the compiler's instruction where it has one,
 * plain C elsewhere (MSVC, other compilers), so no file calls a builtin. */
#ifndef AC_BITS_H
#define AC_BITS_H

#include <stdint.h>

/* AC_NO_BUILTIN_BITS forces the plain C (the unit test checks both). */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(AC_NO_BUILTIN_BITS)
#define AC__HAVE_BUILTIN_BITS 1
#endif

/* Number of bits set in x. */
static inline uint32_t ac__popcount64(uint64_t x)
{
#ifdef AC__HAVE_BUILTIN_BITS
    return (uint32_t)__builtin_popcountll(x);
#else
    x = x - ((x >> 1) & 0x5555555555555555u);
    x = (x & 0x3333333333333333u) + ((x >> 2) & 0x3333333333333333u);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fu;
    return (uint32_t)((x * 0x0101010101010101u) >> 56);
#endif
}

/* Index of the lowest set bit of x; x must not be 0. */
static inline uint32_t ac__ctz64(uint64_t x)
{
#ifdef AC__HAVE_BUILTIN_BITS
    return (uint32_t)__builtin_ctzll(x);
#else
    return ac__popcount64((x & (0 - x)) - 1);
#endif
}

#endif
