/* The adaptive method: every coalition, with repeated evaluations of a
 * noisy oracle (a 0/1 rollout, an LLM judge) allocated where they cut the
 * credits' variance most.
 *
 * The exact formula makes phi_i a fixed linear combination of the coalition
 * means, so sum_i Var(phi_i) = sum_S a_S^2 sigma_S^2 / m_S, with a_S^2 the
 * sum over players of the squared Shapley coefficients of v(S) (it depends
 * on |S| only) and m_S the evaluations of S. For a given total, Neyman
 * allocation m_S proportional to a_S sigma_S minimises it. sigma_S is
 * unknown: the method learns it.
 *
 *   1. Pilot: every coalition AC_ESTIMATOR_PARAM_REPEATS times, and a probe: one more
 *      evaluation of the heaviest coalitions (largest a_S), so that some
 *      variance is seen. If every repeated coalition returned the same value
 *      twice, the oracle is taken as deterministic and the run ends with the
 *      exact values (stop reason COMPLETE), the rest of the budget unspent.
 *   2. Up to MAX_PHASES phases share what is left of the budget. Each
 *      allocates its share by water-filling: m_S towards lambda a_S s_S,
 *      never below what S already has, with s_S^2 the variance of one
 *      evaluation of S as estimated so far (model_variances). Each phase
 *      waits for the previous one's values, so phases are whole rounds of
 *      AC_ESTIMATOR_PARAM_BATCH evaluations (the pilot's last round is filled up): the
 *      waiting costs no extra round. With no whole round left after the
 *      pilot and the probe, the whole budget is allocated up front by a_S
 *      alone.
 *   3. The estimate: the exact formula over the means, and standard errors
 *      from the same shrunk variances over m_S.
 *
 * A phase plans at most phase_cap() evaluations, the larger of 2^16 and the
 * table (so that its O(2^n) work is spread over as many evaluations): a
 * larger share is spent in several phases, so the queue and the values
 * kept grow with the table, not with the budget. A phase's values are kept in the order they were
 * planned until the phase is in, then folded into each coalition's count,
 * mean and sum of squares in that order (fold_extras), so the result never
 * depends on the order of the tells. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/bits.h"
#include "credit/interactions.h"
#include "credit/methods.h"
#include "credit/noise_model.h"
#include "credit/shapley_exact.h"

#define MAX_PHASES 16   /* each costs O(2^n) work between two rounds */
/* Weight of the layer in a shrunk variance, in evaluations: strong for the
 * allocation (chasing the noise of a few rollouts costs more than the
 * differences within a layer gain), light for the standard errors
 * (AC__NOISE_SE_PRIOR: they should follow each coalition's own data). */
#define ALLOC_PRIOR 16.0
#define PROBE_MIN 64    /* coalitions re-evaluated to look for noise   */
#define PHASE_MIN_CAP ((int64_t)1 << 16) /* see phase_cap()          */

typedef struct adaptive_state {
    uint32_t n;
    uint64_t total;     /* 2^n                                        */
    uint32_t *entry;    /* 2^n: the cache entry of each coalition     */
    double *a;          /* n+1: a_S by size                           */
    uint32_t *ex_mask;  /* this phase's extra evaluations in planned   */
    double *ex_value;   /*   order: which S and the value (NaN until   */
    uint32_t n_extra, cap_extra; /* in, or dropped)                   */
    /* The extras of the phases before, folded, 2^n each: evaluations,
     * their mean and sum of squared deviations in the scaled space of
     * 2^-f_shift, and whether one differs from S's first value. */
    double *f_count, *f_mean, *f_m2;
    uint8_t *f_varies;
    int f_shift;
    int f_binary;       /* every folded value is 0 or 1               */
    /* The folded mean of v(empty) [0] and v(all) [1] in the host's units
     * too: the total the credits end up conserving must not lose what the
     * scaled space does. */
    double f_end[2];
    int started;        /* the pilot is planned                       */
    int phases_left;
    int64_t missing;    /* coalitions not given by the host           */
    int deterministic;  /* the probe saw no variance                  */
    double delta;       /* v(all) - v(empty), set by the estimate     */
    /* Scratch for phases and estimates, 2^n each. */
    double *count, *mean, *var;
    uint8_t *varies;    /* some value of S differs from its first     */
} adaptive_state;

