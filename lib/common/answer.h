/* The one answer rule for every callback and every tell (an oracle's value,
 * a scorer's label, a verifier's probability):
 *   - an answer has failed when its status is non-zero or its value is not
 *     finite (NaN, an infinity); a failed answer is asked again up to the
 *     object's retry limit and never read as a number;
 *   - a finite value outside the object's documented range is the host's
 *     error (AC_E_INVALID_ARG), named in last_error, and nothing of the
 *     tell is taken. */
#ifndef AC_ANSWER_H
#define AC_ANSWER_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "common/alloc.h"
#include "common/ticket.h"

/* status may be NULL (every status 0). */
static inline int ac__answer_failed(const int32_t *status,
                                    const double *values, uint32_t k)
{
    return (status != NULL && status[k] != 0) || !isfinite(values[k]);
}

/* AC_OK, or AC_E_INVALID_ARG with a message in err naming the first answer
 * of a tell that did not fail and lies outside [lo, hi]: what names the
 * answers ("the verifier's p_on_track"), item_name what their tickets'
 * items are ("prefix", "message"). The tickets are checked already. */
int ac__answer_check_range(const ac__tickets *tk, const uint64_t *tickets,
                           const int32_t *status, const double *values,
                           uint32_t count, double lo, double hi,
                           const char *what, const char *item_name,
                           char *err);

/* Fills answers before a callback writes them, as every callback's contract
 * says (values NaN, status 0): an answer the callback forgets has failed. */
void ac__answer_prefill(double *values, int32_t *status, uint32_t count);

/* The buffers of ac_<object>_run's rounds: width tickets, their payloads
 * (item_size bytes each: a coalition, a message, a prefix), the answers and
 * their statuses. */
typedef struct ac__batch {
    uint64_t *tickets;
    void *items;
    double *values;
    int32_t *status;
} ac__batch;

/* AC_OK, or AC_E_NO_MEMORY (nothing left allocated) with err saying so. */
int ac__batch_alloc(ac__batch *b, const ac__mem *mem, uint32_t width,
                    size_t item_size, char *err);
void ac__batch_free(ac__batch *b, const ac__mem *mem);

#endif
