/* The coalition cache: one entry per distinct coalition ever requested in a
 * run (or given as known), found by hashing its bitset. Entries carry the
 * evaluation state and, once complete, the mean value and its variance. */
#ifndef AC_COALITION_CACHE_H
#define AC_COALITION_CACHE_H

#include <stdint.h>

#include "common/alloc.h"

enum {
    AC__ENTRY_PENDING = 0, /* evaluations queued or outstanding     */
    AC__ENTRY_DONE = 1,    /* every repeat evaluated: mean, var set */
    AC__ENTRY_KNOWN = 2,   /* given by the host: exact, var 0        */
    AC__ENTRY_FAILED = 3   /* given up: failed, no budget to retry   */
};

typedef struct ac__entry {
    uint32_t state;
    uint32_t done;     /* successful evaluations so far          */
    uint32_t failures; /* failed evaluations so far              */
    uint16_t essential; /* the plan cannot do without it          */
    int16_t vexp;      /* var is the variance times 2^-vexp: 0 but
                          for values beyond 2^+-AC__SCALE_EXP,
                          whose variance may not fit a double      */
    double mean;       /* the value used by the estimators       */
    double var;        /* variance of mean (sample var / repeats),
                          times 2^-vexp                            */
} ac__entry;

typedef struct ac__cache {
    const ac__mem *mem;
    uint32_t words;
    uint32_t repeats;     /* value slots per entry                  */
    uint32_t count;       /* entries                                */
    uint32_t cap;         /* entries allocated                      */
    ac__entry *entries;
    uint64_t *keys;       /* count * words                          */
    double *slots;        /* count * repeats raw evaluations        */
    uint32_t *table;      /* open addressing; UINT32_MAX is empty   */
    uint32_t table_mask;  /* table size - 1 (power of two)          */
} ac__cache;

#define AC__NO_ENTRY UINT32_MAX

void ac__cache_init(ac__cache *c, const ac__mem *mem, uint32_t words,
                    uint32_t repeats);
void ac__cache_free(ac__cache *c);
uint32_t ac__cache_find(const ac__cache *c, const uint64_t *key);
/* Adds a PENDING entry for key (which must not be present). */
int ac__cache_insert(ac__cache *c, const uint64_t *key, uint32_t *index);
static inline const uint64_t *ac__cache_key(const ac__cache *c, uint32_t i)
{
    return c->keys + (uint64_t)i * c->words;
}
/* Stores evaluation `rep` of entry i; when all repeats are in, computes the
 * mean and variance in slot order (so tell order never changes a bit),
 * in the scaled space of credit/scale.h when the values' magnitude needs
 * it (their sum or their squares would overflow or underflow). */
void ac__cache_store(ac__cache *c, uint32_t i, uint32_t rep, double value);

#endif
