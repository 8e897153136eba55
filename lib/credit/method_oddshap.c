/* OddSHAP: the coalitions of the KernelSHAP plan, then a Gaussian-process
 * regression of the game's odd part.
 *
 * Write a coalition as signs x_i = +1 (i in S) or -1, and the game in the
 * parity basis f_T(S) = prod_{i in T} x_i. The Shapley value sees only the
 * parities of odd degree, and gives each member of T, |T| = d odd, 2/d of
 * c_T. With S and its complement both evaluated (KernelSHAP samples in such
 * pairs and enumerates whole layers from both ends),
 *     u(S) = (v(S) - v(N \ S)) / 2
 * is exactly the odd part at S: the even parities, which only add variance
 * to a fit of v, cancel. The method fits u by kernel ridge regression (the
 * posterior mean of a Gaussian process) with the prior c_T ~ N(0, s_|T|):
 * s_1 = S1 per player (the linear part is barely shrunk) and s_d =
 * rho^((d-1)/2) / C(n,d) for odd d >= 3, so every degree holds a total prior
 * variance that falls geometrically with the degree: low orders first, any
 * order allowed. The covariance of two coalitions depends only on their
 * Hamming distance h through Krawtchouk polynomials,
 *     K(h) = sum_d s_d Kraw_d(h),   Kraw_d(h) = [z^d] (1 - z)^h (1 + z)^(n-h),
 * so the fit is m x m for m pairs whatever n is. With alpha = G^-1 u,
 * G = K + diag(noise / w), phi_i = sum_j alpha_j Cov(phi_i, u_j) in closed
 * form too. The grand coalition enters as one more row, u(N) = delta / 2,
 * fitted exactly. The weight w of a pair is its KernelSHAP weight, so the
 * fit trusts the heavy coalitions most.
 *
 * rho and the noise level come from a small grid by leave-one-out error,
 * which a Cholesky factor gives in closed form (e_j = alpha_j / G^-1_jj).
 * Standard errors are the posterior standard deviations of phi_i, scaled by
 * the fit's own estimate of the prior's amplitude.
 *
 * When known values give the design more pairs than the fit takes
 * (AC_ODDSHAP_MAX_ROWS), the estimate is KernelSHAP's over the same design,
 * and the audit says KernelSHAP.
 *
 * The idea is OddSHAP's (regression on odd interactions); the kernel form,
 * the prior and the grid are this library's. */
#include <math.h>
#include <string.h>

#include "common/bits.h"
#include "common/coalition.h"
#include "credit/kernel_design.h"
#include "credit/methods.h"
#include "credit/linalg.h"
#include "credit/oddshap_fit.h"

#define JITTER 1e-10   /* relative, on the exact row of N */
/* The grid, for targets scaled to a root mean square of 1: the prior
 * variance of a linear coefficient (free, or held near the equal split that
 * the row of N then imposes), of the higher degrees, and the noise. */
#define N_S1 2
#define N_RHO 3
#define N_NOISE 3
static const double S1[N_S1] = {100.0, 1e-4};
static const double RHO[N_RHO] = {0.01, 0.1, 1.0};
static const double NOISE[N_NOISE] = {1e-6, 1e-3, 1e-1};
/* A declared noisy oracle: the noise is a sizeable share of the targets. */
static const double NOISY_NOISE[N_NOISE] = {1e-2, 1e-1, 1.0};
#define SEARCH_ROWS 512u /* pairs the grid search looks at, at most */

typedef struct hyper {
    double s1, rho, noise;
} hyper;

typedef struct odd_fit {
    uint32_t n, words, m;   /* rows: the pairs, then N last */
    const atomic_int *stop; /* the run's cancel flag           */
    int noisy;              /* the oracle is declared noisy     */
    double prior;           /* prior variance of each phi_i (last fit) */
    double scale;           /* the targets were divided by it */
    const uint64_t **key;   /* m: each row's coalition        */
    uint32_t *ent;          /* 2m: each row's cache entries, S then
                               its complement (the full fit's only) */
    uint32_t *absent;       /* m: players outside the row's S  */
    double *u, *w;          /* m: targets; weights (mean 1)    */
    double *g;              /* m x m: G, then its factor L     */
    double *alpha, *diag, *scratch;
    double *nk, *nkm;       /* normalised Krawtchouk tables    */
    double *ktab, *etab;    /* n+1 and n: K(h); Cov(phi_i, .) */
    uint64_t *full;         /* the key of N                    */
} odd_fit;

