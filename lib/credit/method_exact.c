/* The exact method: every coalition evaluated once (or AC_ESTIMATOR_PARAM_REPEATS
 * times), then the Shapley formula over the full table. */
#include "credit/methods.h"

#define BLOCK 4096u

typedef struct exact_state {
    uint64_t next_mask; /* next coalition to plan */
} exact_state;

static int exact_begin(ac_estimator *e)
{
    if (e->n > AC_EXACT_MAX_PLAYERS)
        return ac__fail(e->err, AC_E_TOO_LARGE,
                        "the exact method takes at most %u players, not %u",
                        AC_EXACT_MAX_PLAYERS, e->n);
    uint64_t total = (uint64_t)1 << e->n;
    int64_t cost = (int64_t)(total - e->cache.count) * e->p.repeats;
    if (cost > ac__est_remaining(e))
        return ac__fail(e->err, AC_E_BUDGET,
                        "the exact method needs %lld more evaluations for %u "
                        "players; %lld of the budget of %lld are left",
                        (long long)cost, e->n,
                        (long long)ac__est_remaining(e), (long long)e->p.budget);
    exact_state *s = ac__mem_calloc(&e->mem, 1, sizeof *s);
    if (s == NULL)
        return AC_E_NO_MEMORY;
    e->mstate = s;
    return AC_OK;
}

static int exact_extend(ac_estimator *e, int *grew)
{
    exact_state *s = e->mstate;
    uint64_t total = (uint64_t)1 << e->n;
    *grew = s->next_mask < total;
    uint64_t end = s->next_mask + BLOCK < total ? s->next_mask + BLOCK : total;
    for (; s->next_mask < end; s->next_mask++) {
        /* The engine requested v(empty) and v(all) already. */
        if (s->next_mask == 0 || s->next_mask == total - 1)
            continue;
        uint64_t key = s->next_mask;
        uint32_t entry;
        int rc = ac__est_request(e, &key, 1, &entry);
        if (rc != AC_OK)
            return rc;
    }
    return AC_OK;
}

static void exact_end(ac_estimator *e)
{
    ac__mem_free(&e->mem, e->mstate);
}

/* Every coalition was evaluated (any failure past its retries ended the
 * run). */
static int exact_outcome(const ac_estimator *e)
{
    (void)e;
    return AC_ESTIMATOR_OUTCOME_COMPLETE;
}

static const ac__method_ops OPS = {
    .begin = exact_begin,
    .extend = exact_extend,
    .estimate = ac__est_exact_from_cache,
    .end = exact_end,
    .outcome = exact_outcome,
    .total = ac__est_cache_total,
    .interactions = ac__est_interactions_from_cache,
};

const ac__method ac__method_exact = {
    .name = "exact",
    .id = AC_METHOD_EXACT,
    /* AUTO takes it when the table pays (for a noisy oracle the adaptive
     * method, before it in the table, takes it first). */
    .affordable = ac__est_table_affordable,
    .ops = &OPS,
    .exact_when_complete = 1,
};
