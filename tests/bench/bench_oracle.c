/* SPDX-License-Identifier: MIT
 *
 * bench_oracle: what a rollout oracle costs, for docs/oracles.md and
 * docs/performance.md, section 4.
 *
 *   bench_oracle [--quick] [--seed S] [--seeds K] [--n-max N]
 *                [--n-min N] [--targets LIST] [--fail P]
 *                [--max-retries R]
 *
 * The team. n agents (3 <= n <= 10); a rollout of coalition S succeeds
 * (value 1, else 0) with probability
 *   p(S) = 1 / (1 + exp(-(b + sum_{i in S} c_i + g [0 in S and 1 in S])))
 * with b = -2, c_0 = 0.8 (a planner), c_1 = 1.2 (a coder), a synergy
 * g = 1.0 between them, helpers c_i = 0.6 / (i - 1) for i = 2 .. n-2, and a
 * harmful last agent c_{n-1} = -0.8. The exact Shapley values of p are
 * ac_shapley_exact over the 2^n table of p(S): the figures every estimate
 * is compared with. Each rollout is one draw of the benchmark's own
 * xoshiro256** generator (bench_common.h, seeded through splitmix64 from
 * --seed, n, the method and the seed index; rand() is never used), so the
 * same binary prints the same table on any machine (the CPU times aside).
 * Nothing is given as a known value: v(empty) and v(all) are rollouts too.
 * The leave-one-out differences p(all) - p(all without i) are printed
 * beside the Shapley values for comparison.
 *
 * The methods, every one with AC_ESTIMATOR_PARAM_NOISY = 1:
 *   auto      AC_METHOD_AUTO (it takes AC_METHOD_ADAPTIVE once the budget
 *             pays the table and the retry margin; checked)
 *   adaptive  AC_METHOD_ADAPTIVE, the same budget as auto's: its estimate
 *             must equal auto's bit for bit (checked on every check run)
 *   exact     AC_METHOD_EXACT with AC_ESTIMATOR_PARAM_REPEATS = r: every
 *             coalition r times, budget r 2^n
 *
 * For each n and target standard error t:
 *   search  on seeds 0 .. K-1: the smallest budget (auto: rollouts, within
 *           2%; exact: repeats r, within 2% or 1) whose run reports every
 *           agent's standard error at or below t. Extrapolated from a
 *           first run (se ~ 1/sqrt(budget)), then bracketed and bisected;
 *           each budget is a fresh run of the same seed.
 *   check   on fresh seeds K .. 2K-1, one run each at the median budget
 *           the search found: the rollouts spent, the share of runs that
 *           report max se <= t (met), the largest RMS reported se and the
 *           largest RMS error of one agent against the exact Shapley
 *           values of p (RMSE), RMSE / se pooled over agents, and the
 *           share of |phi_i - exact_i| <= 1.96 se_i over seeds and agents
 *           (coverage, nominal 95%). The budget that was enough for 90% of
 *           the searched seeds is printed too.
 *
 * Checked on every run (a failure makes the exit status 1): no library
 * error; the audit's evaluations equal the oracle's and never exceed the
 * budget; finite credits and standard errors; sum(phi) equals the mean of
 * the successful rollouts of the grand coalition minus that of the empty
 * one to 1e-12; auto took the adaptive method; adaptive equals auto.
 *
 * --fail P makes every rollout fail (status 1) with probability P: the
 * estimator retries it within the budget (AC_ESTIMATOR_PARAM_MAX_RETRIES,
 * default 2; --max-retries sets it). The REPEATS evaluations of a
 * coalition share its retries, so exact runs then get MAX_RETRIES = 1000
 * and a budget of r 2^n + ceil(3 P r 2^n) + 16 (see budget_of and
 * retries_of); the rollouts reported are those spent, failed ones
 * included. A run that fails (AC_E_ORACLE, AC_E_BUDGET) is then counted,
 * not a failed check; the search takes it for a run that misses the
 * target. --quick is the smoke test bench_oracle_smoke: n = 3..5,
 * t = 0.05, 2 seeds, a second or less.
 */