/* nk[h (n+1) + d] = Kraw_d(h) / C(n, d) for the n-player cube: the mean of
 * prod_{i in T} y_i over the d-subsets T, y with h entries -1. Built as the
 * coefficients of (1 - z)^h (1 + z)^(n-h), divided by C(n, d); each entry is
 * at most 1 in size and exact to a few ulps of 1. */
static void krawtchouk_table(uint32_t n, double *nk, double *poly)
{
    for (uint32_t h = 0; h <= n; h++) {
        memset(poly, 0, (n + 1) * sizeof *poly);
        poly[0] = 1.0;
        for (uint32_t t = 0; t < n; t++) /* multiply by (1 -+ z) */
            for (uint32_t d = t + 1; d > 0; d--)
                poly[d] += t < h ? -poly[d - 1] : poly[d - 1];
        double binom = 1.0;
        for (uint32_t d = 0; d <= n; d++) {
            nk[(size_t)h * (n + 1) + d] = poly[d] / binom;
            binom = binom * (double)(n - d) / (double)(d + 1);
        }
    }
}

/* Total prior variance of degree d (odd): c_d = s_d C(n, d). */
static double degree_variance(uint32_t n, uint32_t d, const hyper *h)
{
    return d == 1 ? h->s1 * (double)n : pow(h->rho, (double)(d - 1) / 2.0);
}

/* K(h) and Cov(phi_i, u(S)) / x_i as a function of b, the players other
 * than i outside S: sum over odd d of s_d (2/d) C(n-1, d-1) times the
 * (n-1)-cube's Kraw_{d-1}(b) / C(n-1, d-1), i.e. (2/n) c_d nkm. Returns the
 * prior variance of each phi_i, sum_d c_d 4 / (n d). */
static double kernel_tables(odd_fit *f, const hyper *hp)
{
    uint32_t n = f->n;
    double prior = 0.0;
    memset(f->ktab, 0, (n + 1) * sizeof *f->ktab);
    memset(f->etab, 0, n * sizeof *f->etab);
    for (uint32_t d = 1; d <= n; d += 2) {
        double c = degree_variance(n, d, hp);
        for (uint32_t h = 0; h <= n; h++)
            f->ktab[h] += c * f->nk[(size_t)h * (n + 1) + d];
        for (uint32_t b = 0; b < n; b++)
            f->etab[b] += c * 2.0 / n * f->nkm[(size_t)b * n + (d - 1)];
        prior += c * 4.0 / ((double)n * d);
    }
    return prior;
}

static uint32_t hamming(const uint64_t *a, const uint64_t *b, uint32_t words)
{
    uint32_t h = 0;
    for (uint32_t k = 0; k < words; k++)
        h += ac__popcount64(a[k] ^ b[k]);
    return h;
}

/* The weight that divides row j's noise term: its KernelSHAP weight for a
 * deterministic oracle (the nugget then says how closely to follow the
 * row), 1 for a noisy one, whose noise is the same on every pair however
 * heavy: following a heavy coalition's noise closely is what kept the
 * error from falling with the budget. */
static double nugget_weight(const odd_fit *f, uint32_t j)
{
    return f->noisy ? 1.0 : f->w[j];
}

/* G = K + diag(noise / w) over the rows (N: a jitter only), lower half.
 * A cancel leaves it half built: the factorisation, next, sees the cancel
 * before it reads G. */
static void build_gram(odd_fit *f, double noise)
{
    uint32_t m = f->m;
    for (uint32_t j = 0; j < m; j++) {
        if (atomic_load_explicit(f->stop, memory_order_relaxed))
            return;
        double *row = f->g + (size_t)j * m;
        for (uint32_t k = 0; k < j; k++)
            row[k] = f->ktab[hamming(f->key[j], f->key[k], f->words)];
        row[j] = f->ktab[0] + (j + 1 < m ? noise / nugget_weight(f, j)
                                         : JITTER * f->ktab[0]);
    }
}

/* Factor G and solve for alpha; -1 when G is not numerically positive,
 * AC__LINALG_STOPPED when the run was cancelled. */
