/* Permutation sampling with antithetic pairs: each unit is a random order of
 * the players and its reverse. In one order the marginal contributions
 * telescope to v(all) - v(empty), so every unit conserves credit by itself;
 * the reverse order pairs early positions with late ones, which cancels much
 * of the position effect (antithetic variates). */
#include <math.h>
#include <string.h>

#include "common/coalition.h"
#include "credit/methods.h"

typedef struct perm_state {
    uint32_t *order;      /* scratch permutation, n                    */
    uint64_t *key;        /* scratch coalition                         */
    uint32_t *units;      /* per unit: order (n), fwd (n+1), rev (n+1) */
    uint32_t n_units, cap_units;
} perm_state;

static size_t unit_len(uint32_t n)
{
    return (size_t)3 * n + 2;
}

static int perm_begin(ac_estimator *e)
{
    perm_state *s = ac__mem_calloc(&e->mem, 1, sizeof *s);
    if (s == NULL)
        return AC_E_NO_MEMORY;
    e->mstate = s;
    s->order = ac__mem_alloc(&e->mem, e->n, sizeof *s->order);
    s->key = ac__mem_alloc(&e->mem, e->words, sizeof *s->key);
    if (s->order == NULL || s->key == NULL)
        return AC_E_NO_MEMORY;
    for (uint32_t i = 0; i < e->n; i++)
        s->order[i] = i;
    return AC_OK;
}

/* The prefix coalitions of order (forward) or of its reverse: calls visit
 * with k = 1 .. n-1 and the k-th prefix in s->key. */
static int64_t prefix_cost(ac_estimator *e, perm_state *s, int reverse)
{
    int64_t cost = 0;
    memset(s->key, 0, e->words * sizeof *s->key);
    for (uint32_t k = 1; k < e->n; k++) {
        ac__bit_set(s->key, s->order[reverse ? e->n - k : k - 1]);
        cost += ac__est_cost(e, s->key);
    }
    return cost;
}

static int request_prefixes(ac_estimator *e, perm_state *s, int reverse,
                            uint32_t *entries)
{
    entries[0] = e->empty_entry;
    entries[e->n] = e->grand_entry;
    memset(s->key, 0, e->words * sizeof *s->key);
    for (uint32_t k = 1; k < e->n; k++) {
        ac__bit_set(s->key, s->order[reverse ? e->n - k : k - 1]);
        int rc = ac__est_request(e, s->key, 0, &entries[k]);
        if (rc != AC_OK)
            return rc;
    }
    return AC_OK;
}

static int perm_extend(ac_estimator *e, int *grew)
{
    perm_state *s = e->mstate;
    *grew = 0;
    ac__rng_shuffle_u32(&e->rng, s->order, e->n);
    /* A unit is planned whole or not at all: half a permutation says
     * nothing. The cost may count a coalition twice; it never undercounts. */
    int64_t cost = prefix_cost(e, s, 0) + prefix_cost(e, s, 1);
    if (cost > ac__est_remaining(e)) {
        if (s->n_units == 0)
            return ac__fail(e->err, AC_E_BUDGET,
                            "permutation sampling needs %lld evaluations for "
                            "one antithetic pair of %u players; the budget "
                            "leaves %lld",
                            (long long)cost, e->n,
                            (long long)ac__est_remaining(e));
        return AC_OK;
    }
    if (!ac__est_free_unit_ok(e, cost))
        return AC_OK;
    int rc = ac__mem_reserve(&e->mem, (void **)&s->units, s->n_units,
                             &s->cap_units, 16,
                             unit_len(e->n) * sizeof *s->units);
    if (rc == AC_E_TOO_LARGE)
        return ac__fail(e->err, rc, "2^32 - 1 permutations sampled already");
    if (rc != AC_OK)
        return rc;
    uint32_t *unit = s->units + s->n_units * unit_len(e->n);
    memcpy(unit, s->order, e->n * sizeof *unit);
    rc = request_prefixes(e, s, 0, unit + e->n);
    if (rc == AC_OK)
        rc = request_prefixes(e, s, 1, unit + 2 * e->n + 1);
    if (rc != AC_OK)
        return rc;
    s->n_units++;
    e->samples += 2;
    *grew = 1;
    return AC_OK;
}