#define _POSIX_C_SOURCE 200809L

#include <agentcredit.h>

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"

#define N_LO 3
#define N_HI 10
#define MAX_TARGETS 8
#define MAX_UNITS (INT64_C(1) << 26) /* a search never goes beyond this */

/* ===================================================================== */
/* The team                                                              */
/* ===================================================================== */

typedef struct team {
    uint32_t n;
    uint64_t size;         /* 2^n */
    double p[1u << N_HI];  /* success probability of each coalition */
    double exact[N_HI];    /* Shapley values of p */
} team;

static void team_make(team *t, uint32_t n)
{
    double c[N_HI];
    t->n = n;
    t->size = UINT64_C(1) << n;
    c[0] = 0.8;
    c[1] = 1.2;
    for (uint32_t i = 2; i + 1 < n; i++)
        c[i] = 0.6 / (double)(i - 1);
    c[n - 1] = -0.8;
    for (uint64_t s = 0; s < t->size; s++) {
        double z = -2.0;
        for (uint32_t i = 0; i < n; i++)
            if (s >> i & 1)
                z += c[i];
        if ((s & 3) == 3)
            z += 1.0;
        t->p[s] = 1.0 / (1.0 + exp(-z));
    }
    int rc = ac_shapley_exact(n, t->p, t->size, t->exact);
    if (rc != AC_OK) {
        fprintf(stderr, "bench_oracle: ac_shapley_exact: %s\n",
                ac_status_name(rc));
        exit(2);
    }
}

/* ===================================================================== */
/* The oracle: one Bernoulli rollout per evaluation                      */
/* ===================================================================== */

typedef struct rollouts {
    const team *t;
    xoshiro256 rng;
    double fail;         /* probability that a rollout fails */
    int64_t calls;       /* evaluations seen, failed ones included */
    double sum_all, sum_none;  /* successful outcomes of all and of empty */
    int64_t n_all, n_none;
} rollouts;

static int rollout_oracle(void *user, const uint64_t *coalitions,
                          uint32_t words, uint32_t count, double *values,
                          int32_t *status)
{
    rollouts *r = user;
    for (uint32_t k = 0; k < count; k++) {
        uint64_t s = coalitions[(size_t)k * words];
        r->calls++;
        if (r->fail > 0.0 && xoshiro_uniform(&r->rng) < r->fail) {
            status[k] = 1; /* failed: the value stays NaN */
            continue;
        }
        double v = xoshiro_uniform(&r->rng) < r->t->p[s] ? 1.0 : 0.0;
        values[k] = v;
        if (s == 0) {
            r->sum_none += v;
            r->n_none++;
        } else if (s == r->t->size - 1) {
            r->sum_all += v;
            r->n_all++;
        }
    }
    return 0;
}

/* ===================================================================== */
/* One run                                                               */
/* ===================================================================== */

enum { M_AUTO, M_ADAPTIVE, M_EXACT };
static const char *const METHOD_NAME[] = {"auto", "adaptive", "exact"};

typedef struct run_result {
    double phi[N_HI], se[N_HI];
    double max_se;
    int64_t evals;
} run_result;

static uint64_t mix(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
    uint64_t st = a;
    uint64_t h = splitmix64(&st);
    st = h ^ b;
    h = splitmix64(&st);
    st = h ^ c;
    h = splitmix64(&st);
    st = h ^ d;
    return splitmix64(&st);
}

static double g_fail;      /* --fail */
static int64_t g_retries = -1; /* --max-retries; -1: the library's default */
static uint64_t g_seed;    /* --seed */
static int64_t g_runs;     /* runs made, for the report */
static int64_t g_rollouts; /* rollouts simulated in all, failed ones too */
/* with --fail: runs that ended AC_E_ORACLE, AC_E_BUDGET, and the largest
 * budget of the latter */