static int adaptive_begin(ac_estimator *e)
{
    if (e->n > AC_ADAPTIVE_MAX_PLAYERS)
        return ac__fail(e->err, AC_E_TOO_LARGE,
                        "the adaptive method takes at most %u players, not %u",
                        AC_ADAPTIVE_MAX_PLAYERS, e->n);
    uint64_t total = (uint64_t)1 << e->n;
    int64_t cost = (int64_t)(total - e->cache.count) * e->p.repeats;
    if (cost > ac__est_remaining(e))
        return ac__fail(e->err, AC_E_BUDGET,
                        "the adaptive method needs %lld more evaluations for "
                        "%u players (every coalition %lld times); %lld of the "
                        "budget of %lld are left",
                        (long long)cost, e->n, (long long)e->p.repeats,
                        (long long)ac__est_remaining(e), (long long)e->p.budget);
    adaptive_state *s = ac__mem_calloc(&e->mem, 1, sizeof *s);
    if (s == NULL)
        return AC_E_NO_MEMORY;
    e->mstate = s;
    s->n = e->n;
    s->total = total;
    s->entry = ac__mem_alloc(&e->mem, (size_t)total, sizeof *s->entry);
    s->a = ac__mem_alloc(&e->mem, e->n + 1, sizeof *s->a);
    s->count = ac__mem_alloc(&e->mem, (size_t)total, sizeof *s->count);
    s->mean = ac__mem_alloc(&e->mem, (size_t)total, sizeof *s->mean);
    s->var = ac__mem_alloc(&e->mem, (size_t)total, sizeof *s->var);
    s->varies = ac__mem_alloc(&e->mem, (size_t)total, sizeof *s->varies);
    s->f_count = ac__mem_calloc(&e->mem, (size_t)total, sizeof *s->f_count);
    s->f_mean = ac__mem_calloc(&e->mem, (size_t)total, sizeof *s->f_mean);
    s->f_m2 = ac__mem_calloc(&e->mem, (size_t)total, sizeof *s->f_m2);
    s->f_varies = ac__mem_calloc(&e->mem, (size_t)total, sizeof *s->f_varies);
    if (!s->entry || !s->a || !s->count || !s->mean || !s->var ||
        !s->varies || !s->f_count || !s->f_mean || !s->f_m2 || !s->f_varies)
        return AC_E_NO_MEMORY;
    s->f_binary = 1;
    ac__shapley_layer_norms(e->n, s->a); /* a_|S| */
    return AC_OK;
}

static int push_extra(ac_estimator *e, adaptive_state *s, uint32_t mask)
{
    /* the two arrays grow together: a failure leaves a larger ex_mask */
    uint32_t cap = s->cap_extra;
    int rc = ac__mem_reserve(&e->mem, (void **)&s->ex_mask, s->n_extra, &cap,
                             1024, sizeof *s->ex_mask);
    if (rc == AC_OK && cap != s->cap_extra)
        rc = ac__mem_grow(&e->mem, (void **)&s->ex_value, s->n_extra, cap,
                          sizeof *s->ex_value);
    if (rc != AC_OK)
        return rc; /* a phase plans at most 2^20: never TOO_LARGE */
    s->cap_extra = cap;
    rc = ac__est_request_extra(e, s->entry[mask], s->n_extra);
    if (rc != AC_OK)
        return rc;
    s->ex_mask[s->n_extra] = mask;
    s->ex_value[s->n_extra++] = NAN;
    return AC_OK;
}

/* Whether the host gave v(S): exact, never re-evaluated. */
static int is_known(const ac_estimator *e, const adaptive_state *s,
                    uint64_t mask)
{
    return e->cache.entries[s->entry[mask]].state == AC__ENTRY_KNOWN;
}

/* Folds this phase's values (all in: a phase waits for them) into the
 * per-coalition accumulators, in planned order (Welford's update), and
 * empties the phase. The accumulators follow the run's scaled space, which
 * only widens as values arrive: a change of 2^-k is exact but for the
 * underflow of figures far below the new largest value. */