static int fit(odd_fit *f, const hyper *hp)
{
    f->prior = kernel_tables(f, hp);
    build_gram(f, hp->noise);
    int rc = ac__cholesky(f->g, f->m, f->stop);
    if (rc != 0)
        return rc;
    memcpy(f->alpha, f->u, f->m * sizeof *f->alpha);
    ac__cholesky_solve(f->g, f->m, f->alpha);
    return 0;
}

/* Weighted leave-one-out error of the current fit over the pair rows into
 * *err; AC__LINALG_STOPPED when the run was cancelled. */
static int loo_error(odd_fit *f, double *err)
{
    if (ac__cholesky_inverse_diag(f->g, f->m, f->diag, f->scratch, f->stop))
        return AC__LINALG_STOPPED;
    *err = 0.0;
    for (uint32_t j = 0; j + 1 < f->m; j++) {
        double e = f->alpha[j] / f->diag[j];
        *err += f->w[j] * e * e;
    }
    return 0;
}

/* Cov(phi_i, u_j) for every row j into out (m). */
static void phi_covariances(const odd_fit *f, uint32_t i, double *out)
{
    for (uint32_t j = 0; j < f->m; j++) {
        int in = ac__bit_test(f->key[j], i);
        uint32_t b = f->absent[j] - !in;
        out[j] = in ? f->etab[b] : -f->etab[b];
    }
}

/* AC_OK, or AC_E_CANCELLED: each player costs a solve of m^2. */
static int shapley_of_fit(odd_fit *f, double *phi, double *se)
{
    double amp = 0.0; /* the prior's amplitude: u' G^-1 u / m */
    for (uint32_t j = 0; j < f->m; j++)
        amp += f->u[j] * f->alpha[j];
    amp = amp > 0.0 ? amp / f->m : 0.0;
    for (uint32_t i = 0; i < f->n; i++) {
        if (atomic_load_explicit(f->stop, memory_order_relaxed))
            return AC_E_CANCELLED;
        phi_covariances(f, i, f->scratch);
        double p = 0.0;
        for (uint32_t j = 0; j < f->m; j++)
            p += f->alpha[j] * f->scratch[j];
        phi[i] = p * f->scale;
        /* k' G^-1 k = |L^-1 k|^2 */
        ac__cholesky_forward(f->g, f->m, f->scratch);
        double explained = 0.0;
        for (uint32_t j = 0; j < f->m; j++)
            explained += f->scratch[j] * f->scratch[j];
        double var = amp * (f->prior - explained);
        se[i] = var > 0.0 ? sqrt(var) * f->scale : 0.0;
    }
    return AC_OK;
}

/* The pairs of the design: each coalition whose complement was evaluated
 * too, once (the one first in the cache), with the two weights summed. */
static int collect_rows(ac_estimator *e, odd_fit *f, double *w_of,
                        uint64_t *comp)
{
    ac__kernel_design d;
    int rc = ac__kernel_design_make(e, &d);
    for (uint32_t k = 0; rc == AC_OK && k < d.count; k++)
        w_of[d.entries[k]] += d.weights[k];
    ac__kernel_design_free(e, &d);
    if (rc != AC_OK)
        return rc;
    double v0 = ac__est_value(e, e->empty_entry), total = 0.0;
    f->m = 0;
    for (uint32_t j = 0; j < e->cache.count; j++) {
        if (!(w_of[j] > 0.0))
            continue;
        const uint64_t *key = ac__cache_key(&e->cache, j);
        for (uint32_t k = 0; k < f->words; k++)
            comp[k] = f->full[k] & ~key[k];
        uint32_t c = ac__cache_find(&e->cache, comp);
        if (c == AC__NO_ENTRY || c < j || !(w_of[c] > 0.0))
            continue;
        f->key[f->m] = key;
        f->ent[2 * f->m] = j;
        f->ent[2 * f->m + 1] = c;
        f->absent[f->m] = f->n - ac__coalition_size(key, f->words);
        f->u[f->m] = ((ac__est_value(e, j) - v0) -
                      (ac__est_value(e, c) - v0)) / 2.0;
        f->w[f->m] = w_of[j] + w_of[c];
        total += f->w[f->m++];
    }
    double ss = 0.0;
    for (uint32_t j = 0; j < f->m; j++) {
        f->w[j] *= (double)f->m / total;
        ss += f->u[j] * f->u[j];
    }
    f->key[f->m] = f->full; /* the exact row of N */
    f->absent[f->m] = 0;
    f->u[f->m++] = (ac__est_value(e, e->grand_entry) - v0) / 2.0;
    /* The grid's levels are for targets of unit size. */
    f->scale = ss > 0.0 ? sqrt(ss / (f->m - 1)) : 1.0;
    for (uint32_t j = 0; j < f->m; j++)
        f->u[j] /= f->scale;
    return AC_OK;
}