static int64_t g_failed_oracle, g_failed_budget, g_failed_budget_max;

/* Budget of `units` for the method: rollouts (auto, adaptive) or repeats
 * (exact: r 2^n rollouts, plus a margin for retries when rollouts fail:
 * without one, the first failed rollout ends the exact run with
 * AC_E_BUDGET). */
static int64_t budget_of(const team *t, int method, int64_t units)
{
    if (method != M_EXACT)
        return units;
    int64_t table = units * (int64_t)t->size;
    if (g_fail > 0.0)
        table += (int64_t)ceil(3.0 * g_fail * (double)table) + 16;
    return table;
}

/* AC_ESTIMATOR_PARAM_MAX_RETRIES for the run: --max-retries (or the
 * library's default, 2). The REPEATS evaluations of a coalition share its
 * retries, so with failing rollouts an exact run of r repeats gets the
 * largest value, 1000: the budget's margin bounds its retries instead. */
static int64_t retries_of(int method)
{
    if (method == M_EXACT && g_fail > 0.0)
        return 1000;
    return g_retries >= 0 ? g_retries : 2;
}

/* The smallest number of units the method runs with. */
static int64_t units_min(const team *t, int method)
{
    int64_t cost = (int64_t)t->size;
    switch (method) {
    case M_AUTO:
        return cost + 2 + cost / 32; /* the table and AUTO's retry margin */
    case M_ADAPTIVE:
        return cost;
    default:
        return 2; /* one evaluation per coalition has no variance to see */
    }
}

/* Runs the method at `units` with seed index `sd`. The rollouts' stream
 * depends on (--seed, n, method, sd), not on the budget: the search's runs
 * of one seed share their first rollouts. Returns 0; 1 when, with --fail,
 * the run ended AC_E_ORACLE or AC_E_BUDGET (a failed rollout past its
 * retries or the budget: counted, not a failed check); -1 after fail(). */