static void fold_extras(const ac_estimator *e, adaptive_state *s)
{
    const ac__cache *c = &e->cache;
    int d = s->f_shift - e->vshift;
    for (uint64_t m = 0; d != 0 && m < s->total; m++) {
        s->f_mean[m] = ldexp(s->f_mean[m], d);
        s->f_m2[m] = ldexp(s->f_m2[m], 2 * d);
    }
    s->f_shift = e->vshift;
    for (uint32_t k = 0; k < s->n_extra; k++) {
        uint32_t m = s->ex_mask[k];
        double v = s->ex_value[k];
        if (isnan(v)) /* dropped */
            continue;
        s->f_binary &= v == 0.0 || v == 1.0;
        s->f_varies[m] |= v != c->slots[(uint64_t)s->entry[m] * c->repeats];
        double x = ac__est_scaled(e, v), n = s->f_count[m] + 1.0;
        if (m == 0 || m == s->total - 1) /* no difference: cannot overflow */
            s->f_end[m != 0] = s->f_end[m != 0] * ((n - 1.0) / n) + v / n;
        double dx = x - s->f_mean[m];
        s->f_mean[m] += dx / n;
        s->f_m2[m] += dx * (x - s->f_mean[m]);
        s->f_count[m] = n;
    }
    s->n_extra = 0;
}

/* Per coalition: evaluations in (count), mean, and the sample variance of
 * one evaluation (NaN with a single one): the pilot's values from the cache
 * and the folded extras, merged (Chan et al.'s pairwise update); every
 * value in the run's scaled space (ac__est_value), while whether a
 * coalition's values differ is read from the host's own. */
static void tally(const ac_estimator *e, adaptive_state *s)
{
    const ac__cache *c = &e->cache;
    uint32_t r0 = c->repeats;
    fold_extras(e, s);
    for (uint64_t m = 0; m < s->total; m++) {
        uint32_t i = s->entry[m];
        const double *slot = c->slots + (uint64_t)i * r0;
        if (c->entries[i].state == AC__ENTRY_KNOWN) {
            s->count[m] = INFINITY;
            s->mean[m] = ac__est_value(e, i);
            s->var[m] = 0.0;
            continue;
        }
        uint8_t varies = s->f_varies[m];
        for (uint32_t r = 1; r < r0; r++)
            varies |= slot[r] != slot[0];
        s->varies[m] = varies;
        double nb = s->f_count[m], n = r0 + nb;
        s->count[m] = n;
        if (!varies) { /* every value the same: exactly that, var 0 */
            s->mean[m] = ac__est_slot(e, i, 0);
            s->var[m] = 0.0;
            continue;
        }
        double mean = ac__est_value(e, i), d = s->f_mean[m] - mean;
        double m2 = r0 > 1 ? ac__est_var(e, i) * r0 * (r0 - 1) : 0.0;
        s->mean[m] = mean + d * (nb / n);
        m2 += s->f_m2[m] + d * d * ((double)r0 * nb / n);
        s->var[m] = n > 1.0 ? m2 / (n - 1.0) : NAN;
    }
}

/* Whether every value seen so far is 0 or 1: a rollout's success (the
 * host's values, not the scaled ones: a scaled 1 is no rollout). */
static int all_binary(const ac_estimator *e, const adaptive_state *s)
{
    return ac__est_cache_binary(e) && s->f_binary; /* the folded extras */
}

/* The variance of one evaluation of each coalition, shrunk towards its
 * layer by `prior` evaluations' worth (credit/noise_model.h); whether any
 * variance was seen (without it every variance reads 0). */
static int model_variances(const ac_estimator *e, adaptive_state *s,
                           double prior)
{
    ac__layer_noise L;
    ac__noise_init(&L, s->n, all_binary(e, s));
    for (uint64_t m = 0; m < s->total; m++)
        if (isfinite(s->count[m]))
            ac__noise_add(&L, ac__popcount64(m), s->count[m], s->mean[m],
                          s->var[m]);
    int seen = ac__noise_pool(&L);
    for (uint64_t m = 0; m < s->total; m++)
        if (isfinite(s->count[m]))
            s->var[m] = ac__noise_var(&L, ac__popcount64(m), s->count[m],
                                      s->mean[m], s->var[m], prior);
    return seen;
}

