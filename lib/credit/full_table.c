/* The game's full table of 2^n values, which several methods reach (exact
 * and adaptive by plan, the sampled ones when the budget covers it): what it
 * costs, whether the cache holds it, and the exact values from it. */
#include <string.h>

#include "credit/estimator_internal.h"
#include "credit/shapley_exact.h"

/* The table pays when every coalition not known fits in the budget with a
 * margin for retries (about 3%): a method that cannot do without any
 * coalition would otherwise turn one failed evaluation into a failed run.
 * The sampled methods at such budgets reach the whole table too, and then
 * report the exact values from their cache. */
int ac__est_table_affordable(const ac_estimator *e)
{
    if (e->n > AC_EXACT_MAX_PLAYERS)
        return 0;
    int64_t missing = ((int64_t)1 << e->n) - (int64_t)e->known.count;
    int64_t cost = missing * e->p.repeats;
    return cost + ac__est_retry_margin(cost, e->p.max_retries) <= e->p.budget;
}

int64_t ac__est_retry_margin(int64_t cost, int64_t max_retries)
{
    return max_retries > 0 ? 2 + cost / 32 : 0;
}

int ac__est_cache_complete(const ac_estimator *e)
{
    return e->n <= AC_EXACT_MAX_PLAYERS &&
           e->cache.count == ((uint64_t)1 << e->n) && e->dropped == 0;
}

/* With every coalition in the cache (n <= 30, so one word a key), the
 * cache is the value table (in the scaled space: ac__est_value). */
int ac__est_exact_from_cache(ac_estimator *e, double *phi, double *se)
{
    uint64_t total = (uint64_t)1 << e->n;
    double *table = ac__mem_alloc(&e->mem, (size_t)total, sizeof *table);
    if (table == NULL)
        return AC_E_NO_MEMORY;
    int noisy = 0;
    for (uint32_t i = 0; i < e->cache.count; i++) {
        if (i % 65536 == 0 && ac__est_cancelled(e)) { /* up to 2^30 */
            ac__mem_free(&e->mem, table);
            return AC_E_CANCELLED;
        }
        table[ac__cache_key(&e->cache, i)[0]] = ac__est_value(e, i);
        noisy |= ac__est_var(e, i) > 0.0;
    }
    int rc = ac__shapley_table_stop(&e->mem, e->n, table, &e->cancelled, phi);
    if (rc == AC_OK && noisy) {
        for (uint32_t i = 0; i < e->cache.count; i++)
            table[ac__cache_key(&e->cache, i)[0]] = ac__est_var(e, i);
        rc = ac__shapley_table_se(&e->mem, e->n, table, &e->cancelled, se);
    } else if (rc == AC_OK) {
        memset(se, 0, e->n * sizeof *se);
    }
    ac__mem_free(&e->mem, table);
    return rc;
}
