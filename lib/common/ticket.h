/* The ask/tell protocol every object shares (estimator, refiner, localizer).
 *
 * Work is handed out as tickets: 64-bit numbers that count up over the
 * handle's whole life and are never reused, so a ticket from before a reset
 * (a stale one) can never be taken for a new one however many resets
 * happen. A ticket is outstanding from ask until its tell; a tell takes any
 * subset of the outstanding tickets in any order, and is checked whole
 * before any of it is taken. Each object keeps its own meaning in the
 * ticket's record (a coalition and its repeat, a message, a prefix and its
 * place in the round). */
#ifndef AC_TICKET_H
#define AC_TICKET_H

#include <stdint.h>

#include "common/alloc.h"

typedef struct ac__ticket {
    uint32_t item;  /* what is asked: a cache entry, a message, a prefix */
    uint32_t aux;   /* the object's own: a repeat, a place in a round     */
    uint32_t tries; /* earlier failed answers to this work                */
    uint32_t state; /* AC__TICKET_OUT or AC__TICKET_TOLD                  */
} ac__ticket;

enum { AC__TICKET_OUT = 0, AC__TICKET_TOLD = 1, AC__TICKET_CLAIMED = 2 };

typedef struct ac__tickets {
    ac__ticket *t;         /* tickets from the oldest one not yet told   */
    uint64_t session_first;/* the session's first ticket: older are stale */
    uint64_t first;        /* the number of t[0]; from session_first to
                              here every ticket was told                  */
    uint64_t count, cap;   /* tickets in t, room                          */
    uint64_t told_front;   /* t[0 .. told_front) are known to be told     */
    uint64_t issued;       /* handed out this session                     */
    uint64_t outstanding;  /* handed out and not yet told                 */
} ac__tickets;

/* An empty table whose first ticket is 1 (0 is never a ticket). */
void ac__tickets_init(ac__tickets *tk);
/* Ends the session: every ticket handed out so far becomes stale. */
void ac__tickets_clear(ac__tickets *tk, const ac__mem *mem);
/* Room for `more` tickets beyond those issued, so that a failed allocation
 * happens before anything is handed out. AC_E_NO_MEMORY. */
int ac__tickets_reserve(ac__tickets *tk, const ac__mem *mem, uint64_t more);
/* Hands out one ticket (room reserved) and returns its number. */
uint64_t ac__tickets_issue(ac__tickets *tk, uint32_t item, uint32_t aux,
                           uint32_t tries);
/* The record of an outstanding or told ticket of this session; NULL for any
 * other number. */
ac__ticket *ac__tickets_find(const ac__tickets *tk, uint64_t ticket);
/* Checks a tell before any of it is taken: every ticket outstanding and
 * none twice. On failure nothing changes and err (AC__ERRMSG_CAP bytes)
 * says which ticket and why: never handed out, from before a reset,
 * already told, or twice in this call. AC_OK or AC_E_INVALID_ARG. */
int ac__tickets_check(ac__tickets *tk, uint32_t count,
                      const uint64_t *tickets, char *err);
/* Marks checked tickets told. Records found before stay valid until
 * ac__tickets_compact. */
void ac__tickets_told(ac__tickets *tk, uint32_t count,
                      const uint64_t *tickets);
/* Drops the told tickets at the front, so that the table holds what is
 * outstanding (and the few told among it), not every ticket of the run.
 * Amortized O(1) per ticket: the told run at the front is remembered, so a
 * tell of one ticket behind a million outstanding ones does not walk the
 * million again. Invalidates records found before. */
void ac__tickets_compact(ac__tickets *tk);

#endif
