#include "messages/redundancy.h"

#include <stdlib.h>
#include <string.h>

typedef struct text_view {
    const char *p;
    uint64_t len;
} text_view;

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

/* Next character of the normalised text: runs of white space read as one
 * space, leading and trailing white space as nothing. -1 at the end. */
static int next_char(const text_view *v, uint64_t *pos)
{
    uint64_t i = *pos;
    int gap = 0;
    while (i < v->len && is_space(v->p[i])) {
        i++;
        gap = 1;
    }
    if (i >= v->len) {
        *pos = i;
        return -1;
    }
    if (gap && *pos > 0) {
        *pos = i; /* emit the gap now, the character on the next call */
        return ' ';
    }
    *pos = i + 1;
    return (unsigned char)v->p[i];
}

static uint64_t normalised_hash(const text_view *v)
{
    uint64_t h = 0xcbf29ce484222325ULL, pos = 0;
    for (int c; (c = next_char(v, &pos)) >= 0;)
        h = (h ^ (uint64_t)c) * 0x100000001b3ULL;
    return h;
}

static int normalised_equal(const text_view *a, const text_view *b)
{
    uint64_t pa = 0, pb = 0;
    for (;;) {
        int ca = next_char(a, &pa), cb = next_char(b, &pb);
        if (ca != cb)
            return 0;
        if (ca < 0)
            return 1;
    }
}

typedef struct keyed {
    uint64_t hash;
    uint32_t agent;
    uint32_t message;
} keyed;

static int by_key(const void *x, const void *y)
{
    const keyed *a = x, *b = y;
    if (a->agent != b->agent)
        return a->agent < b->agent ? -1 : 1;
    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    return a->message < b->message ? -1 : (a->message > b->message);
}

int ac__find_redundant(const ac__mem *m, const char *const *texts,
                       const uint64_t *lengths, const uint32_t *agent_of,
                       uint32_t n_messages, uint8_t *redundant)
{
    keyed *keys = ac__mem_alloc(m, n_messages, sizeof *keys);
    text_view *views = ac__mem_alloc(m, n_messages, sizeof *views);
    if (keys == NULL || views == NULL) {
        ac__mem_free(m, keys);
        ac__mem_free(m, views);
        return AC_E_NO_MEMORY;
    }
    for (uint32_t t = 0; t < n_messages; t++) {
        views[t].p = texts[t] ? texts[t] : "";
        views[t].len = lengths ? lengths[t] : strlen(views[t].p);
        keys[t].hash = normalised_hash(&views[t]);
        keys[t].agent = agent_of[t];
        keys[t].message = t;
        redundant[t] = 0;
    }
    /* Same agent and hash sit together, earliest message first; within a
     * group each message is compared with the earlier distinct texts. */
    qsort(keys, n_messages, sizeof *keys, by_key);
    for (uint32_t i = 0; i < n_messages; i++) {
        for (uint32_t j = i; j-- > 0;) {
            if (keys[j].agent != keys[i].agent || keys[j].hash != keys[i].hash)
                break;
            if (!redundant[keys[j].message] &&
                normalised_equal(&views[keys[i].message], &views[keys[j].message])) {
                redundant[keys[i].message] = 1;
                break;
            }
        }
    }
    ac__mem_free(m, keys);
    ac__mem_free(m, views);
    return AC_OK;
}
