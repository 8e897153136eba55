#include "common/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *default_alloc(void *opaque, size_t size)
{
    (void)opaque;
    return malloc(size);
}

static void default_free(void *opaque, void *ptr)
{
    (void)opaque;
    free(ptr);
}

int ac__mem_init(ac__mem *m, const ac_allocator *alloc)
{
    if (alloc == NULL) {
        m->alloc = default_alloc;
        m->free = default_free;
        m->opaque = NULL;
        return AC_OK;
    }
    if (alloc->struct_size != sizeof(ac_allocator) || alloc->reserved != 0 ||
        alloc->alloc == NULL || alloc->free == NULL)
        return AC_E_INVALID_ARG;
    m->alloc = alloc->alloc;
    m->free = alloc->free;
    m->opaque = alloc->opaque;
    return AC_OK;
}

void *ac__mem_new_handle(const ac_allocator *alloc, size_t size, ac__mem *mem,
                         int *rc)
{
    *rc = ac__mem_init(mem, alloc);
    if (*rc != AC_OK)
        return NULL;
    void *h = ac__mem_calloc(mem, 1, size);
    *rc = h != NULL ? AC_OK : AC_E_NO_MEMORY;
    return h;
}

void *ac__mem_alloc(const ac__mem *m, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    size_t bytes = count * size;
    /* A zero-byte request still returns a distinct pointer, so callers need
     * no special case for empty arrays. */
    return m->alloc(m->opaque, bytes ? bytes : 1);
}

void *ac__mem_calloc(const ac__mem *m, size_t count, size_t size)
{
    void *p = ac__mem_alloc(m, count, size);
    if (p != NULL)
        memset(p, 0, count * size);
    return p;
}

void ac__mem_free(const ac__mem *m, void *p)
{
    if (p != NULL)
        m->free(m->opaque, p);
}

int ac__mem_grow(const ac__mem *m, void **p, size_t old_count,
                 size_t new_count, size_t size)
{
    void *q = ac__mem_alloc(m, new_count, size);
    if (q == NULL)
        return AC_E_NO_MEMORY;
    if (*p != NULL && old_count != 0)
        memcpy(q, *p, old_count * size);
    ac__mem_free(m, *p);
    *p = q;
    return AC_OK;
}

int ac__mem_reserve(const ac__mem *m, void **p, uint32_t len, uint32_t *cap,
                    uint32_t first, size_t size)
{
    if (len < *cap)
        return AC_OK;
    if (len == UINT32_MAX)
        return AC_E_TOO_LARGE;
    uint64_t want = *cap ? (uint64_t)*cap * 2 : first;
    uint32_t c = want > UINT32_MAX ? UINT32_MAX : (uint32_t)want;
    int rc = ac__mem_grow(m, p, len, c, size);
    if (rc == AC_OK)
        *cap = c;
    return rc;
}
