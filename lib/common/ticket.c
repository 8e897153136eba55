#include "common/ticket.h"

#include <stddef.h>
#include <string.h>

#include "agentcredit.h"
#include "common/errors.h"

void ac__tickets_init(ac__tickets *tk)
{
    tk->t = NULL;
    tk->session_first = tk->first = 1;
    tk->count = tk->cap = tk->issued = tk->outstanding = 0;
    tk->told_front = 0;
}

void ac__tickets_clear(ac__tickets *tk, const ac__mem *mem)
{
    ac__mem_free(mem, tk->t);
    tk->t = NULL;
    tk->first += tk->count;
    tk->session_first = tk->first;
    tk->count = tk->cap = tk->issued = tk->outstanding = 0;
    tk->told_front = 0;
}

int ac__tickets_reserve(ac__tickets *tk, const ac__mem *mem, uint64_t more)
{
    uint64_t want = tk->count + more;
    if (want <= tk->cap)
        return AC_OK;
    uint64_t cap = tk->cap ? tk->cap : 64;
    while (cap < want)
        cap *= 2;
    if (cap > SIZE_MAX / sizeof *tk->t)
        return AC_E_NO_MEMORY;
    int rc = ac__mem_grow(mem, (void **)&tk->t, (size_t)tk->count,
                          (size_t)cap, sizeof *tk->t);
    if (rc == AC_OK)
        tk->cap = cap;
    return rc;
}

uint64_t ac__tickets_issue(ac__tickets *tk, uint32_t item, uint32_t aux,
                           uint32_t tries)
{
    tk->t[tk->count] = (ac__ticket){item, aux, tries, AC__TICKET_OUT};
    tk->outstanding++;
    tk->issued++;
    return tk->first + tk->count++;
}

ac__ticket *ac__tickets_find(const ac__tickets *tk, uint64_t ticket)
{
    if (ticket < tk->first || ticket - tk->first >= tk->count)
        return NULL;
    return &tk->t[ticket - tk->first];
}

static const char *why_not(const ac__tickets *tk, uint64_t ticket)
{
    const ac__ticket *t = ac__tickets_find(tk, ticket);
    if (t != NULL)
        return t->state == AC__TICKET_TOLD ? "was told already"
                                           : "is twice in this call";
    if (ticket >= tk->session_first && ticket < tk->first)
        return "was told already";
    if (ticket != 0 && ticket < tk->session_first)
        return "is from before a reset (stale)";
    return "was never handed out";
}

static void unclaim(ac__tickets *tk, uint32_t count, const uint64_t *tickets)
{
    for (uint32_t k = 0; k < count; k++)
        tk->t[tickets[k] - tk->first].state = AC__TICKET_OUT;
}

int ac__tickets_check(ac__tickets *tk, uint32_t count,
                      const uint64_t *tickets, char *err)
{
    for (uint32_t k = 0; k < count; k++) {
        ac__ticket *t = ac__tickets_find(tk, tickets[k]);
        if (t == NULL || t->state != AC__TICKET_OUT) {
            const char *why = why_not(tk, tickets[k]);
            unclaim(tk, k, tickets);
            return ac__fail(err, AC_E_INVALID_ARG,
                            "ticket %llu (position %u of the tell) %s",
                            (unsigned long long)tickets[k], k, why);
        }
        t->state = AC__TICKET_CLAIMED;
    }
    unclaim(tk, count, tickets);
    return AC_OK;
}

void ac__tickets_told(ac__tickets *tk, uint32_t count,
                      const uint64_t *tickets)
{
    for (uint32_t k = 0; k < count; k++)
        tk->t[tickets[k] - tk->first].state = AC__TICKET_TOLD;
    tk->outstanding -= count;
}

void ac__tickets_compact(ac__tickets *tk)
{
    /* A told ticket stays told, so the walk goes on from where the last
     * one stopped: over a session it passes each ticket once. Starting
     * from 0 instead made n tells of one ticket each, in the order asked,
     * cost n^2 / 8 steps (a minute at n = 2^20). */
    uint64_t told = tk->told_front;
    while (told < tk->count && tk->t[told].state == AC__TICKET_TOLD)
        told++;
    tk->told_front = told;
    /* Moving costs what is left; wait until it is at most what is dropped. */
    if (told < 64 || told < tk->count - told)
        return;
    memmove(tk->t, tk->t + told, (size_t)(tk->count - told) * sizeof *tk->t);
    tk->first += told;
    tk->count -= told;
    tk->told_front = 0;
}