/* A unit with a given-up coalition is left out whole: its contributions
 * would no longer telescope. */
static int unit_lost(const ac_estimator *e, const uint32_t *fwd,
                     const uint32_t *rev)
{
    for (uint32_t k = 1; k < e->n; k++)
        if (ac__est_failed(e, fwd[k]) || ac__est_failed(e, rev[k]))
            return 1;
    return 0;
}

/* Each unit gives every player the mean of its two marginal contributions;
 * the estimate is their mean over units, its error their spread. */
static int perm_estimate(ac_estimator *e, double *phi, double *se)
{
    perm_state *s = e->mstate;
    uint32_t n = e->n;
    double *x = ac__mem_alloc(&e->mem, n, sizeof *x);
    double *m2 = ac__mem_calloc(&e->mem, n, sizeof *m2);
    if (x == NULL || m2 == NULL) {
        ac__mem_free(&e->mem, x);
        ac__mem_free(&e->mem, m2);
        return AC_E_NO_MEMORY;
    }
    memset(phi, 0, n * sizeof *phi);
    uint32_t used = 0;
    for (uint32_t u = 0; u < s->n_units; u++) {
        const uint32_t *order = s->units + u * unit_len(n);
        const uint32_t *fwd = order + n, *rev = order + 2 * n + 1;
        if (unit_lost(e, fwd, rev))
            continue;
        for (uint32_t k = 1; k <= n; k++) {
            x[order[k - 1]] = 0.5 * (ac__est_value(e, fwd[k]) -
                                     ac__est_value(e, fwd[k - 1]));
        }
        for (uint32_t k = 1; k <= n; k++) {
            x[order[n - k]] += 0.5 * (ac__est_value(e, rev[k]) -
                                      ac__est_value(e, rev[k - 1]));
        }
        /* Welford, in unit order: bit-identical whatever the tell order. */
        used++;
        for (uint32_t i = 0; i < n; i++) {
            double d = x[i] - phi[i];
            phi[i] += d / used;
            m2[i] += d * (x[i] - phi[i]);
        }
    }
    /* With few units a player's contributions may agree by chance and its
     * sample variance collapse to 0. Each variance is shrunk towards the
     * players' average with the weight of one unit: negligible once units
     * are many, and no player is reported certain from a handful. */
    double pooled = 0.0;
    for (uint32_t i = 0; i < n; i++)
        pooled += used > 1 ? m2[i] / (used - 1) / n : 0.0;
    for (uint32_t i = 0; i < n; i++) {
        double var = used > 1 ? m2[i] / (used - 1) : 0.0;
        var = ((used - 1.0) * var + pooled) / used;
        se[i] = used > 1 ? sqrt(var / used) : INFINITY;
    }
    ac__mem_free(&e->mem, x);
    ac__mem_free(&e->mem, m2);
    if (used == 0)
        return ac__fail(e->err, AC_E_ORACLE,
                        "every sampled permutation lost an evaluation to "
                        "oracle failures (%lld coalitions given up)",
                        (long long)e->dropped);
    return AC_OK;
}

static void perm_end(ac_estimator *e)
{
    perm_state *s = e->mstate;
    if (s == NULL)
        return;
    ac__mem_free(&e->mem, s->order);
    ac__mem_free(&e->mem, s->key);
    ac__mem_free(&e->mem, s->units);
    ac__mem_free(&e->mem, s);
}

/* Any game and any budget: AUTO's last resort. */
static int perm_affordable(const ac_estimator *e)
{
    (void)e;
    return 1;
}

static const ac__method_ops OPS = {
    .begin = perm_begin,
    .extend = perm_extend,
    .estimate = perm_estimate,
    .end = perm_end,
    .outcome = ac__est_sampled_outcome,
    .total = ac__est_cache_total,
};

const ac__method ac__method_permutation = {
    .name = "permutation",
    .id = AC_METHOD_PERMUTATION,
    .affordable = perm_affordable,
    .ops = &OPS,
    .exact_when_complete = 1,
    .checkpoints = 1,
};