typedef struct frac_item {
    double frac;
    uint32_t mask;
} frac_item;

static int by_fraction(const void *x, const void *y)
{
    const frac_item *a = x, *b = y;
    if (a->frac != b->frac)
        return a->frac > b->frac ? -1 : 1;
    return (a->mask > b->mask) - (a->mask < b->mask);
}

/* Plans `extra` evaluations by water-filling: coalition S is raised towards
 * lambda c_S, never lowered below count[S]; lambda is found by bisection,
 * the real-valued shares rounded down and the remainder given to the
 * largest fractions (ties to the smaller mask, so the plan is a function of
 * the values alone). c is in s->var on entry (overwritten). */
static int allocate(ac_estimator *e, adaptive_state *s, int64_t extra)
{
    double *c = s->var, have = 0.0, lo = 0.0, hi = 1.0;
    int any = 0;
    for (uint64_t m = 0; m < s->total; m++)
        if (isfinite(s->count[m])) {
            have += s->count[m];
            any |= c[m] > 0.0;
        }
    /* Extras are numbered in 32 bits (ac__est_request_extra). */
    int64_t room = (int64_t)(UINT32_MAX / 2) - (int64_t)s->n_extra;
    if (extra > room)
        extra = room;
    if (!any || extra <= 0)
        return AC_OK;
    double want = have + (double)extra;
    /* Find an upper bracket for lambda, then bisect: each step is a pass
     * over the 2^n coalitions, so each looks at the cancel flag. */
    for (;;) {
        if (ac__est_cancelled(e))
            return AC_E_CANCELLED;
        double t = 0.0;
        for (uint64_t m = 0; m < s->total; m++)
            if (isfinite(s->count[m]))
                t += fmax(s->count[m], hi * c[m]);
        if (t >= want)
            break;
        lo = hi;
        hi *= 2.0;
    }
    for (int it = 0; it < 100 && hi - lo > 1e-15 * hi; it++) {
        if (ac__est_cancelled(e))
            return AC_E_CANCELLED;
        double mid = 0.5 * (lo + hi), t = 0.0;
        for (uint64_t m = 0; m < s->total; m++)
            if (isfinite(s->count[m]))
                t += fmax(s->count[m], mid * c[m]);
        if (t >= want)
            hi = mid;
        else
            lo = mid;
    }
    frac_item *items = ac__mem_alloc(&e->mem, (size_t)s->total, sizeof *items);
    if (items == NULL)
        return AC_E_NO_MEMORY;
    int64_t planned = 0;
    uint32_t n_items = 0;
    for (uint64_t m = 0; m < s->total; m++) {
        if (!isfinite(s->count[m]))
            continue;
        double x = fmax(0.0, lo * c[m] - s->count[m]);
        double whole = floor(x);
        if (planned + (int64_t)whole > extra)
            whole = (double)(extra - planned);
        for (int64_t k = 0; k < (int64_t)whole; k++) {
            int rc = push_extra(e, s, (uint32_t)m);
            if (rc != AC_OK) {
                ac__mem_free(&e->mem, items);
                return rc;
            }
        }
        planned += (int64_t)whole;
        items[n_items].frac = x - whole;
        items[n_items++].mask = (uint32_t)m;
    }
    qsort(items, n_items, sizeof *items, by_fraction);
    int rc = AC_OK;
    for (uint32_t k = 0; rc == AC_OK && planned < extra && k < n_items; k++) {
        rc = push_extra(e, s, items[k].mask);
        planned++;
    }
    ac__mem_free(&e->mem, items);
    return rc;
}

/* The allocation's weights c_S into s->var: a_|S|, times the standard
 * deviation of one evaluation when s->var holds variances (with_sd); 0 for
 * the known coalitions. */
static void allocation_weights(adaptive_state *s, int with_sd)
{
    for (uint64_t m = 0; m < s->total; m++)
        s->var[m] = !isfinite(s->count[m])
                        ? 0.0
                        : s->a[ac__popcount64(m)] *
                              (with_sd ? sqrt(s->var[m]) : 1.0);
}

/* One more evaluation of each of the `probe` heaviest coalitions (largest
 * a_S: the sizes nearest the ends), smaller masks first within a size. */
