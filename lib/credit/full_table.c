/* The game's full table of 2^n values, which several methods reach (exact
 * and adaptive by plan, the sampled ones when the budget covers it): what it
 * costs, whether the cache holds it, and the exact values from it. */
#include <math.h>

#include "common/bits.h"
#include "credit/estimator_internal.h"
#include "credit/noise_model.h"
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

int ac__est_cache_binary(const ac_estimator *e)
{
    const ac__cache *c = &e->cache;
    for (uint32_t i = 0; i < c->count; i++) {
        if (c->entries[i].state == AC__ENTRY_KNOWN)
            continue;
        const double *slot = c->slots + (uint64_t)i * c->repeats;
        for (uint32_t r = 0; r < c->repeats; r++)
            if (slot[r] != 0.0 && slot[r] != 1.0)
                return 0;
    }
    return 1;
}

/* The variance of each coalition's mean into var (by mask), from the
 * noise model over the cache: each coalition's own repeats shrunk towards
 * its layer, or p(1 - p) for 0/1 values; known values have none. */
static int cache_model(const ac_estimator *e, double *var)
{
    const ac__cache *c = &e->cache;
    double r = c->repeats;
    ac__layer_noise L;
    ac__noise_init(&L, e->n, ac__est_cache_binary(e));
    for (uint32_t i = 0; i < c->count; i++)
        if (c->entries[i].state != AC__ENTRY_KNOWN)
            ac__noise_add(&L, ac__popcount64(ac__cache_key(c, i)[0]), r,
                          ac__est_value(e, i), ac__est_var(e, i) * r);
    if (!ac__noise_pool(&L))
        return AC__NOISE_UNSEEN;
    for (uint32_t i = 0; i < c->count; i++) {
        uint64_t mask = ac__cache_key(c, i)[0];
        var[mask] = c->entries[i].state == AC__ENTRY_KNOWN
                        ? 0.0
                        : ac__noise_var(&L, ac__popcount64(mask), r,
                                        ac__est_value(e, i),
                                        ac__est_var(e, i) * r,
                                        AC__NOISE_SE_PRIOR) / r;
    }
    return AC__NOISE_SEEN;
}

int ac__est_cache_noise(const ac_estimator *e, double *var)
{
    if (!e->p.noisy && e->cache.repeats == 1)
        return AC__NOISE_NONE;
    return cache_model(e, var);
}

int ac__est_cache_means(ac_estimator *e, double *mean)
{
    for (uint32_t i = 0; i < e->cache.count; i++) {
        if (i % 65536 == 0 && ac__est_cancelled(e)) /* up to 2^30 */
            return AC_E_CANCELLED;
        mean[ac__cache_key(&e->cache, i)[0]] = ac__est_value(e, i);
    }
    return AC_OK;
}

/* The exact values from the cache's means; their standard errors from the
 * noise, 0 for a deterministic oracle, infinite when it cannot be seen. */
int ac__est_exact_from_cache(ac_estimator *e, double *phi, double *se)
{
    uint64_t total = (uint64_t)1 << e->n;
    double *table = ac__mem_alloc(&e->mem, (size_t)total, sizeof *table);
    if (table == NULL)
        return AC_E_NO_MEMORY;
    int rc = ac__est_cache_means(e, table), noise = AC__NOISE_NONE;
    if (rc == AC_OK)
        rc = ac__shapley_table_stop(&e->mem, e->n, table, &e->cancelled, phi);
    if (rc == AC_OK && (noise = ac__est_cache_noise(e, table)) ==
                           AC__NOISE_SEEN)
        rc = ac__shapley_table_se(&e->mem, e->n, table, &e->cancelled, se);
    else if (rc == AC_OK)
        for (uint32_t i = 0; i < e->n; i++)
            se[i] = noise == AC__NOISE_UNSEEN ? INFINITY : 0.0;
    ac__mem_free(&e->mem, table);
    return rc;
}
