/* KernelSHAP with paired sampling. The Shapley values solve the weighted
 * least-squares problem
 *     min sum_S w(S) (v(S) - v(empty) - sum_{i in S} phi_i)^2
 *     s.t. sum_i phi_i = v(all) - v(empty),
 * with the Shapley kernel w(S) = (n-1) / (C(n,|S|) |S| (n-|S|)), over the
 * coalitions of the KernelSHAP design (kernel_design.c: whole layers from
 * the heaviest inwards, the other sizes sampled in complementary pairs).
 * Standard errors come from the sandwich (delta-method) variance of the pair
 * contributions. */
#include <math.h>
#include <string.h>

#include "common/coalition.h"
#include "credit/kernel_design.h"
#include "credit/methods.h"
#include "credit/linalg.h"

/* The regression's pieces: A = sum w z z' (+ ridge), b = sum w z y. */
typedef struct kernel_system {
    double *a;   /* n x n, then its Cholesky factor */
    double *b;   /* n, then A^-1 (b + ridge term)  */
    double *q;   /* n: A^-1 1                       */
    double *g;   /* n scratch                       */
} kernel_system;

/* Adds wa z z' to A and wy z to b for the coalition's indicator z. */
static void add_coalition(const ac_estimator *e, kernel_system *ks,
                          uint32_t entry, double wa, double wy)
{
    const uint64_t *key = ac__cache_key(&e->cache, entry);
    uint32_t n = e->n;
    for (uint32_t i = 0; i < n; i++) {
        if (!ac__bit_test(key, i))
            continue;
        ks->b[i] += wy;
        double *row = ks->a + (size_t)i * n;
        for (uint32_t j = 0; j <= i; j++)
            if (ac__bit_test(key, j))
                row[j] += wa;
    }
}

/* Adds scale * E[z z'] for one coalition drawn as the sampler draws them:
 * a size k with probability size_weight[k] / sampled_weight, then a uniform
 * subset, so E[z_i] = k/n and E[z_i z_j] = k(k-1)/(n(n-1)). */
static void add_expected_sample(const ac__kernel_plan *s, kernel_system *ks,
                                double scale)
{
    uint32_t n = s->n;
    double diag = 0.0, off = 0.0;
    for (uint32_t k = 1; k < n; k++) {
        double p = s->size_weight[k] / s->sampled_weight;
        diag += p * k / n;
        off += n > 1 ? p * k * (k - 1.0) / (n * (n - 1.0)) : 0.0;
    }
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j <= i; j++)
            ks->a[(size_t)i * n + j] += scale * (i == j ? diag : off);
}

/* The design's sampled rows: how many, and the weight each carries. */
static uint32_t sampled_len(const ac__kernel_design *d)
{
    return d->count - d->n_enum;
}

static double sampled_weight(const ac__kernel_design *d)
{
    return sampled_len(d) ? d->weights[d->n_enum] : 0.0;
}

/* AC_OK, or AC_E_CANCELLED. */
static int build_system(const ac_estimator *e, const ac__kernel_plan *s,
                        const ac__kernel_design *d, kernel_system *ks,
                        double v0)
{
    uint32_t n = e->n;
    memset(ks->a, 0, (size_t)n * n * sizeof *ks->a);
    memset(ks->b, 0, n * sizeof *ks->b);
    for (uint32_t k = 0; k < d->n_enum; k++) {
        if (ac__est_cancelled(e)) /* a row costs up to n^2 */
            return AC_E_CANCELLED;
        uint32_t en = d->entries[k];
        double w = d->weights[k];
        add_coalition(e, ks, en, w, w * (ac__est_value(e, en) - v0));
    }
    /* Without the enumerated sizes 1 and n-1 (a budget under 2n), about as
     * many sampled coalitions as players make the normal matrix nearly
     * singular and the fit interpolates noise (the classic peak at m ~ n).
     * The sampled matrix's expectation is known in closed form, so it is
     * shrunk towards it by alpha = n / (n + m): strongly when samples are
     * few, negligibly when many. b keeps the sampled values at full weight.
     * With size 1 enumerated, A is full rank and nothing is shrunk, so an
     * additive game is recovered exactly. */
    double ws = sampled_weight(d);
    double alpha = sampled_len(d) && !s->enumerated[1]
                       ? (double)n / (n + (double)sampled_len(d))
                       : 0.0;
    for (uint32_t k = d->n_enum; k < d->count; k++) {
        if (ac__est_cancelled(e)) /* a row costs up to n^2 */
            return AC_E_CANCELLED;
        uint32_t en = d->entries[k];
        double y = ac__est_value(e, en) - v0;
        add_coalition(e, ks, en, (1.0 - alpha) * ws, ws * y);
    }
    if (alpha > 0.0)
        add_expected_sample(s, ks, alpha * s->sampled_weight);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < i; j++)
            ks->a[(size_t)j * n + i] = ks->a[(size_t)i * n + j];
    return AC_OK;
}