/* What a fit owns alone: its rows and its system (a subsample shares the
 * tables of the fit it was drawn from). */
static void rows_free(ac_estimator *e, odd_fit *f)
{
    ac__mem_free(&e->mem, f->key);
    ac__mem_free(&e->mem, f->absent);
    ac__mem_free(&e->mem, f->u);
    ac__mem_free(&e->mem, f->w);
    ac__mem_free(&e->mem, f->g);
    ac__mem_free(&e->mem, f->alpha);
    ac__mem_free(&e->mem, f->diag);
    ac__mem_free(&e->mem, f->scratch);
}

static void fit_free(ac_estimator *e, odd_fit *f)
{
    rows_free(e, f);
    ac__mem_free(&e->mem, f->nk);
    ac__mem_free(&e->mem, f->nkm);
    ac__mem_free(&e->mem, f->ktab);
    ac__mem_free(&e->mem, f->etab);
    ac__mem_free(&e->mem, f->full);
    ac__mem_free(&e->mem, f->ent);
}

/* Everything but the m x m system, whose size the rows decide. */
static int fit_alloc(ac_estimator *e, odd_fit *f, uint32_t rows)
{
    uint32_t n = e->n;
    const ac__mem *mm = &e->mem;
    memset(f, 0, sizeof *f);
    f->n = n;
    f->words = e->words;
    f->stop = &e->cancelled;
    f->noisy = e->p.noisy || e->p.repeats > 1;
    f->key = ac__mem_alloc(mm, rows, sizeof *f->key);
    f->ent = ac__mem_alloc(mm, 2 * (size_t)rows, sizeof *f->ent);
    f->absent = ac__mem_alloc(mm, rows, sizeof *f->absent);
    f->u = ac__mem_alloc(mm, rows, sizeof *f->u);
    f->w = ac__mem_alloc(mm, rows, sizeof *f->w);
    f->nk = ac__mem_alloc(mm, (size_t)(n + 1) * (n + 1), sizeof *f->nk);
    f->nkm = ac__mem_alloc(mm, (size_t)n * n, sizeof *f->nkm);
    f->ktab = ac__mem_alloc(mm, n + 1, sizeof *f->ktab);
    f->etab = ac__mem_alloc(mm, n, sizeof *f->etab);
    f->full = ac__mem_alloc(mm, e->words, sizeof *f->full);
    double *poly = ac__mem_alloc(mm, n + 1, sizeof *poly);
    int ok = f->key && f->ent && f->absent && f->u && f->w && f->nk && f->nkm &&
             f->ktab && f->etab && f->full && poly;
    if (ok) {
        ac__coalition_fill(f->full, e->words, n);
        krawtchouk_table(n, f->nk, poly);
        krawtchouk_table(n - 1, f->nkm, poly);
    }
    ac__mem_free(mm, poly);
    return ok ? AC_OK : AC_E_NO_MEMORY;
}

static int system_alloc(ac_estimator *e, odd_fit *f)
{
    const ac__mem *mm = &e->mem;
    uint32_t m = f->m;
    f->g = ac__mem_alloc(mm, (size_t)m * m, sizeof *f->g);
    f->alpha = ac__mem_alloc(mm, m, sizeof *f->alpha);
    f->diag = ac__mem_alloc(mm, m, sizeof *f->diag);
    /* the inverse's diagonal works on 32 columns at a time */
    f->scratch = ac__mem_alloc(mm, (size_t)m * 32, sizeof *f->scratch);
    return f->g && f->alpha && f->diag && f->scratch ? AC_OK : AC_E_NO_MEMORY;
}

/* The grid point with the least leave-one-out error on f's rows into
 * *best; AC_OK or AC_E_CANCELLED. */
