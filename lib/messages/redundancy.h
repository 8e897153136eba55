/* Redundant messages: exact repeats of an earlier message by the same agent,
 * compared after collapsing runs of white space and trimming the ends. */
#ifndef AC_REDUNDANCY_H
#define AC_REDUNDANCY_H

#include <stdint.h>

#include "common/alloc.h"

/* redundant[t] = 1 when message t repeats an earlier message of its agent.
 * texts[t] has lengths[t] bytes (lengths NULL: NUL-terminated). Expected
 * O(T) with hashing; AC_E_NO_MEMORY or AC_OK. */
int ac__find_redundant(const ac__mem *m, const char *const *texts,
                       const uint64_t *lengths, const uint32_t *agent_of,
                       uint32_t n_messages, uint8_t *redundant);

#endif
