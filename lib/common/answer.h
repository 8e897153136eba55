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

#endif