static int search_grid(odd_fit *f, const double *noise, hyper *best)
{
    double least = INFINITY;
    *best = (hyper){S1[0], RHO[0], noise[0]};
    for (int a = 0; a < N_S1; a++)
        for (int r = 0; r < N_RHO; r++)
            for (int k = 0; k < N_NOISE; k++) {
                hyper h = {S1[a], RHO[r], noise[k]};
                double err;
                int rc = fit(f, &h);
                if (rc == 0)
                    rc = loo_error(f, &err);
                if (rc == AC__LINALG_STOPPED)
                    return AC_E_CANCELLED;
                if (rc != 0)
                    continue;
                if (err < least) {
                    least = err;
                    *best = h;
                }
            }
    return AC_OK;
}

/* Every stride-th pair row of f and the row of N, as a fit of its own that
 * shares f's tables: the grid search runs on it when f is large, so that
 * its O(m^3) cost is paid once, by the final fit, not once a grid point. */
static int subsample(ac_estimator *e, const odd_fit *f, odd_fit *sub)
{
    uint32_t pairs = f->m - 1, stride = (pairs + SEARCH_ROWS - 1) / SEARCH_ROWS;
    *sub = *f;
    sub->m = (pairs + stride - 1) / stride + 1;
    sub->key = ac__mem_alloc(&e->mem, sub->m, sizeof *sub->key);
    sub->absent = ac__mem_alloc(&e->mem, sub->m, sizeof *sub->absent);
    sub->u = ac__mem_alloc(&e->mem, sub->m, sizeof *sub->u);
    sub->w = ac__mem_alloc(&e->mem, sub->m, sizeof *sub->w);
    sub->g = sub->alpha = sub->diag = sub->scratch = NULL;
    sub->ent = NULL;
    if (!sub->key || !sub->absent || !sub->u || !sub->w)
        return AC_E_NO_MEMORY;
    uint32_t k = 0;
    for (uint32_t j = 0; j <= pairs; j = j + stride < pairs ? j + stride
                                       : j < pairs          ? pairs
                                                            : pairs + 1) {
        sub->key[k] = f->key[j]; /* every stride-th pair, then N's row */
        sub->absent[k] = f->absent[j];
        sub->u[k] = f->u[j];
        sub->w[k++] = f->w[j];
    }
    sub->m = k;
    return system_alloc(e, sub);
}

/* The final fit's residuals of u at its pair rows, into res_fit (of the
 * fit itself, u - K alpha = noise / w alpha) and res_loo (left out, alpha /
 * G^-1_jj), per cache entry: S's, and its complement's with the opposite
 * sign (u is odd). AC_OK or AC_E_CANCELLED. */
static int row_residuals(odd_fit *f, double noise, double *res_fit,
                         double *res_loo)
{
    if (ac__cholesky_inverse_diag(f->g, f->m, f->diag, f->scratch, f->stop))
        return AC_E_CANCELLED;
    for (uint32_t j = 0; j + 1 < f->m; j++) {
        double r = noise / nugget_weight(f, j) * f->alpha[j] * f->scale;
        double l = f->alpha[j] / f->diag[j] * f->scale;
        res_fit[f->ent[2 * j]] = r;
        res_fit[f->ent[2 * j + 1]] = -r;
        res_loo[f->ent[2 * j]] = l;
        res_loo[f->ent[2 * j + 1]] = -l;
    }
    return AC_OK;
}