static int plan_probe(ac_estimator *e, adaptive_state *s, int64_t probe)
{
    uint32_t n = s->n, order[AC_ADAPTIVE_MAX_PLAYERS + 1];
    for (uint32_t z = 0; z <= n; z++) { /* sizes by a, heaviest first */
        uint32_t k = z;
        for (; k > 0 && s->a[order[k - 1]] < s->a[z]; k--)
            order[k] = order[k - 1];
        order[k] = z;
    }
    for (uint32_t k = 0; probe > 0 && k <= n; k++)
        for (uint64_t m = 0; probe > 0 && m < s->total; m++) {
            if (ac__popcount64(m) != order[k] ||
                is_known(e, s, m))
                continue;
            int rc = push_extra(e, s, (uint32_t)m);
            if (rc != AC_OK)
                return rc;
            probe--;
        }
    return AC_OK;
}

/* Too little budget for phases: `avail` is allocated now by a_S, but for
 * the retry margin, which one last phase spends once the pilot is in. */
static int plan_at_once(ac_estimator *e, adaptive_state *s, int64_t avail,
                        int64_t margin)
{
    int64_t now = avail > margin ? avail - margin : 0;
    s->phases_left = avail > now ? 1 : 0;
    return allocate(e, s, now);
}

/* The pilot (every coalition) and the probe, planned together: the probe
 * does not need the pilot's values. */
static int plan_pilot(ac_estimator *e, adaptive_state *s)
{
    for (uint64_t m = 0; m < s->total; m++) {
        uint64_t key = m;
        int rc = ac__est_request(e, &key, 1, &s->entry[m]);
        if (rc != AC_OK)
            return rc;
    }
    int64_t left = ac__est_remaining(e), width = e->p.batch;
    s->missing = 0;
    for (uint64_t m = 0; m < s->total; m++) {
        s->count[m] = is_known(e, s, m) ? INFINITY : e->cache.repeats;
        s->missing += !is_known(e, s, m);
    }
    allocation_weights(s, 0);
    /* A pilot evaluation that fails must be retried, or the run fails: the
     * exact method's retry margin stays unplanned until the pilot is in.
     * That costs a round, so only a budget of four rounds or more, where
     * it costs at most a quarter, keeps one back. */
    int64_t margin = e->p.budget >= 4 * width
                         ? ac__est_retry_margin(s->missing, e->p.max_retries)
                         : 0;
    if (left < width) /* no round to spare for learning */
        return plan_at_once(e, s, left, margin);
    int64_t probe = s->missing / 8 > PROBE_MIN ? s->missing / 8 : PROBE_MIN;
    if (probe > s->missing)
        probe = s->missing;
    if (probe > left / 2)
        probe = left / 2;
    /* Fill the last round of the pilot, so that every phase after it
     * starts on a round of its own and waiting costs no extra round. */
    int64_t fill = (width - (e->committed + probe) % width) % width;
    if (fill > left - probe)
        fill = left - probe;
    int rc = plan_probe(e, s, probe);
    if (rc == AC_OK)
        rc = allocate(e, s, fill);
    int64_t rest = left - probe - fill, rounds = rest / width;
    /* With an error target the phases grow with what is spent (see
     * phase_share), as many as the budget holds. */
    int64_t most = e->p.target_se > 0.0 ? INT32_MAX : MAX_PHASES;
    s->phases_left = (int)(rounds < most ? rounds : most);
    if (rc == AC_OK && rounds == 0)
        rc = plan_at_once(e, s, rest, margin);
    return rc;
}

/* After the probe: no coalition evaluated twice varied, and enough were
 * (PROBE_MIN, or all of them) that a noisy oracle would almost surely have
 * shown it. A false verdict would leave the budget unspent, so the bar is
 * high; a deterministic oracle that falls short of it merely spends its
 * budget on repeats that change nothing. 0/1 values never pass: rollouts
 * that nearly always fail (or succeed) agree twice most of the time, and
 * in a team most coalitions are such. */