/* Solves the constrained problem with a small ridge towards the equal split
 * delta/n, which fixes the directions the data leave open (few samples) and
 * keeps the factorisation well posed; phi conserves delta exactly. 0, -1
 * (not positive definite) or AC__LINALG_STOPPED. */
static int solve_system(uint32_t n, kernel_system *ks, double delta,
                        const atomic_int *stop, double *phi)
{
    double trace = 0.0;
    for (uint32_t i = 0; i < n; i++)
        trace += ks->a[(size_t)i * n + i];
    double ridge = trace > 0.0 ? 1e-12 * trace / n : 1.0;
    for (uint32_t i = 0; i < n; i++) {
        ks->a[(size_t)i * n + i] += ridge;
        ks->b[i] += ridge * delta / n;
        ks->q[i] = 1.0;
    }
    int rc = ac__cholesky(ks->a, n, stop);
    if (rc != 0)
        return rc;
    ac__cholesky_solve(ks->a, n, ks->b);
    ac__cholesky_solve(ks->a, n, ks->q);
    double sum_u = 0.0, sum_q = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        sum_u += ks->b[i];
        sum_q += ks->q[i];
    }
    double mu = (sum_u - delta) / sum_q;
    for (uint32_t i = 0; i < n; i++)
        phi[i] = ks->b[i] - mu * ks->q[i];
    return 0;
}

/* (M g)_i with M = A^-1 - q q' / (1'q): how a change g of b moves phi. */
static void apply_m(uint32_t n, const kernel_system *ks, double sum_q,
                    double *g)
{
    ac__cholesky_solve(ks->a, n, g);
    double qg = 0.0;
    for (uint32_t i = 0; i < n; i++)
        qg += g[i];
    /* 1'A^-1 g = q'g since A is symmetric. */
    for (uint32_t i = 0; i < n; i++)
        g[i] -= ks->q[i] * qg / sum_q;
}

/* g = w z_S (y_S - z_S' phi) for one coalition, added into acc. */
static void add_residual(const ac_estimator *e, uint32_t entry, double w,
                         double v0, const double *phi, double *acc)
{
    const uint64_t *key = ac__cache_key(&e->cache, entry);
    double fit = 0.0;
    for (uint32_t i = 0; i < e->n; i++)
        if (ac__bit_test(key, i))
            fit += phi[i];
    double r = w * (ac__est_value(e, entry) - v0 - fit);
    for (uint32_t i = 0; i < e->n; i++)
        if (ac__bit_test(key, i))
            acc[i] += r;
}

/* Sampling variance: the pairs are independent draws, so the variance of
 * their total is the number of pairs times the spread of one pair's
 * contribution mapped through M (the sandwich estimator). Each pair costs
 * a solve (n^2): AC_OK, or AC_E_CANCELLED. */
static int sampling_errors(const ac_estimator *e, const ac__kernel_plan *s,
                           const ac__kernel_design *d, kernel_system *ks,
                           double v0, const double *phi, double *se)
{
    uint32_t n = e->n, pairs = sampled_len(d) / 2;
    double sum_q = 0.0;
    for (uint32_t i = 0; i < n; i++)
        sum_q += ks->q[i];
    double *mean = ks->b; /* the solve is over: reuse b as scratch */
    memset(mean, 0, n * sizeof *mean);
    memset(se, 0, n * sizeof *se);
    double ws = sampled_weight(d);
    const uint32_t *rows = d->entries + d->n_enum;
    for (uint32_t p = 0; p < pairs; p++) {
        if (ac__est_cancelled(e)) /* a pair costs two solves */
            return AC_E_CANCELLED;
        memset(ks->g, 0, n * sizeof *ks->g);
        add_residual(e, rows[2 * p], ws, v0, phi, ks->g);
        add_residual(e, rows[2 * p + 1], ws, v0, phi, ks->g);
        apply_m(n, ks, sum_q, ks->g);
        for (uint32_t i = 0; i < n; i++) { /* Welford; se holds M2 */
            double dv = ks->g[i] - mean[i];
            mean[i] += dv / (p + 1);
            se[i] += dv * (ks->g[i] - mean[i]);
        }
    }
    /* The fit adapts to the sampled pairs, so their residuals understate the
     * error: the degrees-of-freedom correction (HC1) scales the variance by
     * K / (K - p) for K pairs and p = n - 1 free credits. With no more pairs
     * than that, or layers still being enumerated (a checkpoint mid-layer),
     * the error is unknown. */
    /* Pairs drawn again add no information: count the distinct ones. */
    double p_free = n > 1 ? n - 1.0 : 1.0;
    double k_eff = s->distinct_sampled / 2 < pairs ? s->distinct_sampled / 2
                                                   : (double)pairs;
    int unknown = !s->enum_done ||
                  (s->sampled_weight > 0.0 && k_eff <= p_free);
    for (uint32_t i = 0; i < n; i++)
        se[i] = unknown ? INFINITY
                        : (pairs > 0 ? se[i] * k_eff / (k_eff - p_free) : 0.0);
    return AC_OK;
}

