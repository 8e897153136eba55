/* The exact method: every coalition evaluated once (or AC_ESTIMATOR_PARAM_REPEATS
 * times), then the Shapley formula over the full table. */
#include <string.h>

#include "credit/estimator_internal.h"
#include "credit/shapley_exact.h"

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

int ac__est_cache_complete(const ac_estimator *e)
{
    return e->n <= AC_EXACT_MAX_PLAYERS &&
           e->cache.count == ((uint64_t)1 << e->n) && e->dropped == 0;
}

/* With every coalition in the cache (n <= 30, so one word a key), the
 * cache is the value table. */
int ac__est_exact_from_cache(ac_estimator *e, double *phi, double *se)
{
    uint64_t total = (uint64_t)1 << e->n;
    double *table = ac__mem_alloc(&e->mem, (size_t)total, sizeof *table);
    if (table == NULL)
        return AC_E_NO_MEMORY;
    int noisy = 0;
    for (uint32_t i = 0; i < e->cache.count; i++) {
        table[ac__cache_key(&e->cache, i)[0]] = ac__est_value(e, i);
        noisy |= ac__est_var(e, i) > 0.0;
    }
    int rc = ac__shapley_table(&e->mem, e->n, table, phi);
    if (rc == AC_OK && noisy) {
        for (uint32_t i = 0; i < e->cache.count; i++)
            table[ac__cache_key(&e->cache, i)[0]] = ac__est_var(e, i);
        rc = ac__shapley_table_se(&e->mem, e->n, table, se);
    } else if (rc == AC_OK) {
        memset(se, 0, e->n * sizeof *se);
    }
    ac__mem_free(&e->mem, table);
    return rc;
}

static void exact_end(ac_estimator *e)
{
    ac__mem_free(&e->mem, e->mstate);
}

const ac__method_ops ac__method_exact = {
    exact_begin, exact_extend, ac__est_exact_from_cache, exact_end, NULL,
    AC_ESTIMATOR_OUTCOME_COMPLETE, NULL, NULL, NULL,
};
