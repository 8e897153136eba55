/* The estimator's interactions (AC_ESTIMATOR_PARAM_INTERACTIONS): whether a
 * run may start with them, the figures at its end, and the reader. Every
 * method that evaluates the whole table gives them; a sampled method gives
 * them when its cache ends up complete, as it then gives exact credits. */
#include <math.h>
#include <string.h>

#include "credit/estimator_internal.h"
#include "credit/interactions.h"
#include "credit/scale.h"

/* A method with its own interactions operation plans the whole table (its
 * begin() checks the budget); one that reports exact values from a
 * complete cache can reach it only when the budget pays for it. */
int ac__est_interactions_check(ac_estimator *e)
{
    const ac__method *m = e->method;
    if (!e->p.interactions)
        return AC_OK;
    if (e->n > AC_EXACT_MAX_PLAYERS)
        return ac__fail(e->err, AC_E_TOO_LARGE,
                        "interactions (AC_ESTIMATOR_PARAM_INTERACTIONS) need "
                        "every coalition: at most %u players, not %u",
                        AC_EXACT_MAX_PLAYERS, e->n);
    if (m->ops->interactions != NULL)
        return AC_OK;
    if (!m->exact_when_complete)
        return ac__fail(e->err, AC_E_INVALID_ARG,
                        "the %s method cannot give interactions "
                        "(AC_ESTIMATOR_PARAM_INTERACTIONS): take exact or "
                        "adaptive", m->name);
    if (!ac__est_table_affordable(e))
        return ac__fail(e->err, AC_E_BUDGET,
                        "interactions (AC_ESTIMATOR_PARAM_INTERACTIONS) need "
                        "every coalition: the budget of %lld does not pay "
                        "for the %lld of the %llu not known (times %lld "
                        "repeats, and a margin for retries) that the %s "
                        "method would have to reach",
                        (long long)e->p.budget,
                        (long long)(((int64_t)1 << e->n) -
                                    (int64_t)e->known.count),
                        (unsigned long long)1 << e->n,
                        (long long)e->p.repeats, m->name);
    return AC_OK;
}

/* With every coalition in the cache, the means and their noise as the
 * credits read them (ac__est_exact_from_cache): the two errors agree. */
int ac__est_interactions_from_cache(ac_estimator *e, double *index,
                                    double *se)
{
    uint64_t total = (uint64_t)1 << e->n;
    double *mean = ac__mem_alloc(&e->mem, (size_t)total, sizeof *mean);
    double *var = ac__mem_alloc(&e->mem, (size_t)total, sizeof *var);
    int rc = mean && var ? ac__est_cache_means(e, mean) : AC_E_NO_MEMORY;
    int noise = rc == AC_OK ? ac__est_cache_noise(e, var) : AC__NOISE_NONE;
    if (rc == AC_OK)
        rc = ac__pair_interactions(&e->mem, e->n, mean,
                                   noise == AC__NOISE_SEEN ? var : NULL,
                                   &e->cancelled, index, se);
    for (uint64_t p = 0; rc == AC_OK && noise == AC__NOISE_UNSEEN &&
                         p < ac__pair_count(e->n); p++)
        se[p] = INFINITY;
    ac__mem_free(&e->mem, mean);
    ac__mem_free(&e->mem, var);
    return rc;
}

/* The figures in the host's units (times 2^vshift), each checked: an
 * index or a standard error beyond a double is AC_E_TOO_LARGE naming the
 * pair, as a credit is; a standard error of +inf is the noise that could
 * not be seen (ac__est_interactions_from_cache), as a credit's. */
static int to_host(ac_estimator *e, double *index, double *se)
{
    uint64_t p = 0;
    for (uint32_t i = 0; i < e->n; i++)
        for (uint32_t j = i + 1; j < e->n; j++, p++) {
            index[p] = ldexp(index[p], e->vshift);
            se[p] = ldexp(se[p], e->vshift);
            if (isfinite(index[p]) && (isfinite(se[p]) || se[p] == INFINITY))
                continue;
            return ac__fail(e->err, AC_E_TOO_LARGE,
                            "the interaction of players %u and %u (or its "
                            "standard error) is beyond the largest double "
                            "(1.8e308): the game's values reach %.3g in "
                            "magnitude", i, j, e->vmax);
        }
    return AC_OK;
}

int ac__est_interactions_finish(ac_estimator *e)
{
    if (!e->p.interactions)
        return AC_OK;
    const ac__method *m = e->method;
    int own = m->ops->interactions != NULL;
    if (!own && !(m->exact_when_complete && ac__est_cache_complete(e)))
        return AC_OK; /* none: the reader says why */
    size_t pairs = (size_t)ac__pair_count(e->n);
    double *index = ac__mem_alloc(&e->mem, pairs ? pairs : 1, sizeof *index);
    double *se = ac__mem_alloc(&e->mem, pairs ? pairs : 1, sizeof *se);
    int rc = index && se ? AC_OK : AC_E_NO_MEMORY;
    if (rc == AC_OK)
        rc = own ? m->ops->interactions(e, index, se)
                 : ac__est_interactions_from_cache(e, index, se);
    if (rc == AC_OK)
        rc = to_host(e, index, se);
    if (rc != AC_OK) {
        ac__mem_free(&e->mem, index);
        ac__mem_free(&e->mem, se);
        return rc;
    }
    e->inter = index;
    e->inter_se = se;
    return AC_OK;
}

/* Why a finished run has no interactions. */
static int none_reason(const ac_estimator *e)
{
    if (!e->p.interactions)
        return ac__fail(e->err, AC_E_STATE, "no interactions: "
                        "AC_ESTIMATOR_PARAM_INTERACTIONS was 0 for this run");
    return ac__fail(e->err, AC_E_STATE,
                    "no interactions: the %s method ended with %u of the "
                    "%llu coalitions in its cache (%lld given up), and only "
                    "the whole table gives them",
                    e->method->name, e->cache.count,
                    (unsigned long long)1 << e->n, (long long)e->dropped);
}

int ac_estimator_interactions(const ac_estimator *est, double *index,
                              double *se, size_t len)
{
    if (est == NULL || (index == NULL && len > 0))
        return AC_E_INVALID_ARG;
    uint64_t pairs = ac__pair_count(est->n);
    if (len != pairs)
        return ac__fail(est->err, AC_E_INVALID_ARG,
                        "interactions of %u players are %llu pairs, not %zu",
                        est->n, (unsigned long long)pairs, len);
    if (est->phase != AC__PHASE_DONE)
        return ac__fail(est->err, AC_E_STATE,
                        est->phase == AC__PHASE_FAILED
                            ? "the run failed: no interactions"
                            : "the run is not finished: no interactions yet");
    if (est->inter == NULL)
        return none_reason(est);
    if (len > 0)
        memcpy(index, est->inter, len * sizeof *index);
    if (se != NULL && len > 0)
        memcpy(se, est->inter_se, len * sizeof *se);
    return AC_OK;
}