/* Noise variance of repeated evaluations adds w^2 var (M z)^2 per
 * enumerated coalition; then se holds standard errors. AC_OK, or
 * AC_E_CANCELLED. */
static int noise_errors(const ac_estimator *e, const ac__kernel_design *d,
                        kernel_system *ks, double *se)
{
    uint32_t n = e->n;
    double sum_q = 0.0;
    for (uint32_t i = 0; i < n; i++)
        sum_q += ks->q[i];
    for (uint32_t k = 0; k < d->n_enum; k++) {
        if (ac__est_cancelled(e)) /* a row costs up to n^2 */
            return AC_E_CANCELLED;
        uint32_t en = d->entries[k];
        double var = ac__est_var(e, en);
        if (var <= 0.0)
            continue;
        double w = d->weights[k];
        const uint64_t *key = ac__cache_key(&e->cache, en);
        for (uint32_t i = 0; i < n; i++)
            ks->g[i] = ac__bit_test(key, i) ? 1.0 : 0.0;
        apply_m(n, ks, sum_q, ks->g);
        for (uint32_t i = 0; i < n; i++)
            se[i] += w * w * var * ks->g[i] * ks->g[i];
    }
    for (uint32_t i = 0; i < n; i++)
        se[i] = sqrt(se[i]);
    return AC_OK;
}

/* The fit over a design that holds data. */
static int fit_design(ac_estimator *e, const ac__kernel_design *d,
                      kernel_system *ks, double *phi, double *se)
{
    const ac__kernel_plan *s = e->mstate;
    double v0 = ac__est_value(e, e->empty_entry);
    double delta = ac__est_value(e, e->grand_entry) - v0;
    if (s->pair_len > 0 && sampled_len(d) == 0 && s->n_enum == 0)
        return ac__fail(e->err, AC_E_ORACLE,
                        "every sampled pair lost an evaluation to oracle "
                        "failures (%lld coalitions given up)",
                        (long long)e->dropped);
    int rc = build_system(e, s, d, ks, v0);
    if (rc != AC_OK)
        return rc;
    rc = solve_system(e->n, ks, delta, &e->cancelled, phi);
    if (rc == AC__LINALG_STOPPED)
        return AC_E_CANCELLED;
    if (rc != 0)
        return ac__fail(e->err, AC_E_STATE,
                        "the KernelSHAP system is not positive definite");
    rc = sampling_errors(e, s, d, ks, v0, phi, se);
    if (rc == AC_OK)
        rc = noise_errors(e, d, ks, se);
    return rc;
}

static int kernel_estimate(ac_estimator *e, double *phi, double *se)
{
    uint32_t n = e->n;
    kernel_system ks;
    ks.a = ac__mem_alloc(&e->mem, (size_t)n * n, sizeof *ks.a);
    ks.b = ac__mem_alloc(&e->mem, n, sizeof *ks.b);
    ks.q = ac__mem_alloc(&e->mem, n, sizeof *ks.q);
    ks.g = ac__mem_alloc(&e->mem, n, sizeof *ks.g);
    ac__kernel_design d;
    int rc = ac__kernel_design_make(e, &d);
    if (rc == AC_OK && !(ks.a && ks.b && ks.q && ks.g))
        rc = AC_E_NO_MEMORY;
    if (rc == AC_OK)
        rc = fit_design(e, &d, &ks, phi, se);
    ac__kernel_design_free(e, &d);
    ac__mem_free(&e->mem, ks.a);
    ac__mem_free(&e->mem, ks.b);
    ac__mem_free(&e->mem, ks.q);
    ac__mem_free(&e->mem, ks.g);
    return rc;
}

/* KernelSHAP solves an n x n system whatever the budget. */
static int kernel_affordable(const ac_estimator *e)
{
    return e->n <= AC_KERNEL_MAX_PLAYERS;
}

static const ac__method_ops OPS = {
    .begin = ac__kernel_plan_begin,
    .extend = ac__kernel_plan_extend,
    .estimate = kernel_estimate,
    .end = ac__kernel_plan_end,
    .settled = ac__kernel_plan_settled,
    .outcome = ac__est_sampled_outcome,
    .total = ac__est_cache_total,
};

const ac__method ac__method_kernelshap = {
    .name = "kernelshap",
    .id = AC_METHOD_KERNELSHAP,
    .affordable = kernel_affordable,
    .ops = &OPS,
    .exact_when_complete = 1,
    .checkpoints = 1,
};
