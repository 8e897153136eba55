#include "common/bits.h"
#include "common/coalition.h"

#include <stdio.h>
#include <string.h>

#include "agentcredit.h"

uint32_t ac_coalition_words(uint32_t n_players)
{
    return (uint32_t)(((uint64_t)n_players + 63) / 64);
}

uint32_t ac__coalition_size(const uint64_t *c, uint32_t words)
{
    uint32_t k = 0;
    for (uint32_t w = 0; w < words; w++)
        k += ac__popcount64(c[w]);
    return k;
}

int ac__coalition_valid(const uint64_t *c, uint32_t words, uint32_t n)
{
    if (words == 0)
        return n == 0;
    uint32_t tail = n & 63;
    uint32_t full = n >> 6;
    for (uint32_t w = full + (tail ? 1 : 0); w < words; w++)
        if (c[w] != 0)
            return 0;
    if (tail && (c[full] >> tail) != 0)
        return 0;
    return 1;
}

void ac__coalition_fill(uint64_t *c, uint32_t words, uint32_t n)
{
    memset(c, 0, (size_t)words * sizeof *c);
    for (uint32_t w = 0; w < n / 64; w++)
        c[w] = UINT64_MAX;
    if (n & 63)
        c[n / 64] = ((uint64_t)1 << (n & 63)) - 1;
}

uint64_t ac__coalition_hash(const uint64_t *c, uint32_t words)
{
    uint64_t h = 0x243f6a8885a308d3ULL ^ words;
    for (uint32_t w = 0; w < words; w++) {
        h ^= c[w];
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 29);
}

void ac__coalition_format(const uint64_t *c, uint32_t n, char *buf, size_t cap)
{
    size_t used = 0;
    int first = 1;
    if (cap < 8) {
        if (cap)
            buf[0] = '\0';
        return;
    }
    buf[used++] = '{';
    for (uint32_t i = 0; i < n; i++) {
        if (!ac__bit_test(c, i))
            continue;
        char item[16];
        int len = snprintf(item, sizeof item, "%s%u", first ? "" : ",", i);
        if (used + (size_t)len + 6 > cap) { /* room for ",...}" and NUL */
            memcpy(buf + used, ",...", 4);
            used += 4;
            break;
        }
        memcpy(buf + used, item, (size_t)len);
        used += (size_t)len;
        first = 0;
    }
    buf[used++] = '}';
    buf[used] = '\0';
}