static int looks_deterministic(const ac_estimator *e, const adaptive_state *s)
{
    if (all_binary(e, s))
        return 0;
    int64_t repeated = 0;
    for (uint64_t m = 0; m < s->total; m++)
        if (isfinite(s->count[m]) && s->count[m] > 1.0) {
            if (s->var[m] != 0.0)
                return 0;
            repeated++;
        }
    return repeated > 0 &&
           repeated >= (s->missing < PROBE_MIN ? s->missing : PROBE_MIN);
}

/* The evaluations a phase plans at most: 2^16, or the table when larger. */
static int64_t phase_cap(const adaptive_state *s)
{
    return (int64_t)s->total > PHASE_MIN_CAP ? (int64_t)s->total
                                             : PHASE_MIN_CAP;
}

/* What the next phase plans: whole rounds, the last phase the rest; a
 * share above the cap is spent over more phases than planned. With an
 * error target, a quarter of what was committed so far: the checkpoints
 * (estimator.c) grow by a quarter too, so the run stops within about a
 * quarter of the evaluations the target needs. */
static int64_t phase_share(ac_estimator *e, adaptive_state *s)
{
    int64_t rest = ac__est_remaining(e), width = e->p.batch;
    int64_t share = rest, cap = phase_cap(s) / width * width;
    if (e->p.target_se > 0.0) /* the rest once it is within a quarter */
        share = e->committed / 4 < rest ? e->committed / 4 / width * width
                                        : rest;
    else if (s->phases_left > 1)
        share = rest / s->phases_left / width * width;
    if (share < width)
        share = width < rest ? width : rest;
    if (share > (cap > width ? cap : width))
        share = cap > width ? cap : width;
    else
        s->phases_left--;
    return share;
}

static int adaptive_extend(ac_estimator *e, int *grew)
{
    adaptive_state *s = e->mstate;
    if (!s->started) {
        s->started = 1;
        int rc = plan_pilot(e, s);
        *grew = s->phases_left > 0 ? AC__PLAN_WAIT : AC__PLAN_GREW;
        return rc;
    }
    *grew = AC__PLAN_OVER;
    if (s->phases_left == 0 || ac__est_remaining(e) <= 0)
        return AC_OK;
    tally(e, s);
    if (looks_deterministic(e, s)) {
        s->deterministic = 1;
        return AC_OK;
    }
    model_variances(e, s, ALLOC_PRIOR);
    allocation_weights(s, 1);
    int rc = allocate(e, s, phase_share(e, s));
    /* Nothing to allocate (no coalition with a variance to cut): the
     * phases are over, or a share that was capped would come back for
     * ever. */
    if (rc == AC_OK && s->n_extra == 0)
        s->phases_left = 0;
    *grew = s->phases_left > 0 ? AC__PLAN_WAIT : AC__PLAN_GREW;
    return rc;
}

/* Every coalition's mean (s->mean) and the variance of that mean
 * (s->var) as the standard errors read them: the noise model shrunk
 * lightly towards the layer, over the evaluations. 1 when the oracle was
 * declared noisy but no coalition evaluated twice showed its noise (values
 * other than 0/1, a budget of the table): the errors are unknown, infinite
 * as the exact method's (ac__est_cache_noise), not 0. */
static int mean_variances(ac_estimator *e, adaptive_state *s)
{
    tally(e, s);
    int seen = model_variances(e, s, AC__NOISE_SE_PRIOR);
    for (uint64_t m = 0; m < s->total; m++)
        s->var[m] = isfinite(s->count[m]) ? s->var[m] / s->count[m] : 0.0;
    return !seen && e->p.noisy;
}

static void set_unknown(double *se, uint64_t len)
{
    for (uint64_t k = 0; k < len; k++)
        se[k] = INFINITY;
}

static int adaptive_estimate(ac_estimator *e, double *phi, double *se)
{
    adaptive_state *s = e->mstate;
    int unseen = mean_variances(e, s);
    /* v(all) - v(empty) over every evaluation of the two, repeats included:
     * the total the credits conserve. */
    s->delta = s->mean[s->total - 1] - s->mean[0];
    int rc = ac__shapley_table_stop(&e->mem, s->n, s->mean, &e->cancelled,
                                    phi);
    if (rc == AC_OK)
        rc = ac__shapley_table_se(&e->mem, s->n, s->var, &e->cancelled, se);
    if (rc == AC_OK && unseen)
        set_unknown(se, s->n);
    return rc;
}