static int run_one(const team *t, int method, int64_t units, int sd,
                   run_result *out)
{
    ac_estimator *est = NULL;
    rollouts r;
    int64_t budget = budget_of(t, method, units);
    /* auto and adaptive draw the same rollouts: they must agree */
    int stream = method == M_EXACT ? 1 : 0;
    memset(&r, 0, sizeof r);
    r.t = t;
    r.fail = g_fail;
    xoshiro_seed(&r.rng, mix(g_seed, t->n, (uint64_t)stream, (uint64_t)sd));
    g_runs++;

    int rc = ac_estimator_create(&est, t->n, NULL);
    if (rc != AC_OK) {
        fail("n = %u: ac_estimator_create: %s", t->n, ac_status_name(rc));
        return -1;
    }
    int64_t lib_method = method == M_AUTO       ? AC_METHOD_AUTO
                        : method == M_ADAPTIVE ? AC_METHOD_ADAPTIVE
                                               : AC_METHOD_EXACT;
    rc = ac_estimator_set_int(est, AC_ESTIMATOR_PARAM_METHOD, lib_method);
    if (rc == AC_OK)
        rc = ac_estimator_set_int(est, AC_ESTIMATOR_PARAM_BUDGET, budget);
    if (rc == AC_OK)
        rc = ac_estimator_set_int(est, AC_ESTIMATOR_PARAM_SEED, sd);
    if (rc == AC_OK)
        rc = ac_estimator_set_int(est, AC_ESTIMATOR_PARAM_NOISY, 1);
    if (rc == AC_OK && method == M_EXACT)
        rc = ac_estimator_set_int(est, AC_ESTIMATOR_PARAM_REPEATS, units);
    if (rc == AC_OK && (g_retries >= 0 || (method == M_EXACT && g_fail > 0)))
        rc = ac_estimator_set_int(est, AC_ESTIMATOR_PARAM_MAX_RETRIES,
                                  retries_of(method));
    if (rc == AC_OK)
        rc = ac_estimator_set_oracle(est, rollout_oracle, &r);
    if (rc == AC_OK)
        rc = ac_estimator_run(est);
    if (rc == AC_OK)
        rc = ac_estimator_result(est, out->phi, out->se, t->n);
    g_rollouts += r.calls;
    if (rc != AC_OK && g_fail > 0.0
        && (rc == AC_E_ORACLE || rc == AC_E_BUDGET)) {
        if (rc == AC_E_ORACLE) {
            g_failed_oracle++;
        } else {
            g_failed_budget++;
            if (budget > g_failed_budget_max)
                g_failed_budget_max = budget;
        }
        ac_estimator_free(est);
        return 1;
    }
    if (rc != AC_OK) {
        fail("n = %u, %s, budget %" PRId64 ", seed %d: %s (%s)", t->n,
             METHOD_NAME[method], budget, sd, ac_status_name(rc),
             ac_estimator_last_error(est));
        ac_estimator_free(est);
        return -1;
    }
    int64_t evals = -1, used = -1;
    if (ac_estimator_audit(est, AC_ESTIMATOR_AUDIT_EVALUATIONS, &evals) != AC_OK
        || ac_estimator_audit(est, AC_ESTIMATOR_AUDIT_METHOD, &used) != AC_OK)
        fail("n = %u: ac_estimator_audit", t->n);
    ac_estimator_free(est);

    int bad = 0;
    if (evals != r.calls || evals > budget) {
        fail("n = %u, %s, budget %" PRId64 ": audit %" PRId64
             " evaluations, oracle %" PRId64, t->n, METHOD_NAME[method],
             budget, evals, r.calls);
        bad = 1;
    }
    if (method == M_AUTO && used != AC_METHOD_ADAPTIVE) {
        fail("n = %u, budget %" PRId64 ": auto took method %" PRId64
             ", not adaptive", t->n, budget, used);
        bad = 1;
    }
    double sum = 0.0, total = 0.0;
    out->max_se = 0.0;
    for (uint32_t i = 0; i < t->n; i++) {
        if (!isfinite(out->phi[i]) || !isfinite(out->se[i])) {
            fail("n = %u, %s, budget %" PRId64 ": agent %u: phi %g, se %g",
                 t->n, METHOD_NAME[method], budget, i, out->phi[i],
                 out->se[i]);
            bad = 1;
        }
        sum += out->phi[i];
        if (out->se[i] > out->max_se)
            out->max_se = out->se[i];
    }
    if (r.n_all > 0 && r.n_none > 0) {
        total = r.sum_all / (double)r.n_all - r.sum_none / (double)r.n_none;
        if (fabs(sum - total) > 1e-12) {
            fail("n = %u, %s, budget %" PRId64 ": sum(phi) %.17g, outcome "
                 "minus baseline %.17g", t->n, METHOD_NAME[method], budget,
                 sum, total);
            bad = 1;
        }
    }
    out->evals = evals;
    return bad ? -1 : 0;
}

/* ===================================================================== */
/* The search: the smallest budget whose run meets the target            */
/* ===================================================================== */

/* Within 2% (or 1 unit) of the crossing. */
static int close_enough(int64_t lo, int64_t hi)
{
    return hi - lo <= 1 || (double)(hi - lo) <= 0.02 * (double)lo;
}

/* Runs seed sd at `units`: 1 when the run reports max se <= target, 0 when
 * it does not, 2 when (with --fail) the run failed, -1 after fail(). */
static int meets(const team *t, int method, int64_t units, int sd,
                 double target, double *max_se)
{
    run_result res;
    int rc = run_one(t, method, units, sd, &res);
    if (rc != 0)
        return rc < 0 ? -1 : 2;
    *max_se = res.max_se;
    return *max_se <= target;
}

