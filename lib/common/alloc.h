/* Per-handle memory: every allocation of a handle goes through its own
 * allocator (the host's ac_allocator, or malloc), never a global one. */
#ifndef AC_ALLOC_H
#define AC_ALLOC_H

#include <stddef.h>
#include <stdint.h>
#include "agentcredit.h"

typedef struct ac__mem {
    void *(*alloc)(void *opaque, size_t size);
    void (*free)(void *opaque, void *ptr);
    void *opaque;
} ac__mem;

/* Copies the host's allocator (NULL: malloc/free). AC_E_INVALID_ARG when the
 * struct is malformed (wrong struct_size, reserved not 0, NULL function). */
int ac__mem_init(ac__mem *m, const ac_allocator *alloc);
/* A handle's first block: initialises *mem from the host's allocator
 * (NULL: malloc/free) and returns `size` zeroed bytes from it, the handle
 * that will own *mem. NULL with *rc AC_E_INVALID_ARG (a malformed
 * allocator) or AC_E_NO_MEMORY. */
void *ac__mem_new_handle(const ac_allocator *alloc, size_t size, ac__mem *mem,
                         int *rc);
/* NULL on failure or on a size that overflows (count * size). */
void *ac__mem_alloc(const ac__mem *m, size_t count, size_t size);
void *ac__mem_calloc(const ac__mem *m, size_t count, size_t size);
void ac__mem_free(const ac__mem *m, void *p);
/* Grows *p from old_count to new_count elements, keeping the content.
 * On failure *p is untouched and AC_E_NO_MEMORY returned. */
int ac__mem_grow(const ac__mem *m, void **p, size_t old_count,
                 size_t new_count, size_t size);
/* Room for one more element in an array of *len elements counted in 32
 * bits: doubles *cap (from `first`) when it is full, never past
 * UINT32_MAX. AC_E_TOO_LARGE (nothing changed) when 2^32 - 1 elements are
 * there already; AC_E_NO_MEMORY as ac__mem_grow. */
int ac__mem_reserve(const ac__mem *m, void **p, uint32_t len, uint32_t *cap,
                    uint32_t first, size_t size);

#endif