/* The pairs' interactions from the same means and variances as the
 * credits, so that the two errors agree. */
static int adaptive_interactions(ac_estimator *e, double *index, double *se)
{
    adaptive_state *s = e->mstate;
    int unseen = mean_variances(e, s);
    int rc = ac__pair_interactions(&e->mem, s->n, s->mean, s->var,
                                   &e->cancelled, index, se);
    if (rc == AC_OK && unseen)
        set_unknown(se, ac__pair_count(s->n));
    return rc;
}

static void adaptive_take_extra(ac_estimator *e, uint32_t serial, double value)
{
    adaptive_state *s = e->mstate;
    s->ex_value[serial] = value;
}

/* The mean of every evaluation of coalition m (v(empty) or v(all)) in the
 * host's units: the pilot's (the cache's) and the folded extras'. */
static double host_mean(const ac_estimator *e, const adaptive_state *s,
                        uint64_t m)
{
    const ac__cache *c = &e->cache;
    uint32_t i = s->entry[m], r0 = c->repeats;
    if (c->entries[i].state == AC__ENTRY_KNOWN || !s->varies[m])
        return c->entries[i].state == AC__ENTRY_KNOWN
                   ? c->entries[i].mean
                   : c->slots[(uint64_t)i * r0];
    double nb = s->f_count[m], n = r0 + nb;
    return c->entries[i].mean * (r0 / n) + s->f_end[m != 0] * (nb / n);
}

static double adaptive_total(const ac_estimator *e, int host)
{
    const adaptive_state *s = e->mstate;
    if (!host || e->vshift == 0) /* unscaled, the two are the same */
        return s->delta;
    return host_mean(e, s, s->total - 1) - host_mean(e, s, 0);
}

static int adaptive_outcome(const ac_estimator *e)
{
    const adaptive_state *s = e->mstate;
    return s->deterministic ? AC_ESTIMATOR_OUTCOME_COMPLETE : AC_ESTIMATOR_OUTCOME_BUDGET;
}

/* AUTO gives the adaptive method a noisy oracle whose table pays: the
 * budget beyond the table goes to repeats where they cut the error most. */
static int adaptive_affordable(const ac_estimator *e)
{
    return e->p.noisy && e->n <= AC_ADAPTIVE_MAX_PLAYERS &&
           ac__est_table_affordable(e);
}

static void adaptive_end(ac_estimator *e)
{
    adaptive_state *s = e->mstate;
    if (s == NULL)
        return;
    ac__mem_free(&e->mem, s->entry);
    ac__mem_free(&e->mem, s->a);
    ac__mem_free(&e->mem, s->ex_mask);
    ac__mem_free(&e->mem, s->ex_value);
    ac__mem_free(&e->mem, s->count);
    ac__mem_free(&e->mem, s->mean);
    ac__mem_free(&e->mem, s->var);
    ac__mem_free(&e->mem, s->varies);
    ac__mem_free(&e->mem, s->f_count);
    ac__mem_free(&e->mem, s->f_mean);
    ac__mem_free(&e->mem, s->f_m2);
    ac__mem_free(&e->mem, s->f_varies);
    ac__mem_free(&e->mem, s);
}

/* The estimate means something once the pilot (every coalition) is in. */
static int adaptive_settled(const ac_estimator *e)
{
    const adaptive_state *s = e->mstate;
    return s->started;
}

static const ac__method_ops OPS = {
    .settled = adaptive_settled,
    .begin = adaptive_begin,
    .extend = adaptive_extend,
    .estimate = adaptive_estimate,
    .end = adaptive_end,
    .outcome = adaptive_outcome,
    .total = adaptive_total,
    .take_extra = adaptive_take_extra,
    .interactions = adaptive_interactions,
};

/* Its estimate weighs the repeats, so a complete cache is no shortcut.
 * The error target is tested between phases (each waits for the values
 * before it), once the pilot is planned. */
const ac__method ac__method_adaptive = {
    .name = "adaptive",
    .id = AC_METHOD_ADAPTIVE,
    .affordable = adaptive_affordable,
    .ops = &OPS,
    .checkpoints = 1,
};