/* The smallest units (within close_enough) at which seed sd's run reports
 * max se <= target; -1 after fail() or beyond MAX_UNITS. With --fail a
 * failed run counts as one that does not meet the target; on the way up
 * the budget then doubles (a small budget may leave no room to retry a
 * failed rollout), and -2 gives the seed up after four failed runs in a
 * row (a seed's first rollouts are the same at every budget: a pilot
 * rollout that fails past its retries fails at every budget). */
static int64_t search(const team *t, int method, double target, int sd)
{
    double se = 0.0;
    const int64_t u_min = units_min(t, method);
    int64_t u = method == M_EXACT ? 8 : 4 * (int64_t)t->size;
    if (u < u_min)
        u = u_min;
    int m = meets(t, method, u, sd, target, &se);
    if (m < 0)
        return -1;
    /* se ~ 1 / sqrt(budget) */
    double guess = m == 2      ? 2.0 * (double)u
                   : se > 0.0 ? (double)u * (se / target) * (se / target)
                              : (double)u_min;
    int64_t u1 = guess > (double)MAX_UNITS ? MAX_UNITS : (int64_t)ceil(guess);
    if (u1 < u_min)
        u1 = u_min;
    if ((m = meets(t, method, u1, sd, target, &se)) < 0)
        return -1;
    int64_t lo, hi; /* lo does not meet the target (or is below u_min),
                       hi meets it */
    if (m == 1) {
        hi = u1;
        for (;;) {
            if (hi == u_min)
                return hi;
            int64_t c = (int64_t)floor((double)hi * 0.93);
            if (c >= hi)
                c = hi - 1;
            if (c < u_min)
                c = u_min;
            if ((m = meets(t, method, c, sd, target, &se)) < 0)
                return -1;
            if (m != 1) {
                lo = c;
                break;
            }
            hi = c;
        }
    } else {
        int failed_in_row = m == 2;
        lo = u1;
        for (;;) {
            int64_t c = failed_in_row ? 2 * lo
                                      : (int64_t)ceil((double)lo * 1.07) + 1;
            if (c > MAX_UNITS) {
                fail("n = %u, %s, t = %g: no budget up to %" PRId64
                     " units meets the target", t->n, METHOD_NAME[method],
                     target, (int64_t)MAX_UNITS);
                return -1;
            }
            if ((m = meets(t, method, c, sd, target, &se)) < 0)
                return -1;
            if (m == 1) {
                hi = c;
                break;
            }
            failed_in_row = m == 2 ? failed_in_row + 1 : 0;
            if (failed_in_row >= 4)
                return -2;
            lo = c;
        }
    }
    while (!close_enough(lo, hi)) {
        int64_t mid = (int64_t)llround(sqrt((double)lo * (double)hi));
        if (mid <= lo)
            mid = lo + 1;
        if (mid >= hi)
            mid = hi - 1;
        if ((m = meets(t, method, mid, sd, target, &se)) < 0)
            return -1;
        if (m == 1)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

/* ===================================================================== */
/* One row: search, then check                                           */
/* ===================================================================== */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of sorted x[0..k-1] (the smallest x[j] with at least
 * q k of the values at or below it). */
static int64_t quantile(const int64_t *x, int k, double q)
{
    int j = (int)ceil(q * k) - 1;
    return x[j < 0 ? 0 : j >= k ? k - 1 : j];
}

static void row(const team *t, int method, double target, int seeds)
{
    double c0 = now_cpu();
    int64_t *found = xcalloc((size_t)seeds, sizeof(int64_t));
    int n_found = 0, given_up = 0, failed = 0;
    for (int sd = 0; sd < seeds; sd++) {
        int64_t u = search(t, method, target, sd);
        if (u == -1) {
            free(found);
            return;
        }
        if (u == -2)
            given_up++;
        else
            found[n_found++] = u;
    }
    if (n_found == 0) {
        fail("n = %u, %s, t = %g: every searched seed failed", t->n,
             METHOD_NAME[method], target);
        free(found);
        return;
    }
    qsort(found, (size_t)n_found, sizeof(int64_t), cmp_i64);
    int64_t med_units = quantile(found, n_found, 0.5);
    int64_t q90 = budget_of(t, method, quantile(found, n_found, 0.9));
    free(found);

    /* check: fresh seeds at the median budget */
    int met = 0, covered = 0, cells = 0, ok = 0;
    double sq[N_HI] = {0}, se2[N_HI] = {0}, spent = 0.0;
    for (int sd = seeds; sd < 2 * seeds; sd++) {
        run_result res, twin;
        int rc = run_one(t, method, med_units, sd, &res);
        if (rc < 0)
            return;
        if (rc > 0) { /* with --fail: the run failed */
            failed++;
            continue;
        }
        ok++;
        if (method == M_AUTO) {
            if (run_one(t, M_ADAPTIVE, med_units, sd, &twin) != 0) {
                fail("n = %u, budget %" PRId64 ", seed %d: adaptive failed "
                     "where auto did not", t->n, med_units, sd);
                return;
            }
            if (memcmp(res.phi, twin.phi, t->n * sizeof(double)) != 0
                || memcmp(res.se, twin.se, t->n * sizeof(double)) != 0)
                fail("n = %u, budget %" PRId64 ", seed %d: adaptive differs "
                     "from auto", t->n, med_units, sd);
        }
        met += res.max_se <= target;
        spent += (double)res.evals;
        for (uint32_t i = 0; i < t->n; i++) {
            double e = res.phi[i] - t->exact[i];
            sq[i] += e * e;
            se2[i] += res.se[i] * res.se[i];
            covered += fabs(e) <= 1.96 * res.se[i];
            cells++;
        }
    }
    double rmse = 0.0, rse = 0.0, sum_sq = 0.0, sum_se2 = 0.0;
    for (uint32_t i = 0; i < t->n; i++) {
        sum_sq += sq[i];
        sum_se2 += se2[i];
        if (sq[i] > rmse)
            rmse = sq[i];
        if (se2[i] > rse)
            rse = se2[i];
    }
    if (ok == 0) {
        fail("n = %u, %s, t = %g: every check run failed", t->n,
             METHOD_NAME[method], target);
        return;
    }
    rmse = sqrt(rmse / ok);
    rse = sqrt(rse / ok);
    spent /= ok;
    printf("| %2u | %.2f | %-5s | %7.0f | %5.1f | %7" PRId64 " | %.4f | %.4f "
           "| %.2f | %4.0f%% | %5.1f%% | %5.2f |",
           t->n, target, METHOD_NAME[method], spent,
           spent / (double)t->size, q90, rse, rmse,
           sum_se2 > 0.0 ? sqrt(sum_sq / sum_se2) : INFINITY, 100.0 * met / ok,
           100.0 * covered / cells, now_cpu() - c0);
    if (g_fail > 0.0)
        printf(" %d of %d |", failed, seeds);
    printf("\n");
    if (given_up > 0)
        printf("(n = %u, %s, t = %.2f: %d of the %d searched seeds given up: "
               "their runs failed at every budget tried)\n", t->n,
               METHOD_NAME[method], target, given_up, seeds);
    fflush(stdout);
}

/* ===================================================================== */
/* Main                                                                  */
/* ===================================================================== */

static void usage(FILE *to)
{
    fputs(
        "usage: bench_oracle [options]\n"
        "  --quick         the smoke test: n = 3..5, target 0.05, 2 seeds\n"
        "  --seed S        the rollouts' seed (default 1)\n"
        "  --seeds K       seeds searched, and as many fresh ones checked\n"
        "                  (default 200; --quick: 2)\n"
        "  --n-min N       smallest team (default 3)\n"
        "  --n-max N       largest team, at most 10 (default 10; --quick: 5)\n"
        "  --targets LIST  target standard errors, comma-separated\n"
        "                  (default 0.05,0.02,0.01; --quick: 0.05)\n"
        "  --fail P        every rollout fails with probability P (default 0)\n"
        "  --max-retries R AC_ESTIMATOR_PARAM_MAX_RETRIES (default: the "
        "library's, 2)\n"
        "Exit status: 0 when every check passed, 1 when one failed, 2 on a "
        "usage error.\n",
        to);
}

int main(int argc, char **argv)
{
    int quick = 0, seeds = -1;
    long long n_min = N_LO, n_max = -1;
    double targets[MAX_TARGETS];
    int n_targets = 0;
    g_seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long long v;
        if (strcmp(a, "--quick") == 0) {
            quick = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--seed") == 0 && i + 1 < argc) {
            if (parse_int(argv[++i], 0, INT64_MAX, &v))
                goto bad_usage;
            g_seed = (uint64_t)v;
        } else if (strcmp(a, "--seeds") == 0 && i + 1 < argc) {
            if (parse_int(argv[++i], 1, 10000, &v))
                goto bad_usage;
            seeds = (int)v;
        } else if (strcmp(a, "--n-min") == 0 && i + 1 < argc) {
            if (parse_int(argv[++i], N_LO, N_HI, &n_min))
                goto bad_usage;
        } else if (strcmp(a, "--n-max") == 0 && i + 1 < argc) {
            if (parse_int(argv[++i], N_LO, N_HI, &n_max))
                goto bad_usage;
        } else if (strcmp(a, "--targets") == 0 && i + 1 < argc) {
            char buf[256];
            snprintf(buf, sizeof buf, "%s", argv[++i]);
            n_targets = 0;
            for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
                 tok = strtok_r(NULL, ",", &save)) {
                char *end;
                double x = strtod(tok, &end);
                if (*end || !(x > 0.0 && x < 1.0) || n_targets == MAX_TARGETS)
                    goto bad_usage;
                targets[n_targets++] = x;
            }
            if (n_targets == 0)
                goto bad_usage;
        } else if (strcmp(a, "--max-retries") == 0 && i + 1 < argc) {
            if (parse_int(argv[++i], 0, 1000, &v))
                goto bad_usage;
            g_retries = (int64_t)v;
        } else if (strcmp(a, "--fail") == 0 && i + 1 < argc) {
            char *end;
            g_fail = strtod(argv[++i], &end);
            if (*end || !(g_fail >= 0.0 && g_fail <= 0.5))
                goto bad_usage;
        } else {
            goto bad_usage;
        }
    }
    if (seeds < 0)
        seeds = quick ? 2 : 200;
    if (n_max < 0)
        n_max = quick ? 5 : N_HI;
    if (n_targets == 0) {
        if (quick) {
            targets[n_targets++] = 0.05;
        } else {
            targets[n_targets++] = 0.05;
            targets[n_targets++] = 0.02;
            targets[n_targets++] = 0.01;
        }
    }
    if (n_min > n_max)
        goto bad_usage;

    printf("agentcredit %s (ABI %u) rollout-oracle benchmark%s\n",
           ac_version_string(), ac_abi_version(),
           quick ? " --quick (smoke test, not figures)" : "");
    printf("seed %" PRIu64 ", %d seeds searched and %d checked, rollouts "
           "failing with probability %g, AC_ESTIMATOR_PARAM_NOISY = 1",
           g_seed, seeds, seeds, g_fail);
    if (g_retries >= 0)
        printf(", AC_ESTIMATOR_PARAM_MAX_RETRIES = %" PRId64, g_retries);
    printf("\n\n");
    double c_start = now_cpu();

    printf("The teams: p(empty), p(all), the exact Shapley values of p and "
           "the leave-one-out\ndifferences\n");
    for (uint32_t n = (uint32_t)n_min; n <= (uint32_t)n_max; n++) {
        team t;
        team_make(&t, n);
        printf("n = %2u: p(empty) %.3f, p(all) %.3f, phi", n, t.p[0],
               t.p[t.size - 1]);
        for (uint32_t i = 0; i < n; i++)
            printf(" %+.3f", t.exact[i]);
        /* leave-one-out, p(all) - p(all without i), for comparison: it
         * does not add up to p(all) - p(empty) when agents interact */
        double loo_sum = 0.0;
        printf("\n        leave-one-out");
        for (uint32_t i = 0; i < n; i++) {
            double loo = t.p[t.size - 1] - t.p[(t.size - 1) & ~(UINT64_C(1) << i)];
            loo_sum += loo;
            printf(" %+.3f", loo);
        }
        printf(" (sum %+.3f; p(all) - p(empty) %+.3f)\n", loo_sum,
               t.p[t.size - 1] - t.p[0]);
    }

    printf("\n| n | target | method | rollouts | per coalition | 90%% of "
           "seeds | se (largest) | RMSE (largest) | RMSE / se | met | "
           "coverage | CPU s "
           "|");
    if (g_fail > 0.0)
        printf(" failed runs |");
    printf("\n|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|%s\n",
           g_fail > 0.0 ? "---:|" : "");
    for (uint32_t n = (uint32_t)n_min; n <= (uint32_t)n_max; n++) {
        team t;
        team_make(&t, n);
        for (int k = 0; k < n_targets; k++) {
            row(&t, M_AUTO, targets[k], seeds);
            row(&t, M_EXACT, targets[k], seeds);
        }
    }
    printf("\nrollouts: the median over the searched seeds of the smallest "
           "budget whose run\nreports every agent's se <= target, as spent "
           "(mean audit evaluations) when run\nonce on each fresh seed; per "
           "coalition: rollouts / 2^n; 90%% of seeds: the\nbudget that was "
           "enough for 90%% of the searched seeds (as set: with --fail,\n"
           "exact's includes its retry margin). On the fresh seeds, at "
           "the\nmedian budget: se (largest): the largest over agents of the "
           "RMS reported\nse; RMSE (largest): the largest over agents of "
           "the RMS error against the\nexact Shapley values of p; RMSE / se: "
           "sqrt(sum of squared errors / sum of\nse^2) over agents and "
           "seeds (1: honest); met: runs that report every\nse <= target; "
           "coverage: |phi - exact| <= 1.96 se over agents and seeds\n"
           "(nominal 95%%). auto took "
           "AC_METHOD_ADAPTIVE in every run, and AC_METHOD_ADAPTIVE at the "
           "same\nbudget gave the same estimate bit for bit (checked). "
           "%" PRId64 " runs, %" PRId64 " rollouts,\nCPU %.1f s (%.2f us "
           "a rollout, simulation and library together).\n",
           g_runs, g_rollouts, now_cpu() - c_start,
           g_rollouts > 0 ? 1e6 * (now_cpu() - c_start) / (double)g_rollouts
                          : 0.0);
    if (g_fail > 0.0)
        printf("Runs that failed, search and check: %" PRId64 " ended "
               "AC_E_ORACLE, %" PRId64 " AC_E_BUDGET\n(the largest budget "
               "of those: %" PRId64 ").\n", g_failed_oracle, g_failed_budget,
               g_failed_budget_max);
    if (g_fail > 0.0)
        printf("failed runs: fresh seeds whose run at the median budget "
               "ended AC_E_ORACLE or\nAC_E_BUDGET (a rollout failed past "
               "its retries, or no budget was left to\nretry it); the other "
               "columns are over the runs that finished. In the search\na "
               "failed run counts as one that misses the target.\n");
    if (g_failures) {
        printf("\n%d check(s) FAILED\n", g_failures);
        return 1;
    }
    printf("\nall checks passed\n");
    return 0;

bad_usage:
    usage(stderr);
    return 2;
}