int ac__oddshap_fit(ac_estimator *e, double *phi, double *se,
                    double *res_fit, double *res_loo)
{
    odd_fit f;
    /* Rows: at most one per distinct evaluated coalition, plus N. */
    uint32_t rows = e->cache.count + 1;
    double *w_of = ac__mem_calloc(&e->mem, e->cache.count, sizeof *w_of);
    uint64_t *comp = ac__mem_alloc(&e->mem, e->words, sizeof *comp);
    int rc = fit_alloc(e, &f, rows);
    if (rc == AC_OK && (w_of == NULL || comp == NULL))
        rc = AC_E_NO_MEMORY;
    if (rc == AC_OK)
        rc = collect_rows(e, &f, w_of, comp);
    if (rc == AC_OK && f.m == 1)
        rc = ac__fail(e->err, AC_E_ORACLE,
                      "every evaluated pair lost a coalition to oracle "
                      "failures (%lld coalitions given up)",
                      (long long)e->dropped);
    if (rc == AC_OK && f.m > AC_ODDSHAP_MAX_ROWS) {
        /* Known values gave more pairs than the fit takes: KernelSHAP's
         * estimate (the entry's fallback), whose cost does not grow with
         * them. */
        fit_free(e, &f);
        ac__mem_free(&e->mem, w_of);
        ac__mem_free(&e->mem, comp);
        return AC__FALL_BACK;
    }
    if (rc == AC_OK)
        rc = system_alloc(e, &f);
    const double *noise =
        e->p.noisy || e->p.repeats > 1 ? NOISY_NOISE : NOISE;
    hyper h = {S1[0], RHO[0], noise[0]};
    if (rc == AC_OK && f.m - 1 > SEARCH_ROWS) {
        odd_fit sub;
        rc = subsample(e, &f, &sub);
        if (rc == AC_OK)
            rc = search_grid(&sub, noise, &h);
        rows_free(e, &sub);
    } else if (rc == AC_OK) {
        rc = search_grid(&f, noise, &h);
    }
    int solved = rc == AC_OK ? fit(&f, &h) : 0;
    if (solved == AC__LINALG_STOPPED)
        rc = AC_E_CANCELLED;
    else if (solved != 0)
        rc = ac__fail(e->err, AC_E_STATE,
                      "the OddSHAP system is not positive definite");
    if (rc == AC_OK)
        rc = shapley_of_fit(&f, phi, se);
    if (rc == AC_OK && res_fit != NULL)
        rc = row_residuals(&f, h.noise, res_fit, res_loo);
    else if (rc == AC_E_NO_MEMORY)
        ac__fail(e->err, rc, "no memory for the OddSHAP fit of %u rows", f.m);
    /* No more pairs than players: the fit rests on its prior, and the
     * error is unknown (as KernelSHAP's is then). */
    for (uint32_t i = 0; rc == AC_OK && f.m - 1 <= e->n && i < e->n; i++)
        se[i] = INFINITY;
    fit_free(e, &f);
    ac__mem_free(&e->mem, w_of);
    ac__mem_free(&e->mem, comp);
    return rc;
}

/* The pairs a budget can buy, one row each, plus the row of N, fit
 * AC_ODDSHAP_MAX_ROWS: the fit's cost is cubic in its rows. */
static int oddshap_estimate(ac_estimator *e, double *phi, double *se)
{
    return ac__oddshap_fit(e, phi, se, NULL, NULL);
}

static int rows_fit(const ac_estimator *e)
{
    return e->p.budget / (2 * e->p.repeats) + 1 <= AC_ODDSHAP_MAX_ROWS;
}

int ac__oddshap_affordable(const ac_estimator *e)
{
    return e->n <= AC_KERNEL_MAX_PLAYERS && rows_fit(e);
}

/* OddSHAP spends the budget as KernelSHAP does and fits another model on
 * the same coalitions. */
int ac__oddshap_begin(ac_estimator *e)
{
    if (!rows_fit(e))
        return ac__fail(e->err, AC_E_TOO_LARGE,
                        "OddSHAP fits one row per evaluated pair, at most "
                        "%u; a budget of %lld could give %lld (use "
                        "AC_METHOD_KERNELSHAP)",
                        AC_ODDSHAP_MAX_ROWS, (long long)e->p.budget,
                        (long long)(e->p.budget / (2 * e->p.repeats) + 1));
    return ac__kernel_plan_begin(e);
}

static const ac__method_ops OPS = {
    .begin = ac__oddshap_begin,
    .extend = ac__kernel_plan_extend,
    .estimate = oddshap_estimate,
    .end = ac__kernel_plan_end,
    .settled = ac__kernel_plan_settled,
    .outcome = ac__est_sampled_outcome,
    .total = ac__est_cache_total,
};

const ac__method ac__method_oddshap = {
    .name = "oddshap",
    .id = AC_METHOD_ODDSHAP,
    .affordable = ac__oddshap_affordable,
    .ops = &OPS,
    .exact_when_complete = 1,
    .checkpoints = 1,
    .fallback = &ac__method_kernelshap, /* fits the same plan */
};
