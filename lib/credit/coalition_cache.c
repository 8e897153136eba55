#include "credit/coalition_cache.h"

#include <math.h>
#include <string.h>

#include "common/coalition.h"
#include "credit/scale.h"

void ac__cache_init(ac__cache *c, const ac__mem *mem, uint32_t words,
                    uint32_t repeats)
{
    memset(c, 0, sizeof *c);
    c->mem = mem;
    c->words = words;
    c->repeats = repeats;
}

void ac__cache_free(ac__cache *c)
{
    if (c->mem == NULL)
        return;
    ac__mem_free(c->mem, c->entries);
    ac__mem_free(c->mem, c->keys);
    ac__mem_free(c->mem, c->slots);
    ac__mem_free(c->mem, c->table);
    ac__cache_init(c, c->mem, c->words, c->repeats);
}

uint32_t ac__cache_find(const ac__cache *c, const uint64_t *key)
{
    if (c->table == NULL)
        return AC__NO_ENTRY;
    uint64_t h = ac__coalition_hash(key, c->words);
    for (uint32_t pos = (uint32_t)h & c->table_mask;;
         pos = (pos + 1) & c->table_mask) {
        uint32_t i = c->table[pos];
        if (i == AC__NO_ENTRY)
            return AC__NO_ENTRY;
        if (memcmp(ac__cache_key(c, i), key, c->words * sizeof *key) == 0)
            return i;
    }
}

static void table_place(ac__cache *c, uint32_t *table, uint32_t mask,
                        uint32_t i)
{
    uint64_t h = ac__coalition_hash(ac__cache_key(c, i), c->words);
    uint32_t pos = (uint32_t)h & mask;
    while (table[pos] != AC__NO_ENTRY)
        pos = (pos + 1) & mask;
    table[pos] = i;
}

/* Keeps the load factor at most 1/2 so probes stay short. */
static int table_reserve(ac__cache *c, uint32_t want)
{
    uint64_t size = c->table ? (uint64_t)c->table_mask + 1 : 0;
    if ((uint64_t)want * 2 <= size)
        return AC_OK;
    uint64_t new_size = size ? size : 64;
    while ((uint64_t)want * 2 > new_size)
        new_size *= 2;
    if (new_size > ((uint64_t)1 << 31))
        return AC_E_TOO_LARGE;
    uint32_t *table = ac__mem_alloc(c->mem, (size_t)new_size, sizeof *table);
    if (table == NULL)
        return AC_E_NO_MEMORY;
    memset(table, 0xff, (size_t)new_size * sizeof *table);
    for (uint32_t i = 0; i < c->count; i++)
        table_place(c, table, (uint32_t)(new_size - 1), i);
    ac__mem_free(c->mem, c->table);
    c->table = table;
    c->table_mask = (uint32_t)(new_size - 1);
    return AC_OK;
}

static int entries_reserve(ac__cache *c, uint32_t want)
{
    if (want <= c->cap)
        return AC_OK;
    uint64_t cap = c->cap ? (uint64_t)c->cap * 2 : 64;
    if (cap > AC__NO_ENTRY - 1)
        cap = AC__NO_ENTRY - 1;
    if (want > cap)
        return AC_E_TOO_LARGE;
    /* Grow all three arrays before committing, so a failure leaves the
     * cache exactly as it was. */
    ac__entry *entries = ac__mem_alloc(c->mem, (size_t)cap, sizeof *entries);
    uint64_t *keys = ac__mem_alloc(c->mem, (size_t)cap * c->words, sizeof *keys);
    double *slots = ac__mem_alloc(c->mem, (size_t)cap * c->repeats, sizeof *slots);
    if (entries == NULL || keys == NULL || slots == NULL) {
        ac__mem_free(c->mem, entries);
        ac__mem_free(c->mem, keys);
        ac__mem_free(c->mem, slots);
        return AC_E_NO_MEMORY;
    }
    if (c->count) {
        memcpy(entries, c->entries, c->count * sizeof *entries);
        memcpy(keys, c->keys, (size_t)c->count * c->words * sizeof *keys);
        memcpy(slots, c->slots, (size_t)c->count * c->repeats * sizeof *slots);
    }
    ac__mem_free(c->mem, c->entries);
    ac__mem_free(c->mem, c->keys);
    ac__mem_free(c->mem, c->slots);
    c->entries = entries;
    c->keys = keys;
    c->slots = slots;
    c->cap = (uint32_t)cap;
    return AC_OK;
}

int ac__cache_insert(ac__cache *c, const uint64_t *key, uint32_t *index)
{
    int rc = entries_reserve(c, c->count + 1);
    if (rc == AC_OK)
        rc = table_reserve(c, c->count + 1);
    if (rc != AC_OK)
        return rc;
    uint32_t i = c->count++;
    memcpy(c->keys + (uint64_t)i * c->words, key, c->words * sizeof *key);
    memset(&c->entries[i], 0, sizeof c->entries[i]);
    c->entries[i].state = AC__ENTRY_PENDING;
    table_place(c, c->table, c->table_mask, i);
    *index = i;
    return AC_OK;
}

void ac__cache_store(ac__cache *c, uint32_t i, uint32_t rep, double value)
{
    ac__entry *e = &c->entries[i];
    double *slot = c->slots + (uint64_t)i * c->repeats;
    slot[rep] = value;
    if (++e->done < c->repeats)
        return;
    /* A single value needs no scaling: its mean is itself, its variance 0. */
    double big = 0.0;
    for (uint32_t k = 0; c->repeats > 1 && k < c->repeats; k++)
        if (fabs(slot[k]) > big)
            big = fabs(slot[k]);
    int shift = ac__scale_shift(big);
    double down = shift ? ldexp(1.0, -shift) : 1.0; /* 1: no bit changes */
    double mean = 0.0;
    for (uint32_t k = 0; k < c->repeats; k++)
        mean += slot[k] * down;
    mean /= c->repeats;
    double ss = 0.0;
    for (uint32_t k = 0; k < c->repeats; k++)
        ss += (slot[k] * down - mean) * (slot[k] * down - mean);
    e->mean = shift ? ldexp(mean, shift) : mean;
    e->var = c->repeats > 1 ? ss / (c->repeats - 1) / c->repeats : 0.0;
    e->vexp = (int16_t)(2 * shift);
    e->state = AC__ENTRY_DONE;
}
