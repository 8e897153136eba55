/* Coalitions as bitsets of 64-bit words: membership, size, validity, hashing
 * and a printable form for error messages. */
#ifndef AC_COALITION_H
#define AC_COALITION_H

#include <stddef.h>
#include <stdint.h>

static inline int ac__bit_test(const uint64_t *c, uint32_t i)
{
    return (int)((c[i >> 6] >> (i & 63)) & 1u);
}

static inline void ac__bit_set(uint64_t *c, uint32_t i)
{
    c[i >> 6] |= (uint64_t)1 << (i & 63);
}

uint32_t ac__coalition_size(const uint64_t *c, uint32_t words);
/* 1 when no bit at or beyond n is set. */
int ac__coalition_valid(const uint64_t *c, uint32_t words, uint32_t n);
/* Fills c with the grand coalition {0..n-1}. */
void ac__coalition_fill(uint64_t *c, uint32_t words, uint32_t n);
uint64_t ac__coalition_hash(const uint64_t *c, uint32_t words);
/* Writes "{0,3,7}" (shortened with "..." when it does not fit) into buf. */
void ac__coalition_format(const uint64_t *c, uint32_t n, char *buf,
                          size_t cap);

#endif
