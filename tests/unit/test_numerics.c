/* SPDX-License-Identifier: MIT
 *
 * Numerics of the estimator and of ac_shapley_exact (issue 13, defects 1, 4
 * and 7, and what fuzz_api found after them):
 *
 *  - values of any finite magnitude. The methods work in a scaled space
 *    when the values' magnitude needs it; binary floating point is
 *    invariant under power-of-two scaling, so a game times 2^k must give
 *    the credits and standard errors times 2^k, bit for bit, for every
 *    method, from 2^-1000 to 2^1000 (before: NaN or infinite credits with
 *    AC_OK). At 1e154, 1e300 and 1.75e308 every run succeeds with finite
 *    credits that conserve v(all) - v(empty) to a relative 1e-12, and what
 *    a double cannot hold is refused with AC_E_TOO_LARGE, never reported;
 *  - a cancel while a method computes (OddSHAP's fit of 4096 rows took 14 s
 *    and ignored it) ends the run with AC_E_CANCELLED;
 *  - ask reserves tickets for the work it can hand out, not for max_count:
 *    "as many as you have" (UINT32_MAX) works and costs no gigabytes;
 *  - subnormal credits, and a tiny total beside huge values, conserve; the
 *    adaptive method's memory does not grow with the budget.
 *
 * `test_numerics --figures` runs no test: it prints the figures of
 * docs/reliability.md (cancel latency while each method computes, the
 * largest allocation of an ask), minutes of work.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep */

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "helpers.h"

/* ===================================================================== */
/* A game of any magnitude                                               */
/* ===================================================================== */

#define NS 12u
#define NS_TABLE (1u << NS)

/* g(S) for the 12-player game of the scale tests: |S|/n plus a bounded
 * interaction, |g(S)| < 1.25 but for g(N) = 1.75 (the largest value, so
 * that the run's scaled space sees g itself at every power of two, and
 * its arithmetic is the unscaled run's). */
static double g_value(uint64_t mask)
{
    if (mask == NS_TABLE - 1)
        return 1.75;
    if (mask == 0)
        return 0.0;
    double u = (double)(th_mix(mask * 0x9E37u + 7u) >> 11) *
               (1.0 / 9007199254740992.0);
    return (double)th_popcount64(mask) / NS + 0.5 * (u - 0.5);
}

typedef struct scaled_oracle {
    double c;        /* the values are c g(S)                    */
    int noisy;       /* plus c times noise in [-0.2, 0.2)        */
    uint64_t calls;  /* evaluations, for the noise's seed        */
} scaled_oracle;

static int scaled_fn(void *user, const uint64_t *coalitions, uint32_t words,
                     uint32_t count, double *values, int32_t *status)
{
    scaled_oracle *o = user;
    for (uint32_t k = 0; k < count; k++) {
        uint64_t mask = coalitions[(size_t)k * words];
        double v = g_value(mask);
        if (o->noisy) {
            /* The k-th evaluation of the run: the same in every run of one
             * configuration, whatever c is. */
            double u = (double)(th_mix(mask ^ (++o->calls << 20)) >> 11) *
                       (1.0 / 9007199254740992.0);
            v += 0.4 * (u - 0.5);
        }
        values[k] = o->c * v;
        status[k] = 0;
    }
    return 0;
}

/* The configurations every scale is tried on: each method, deterministic
 * and noisy (repeats: the coalition cache's variances), with too few
 * samples (an infinite standard error must stay infinite), with an error
 * target (tested at checkpoints in the host's units). OddSHAP's budgets
 * are small: its fit is cubic in them, and the scaled space is the same at
 * every size. */
typedef struct config {
    const char *name;
    int64_t method, budget, repeats, noisy, ends_known;
    double target_se; /* times c */
} config;

static const config CONFIGS[] = {
    {"auto (oddshap)", AC_METHOD_AUTO, 300, 1, 0, 0, 0},
    {"exact", AC_METHOD_EXACT, 4096, 1, 0, 0, 0},
    {"permutation", AC_METHOD_PERMUTATION, 1000, 1, 0, 0, 0},
    {"kernelshap", AC_METHOD_KERNELSHAP, 1000, 1, 0, 0, 0},
    {"oddshap", AC_METHOD_ODDSHAP, 600, 1, 0, 0, 0},
    {"adaptive, deterministic", AC_METHOD_ADAPTIVE, 3 * 4096, 1, 0, 0, 0},
    {"exact, noisy, 3 repeats", AC_METHOD_EXACT, 3 * 4096, 3, 1, 1, 0},
    {"kernelshap, noisy, 2 repeats", AC_METHOD_KERNELSHAP, 2000, 2, 1, 1, 0},
    {"adaptive, noisy", AC_METHOD_ADAPTIVE, 3 * 4096, 1, 1, 1, 0},
    {"oddshap, noisy", AC_METHOD_ODDSHAP, 400, 1, 1, 1, 0},
    {"permutation, noisy, error target", AC_METHOD_PERMUTATION, 4000, 1, 1,
     1, 0.02},
    {"kernelshap, error target", AC_METHOD_KERNELSHAP, 3000, 1, 0, 0, 0.01},
    {"kernelshap, too few samples", AC_METHOD_KERNELSHAP, 20, 1, 0, 1, 0},
    {"oddshap, too few samples", AC_METHOD_ODDSHAP, 20, 1, 0, 1, 0},
};
#define N_CONFIGS ((int)(sizeof CONFIGS / sizeof CONFIGS[0]))

typedef struct outcome {
    int rc;
    char err[512];
    double phi[NS], se[NS];
    int64_t method, evaluations;
} outcome;

static void run_config(const config *cf, double c, outcome *out)
{
    ac_estimator *e = th_est(NS, cf->method, cf->budget, 7);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_REPEATS, cf->repeats), e);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_NOISY, cf->noisy), e);
    if (cf->target_se > 0.0) /* the parameter's bound is 1e300 */
        th_ok(ac_estimator_set_f64(e, AC_ESTIMATOR_PARAM_TARGET_SE,
                                   fmin(cf->target_se * c, 1e300)), e);
    if (cf->ends_known) {
        uint64_t empty = 0, all = NS_TABLE - 1;
        th_ok(ac_estimator_set_value(e, &empty, 1, c * g_value(empty)), e);
        th_ok(ac_estimator_set_value(e, &all, 1, c * g_value(all)), e);
    }
    scaled_oracle o = {c, (int)cf->noisy, 0};
    th_ok(ac_estimator_set_oracle(e, scaled_fn, &o), e);
    out->rc = ac_estimator_run(e);
    snprintf(out->err, sizeof out->err, "%s", ac_estimator_last_error(e));
    if (out->rc == AC_OK)
        th_ok(ac_estimator_result(e, out->phi, out->se, NS), e);
    out->method = th_audit(e, AC_ESTIMATOR_AUDIT_METHOD);
    out->evaluations = th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS);
    ac_estimator_free(e);
}

/* sum(phi) == v(all) - v(empty) to a relative 1e-12, summed in a space
 * scaled by 2^-k so that the test's own sums cannot overflow. */
static void assert_conserves_scaled(const double *phi, uint32_t n,
                                    double vall, double vempty, int k,
                                    const char *what)
{
    double x[64], abs_sum = 0.0;
    ck_assert_uint_le(n, 64);
    for (uint32_t i = 0; i < n; i++) {
        x[i] = ldexp(phi[i], -k);
        abs_sum += fabs(x[i]);
    }
    double total = ldexp(vall, -k) - ldexp(vempty, -k);
    double scale = fmax(fabs(ldexp(vall, -k)) + fabs(ldexp(vempty, -k)),
                        abs_sum);
    double s = th_sum(x, n);
    ck_assert_msg(fabs(s - total) <= 1e-12 * scale,
                  "%s: sum(phi) = %.17g x 2^%d, v(all) - v(empty) = %.17g "
                  "x 2^%d", what, s, k, total, k);
}

/* Every credit finite; every standard error finite or the +inf of "too
 * few samples"; never NaN. */
static void assert_finite_result(const outcome *r, const char *what)
{
    for (uint32_t i = 0; i < NS; i++) {
        ck_assert_msg(isfinite(r->phi[i]), "%s: credit %u is %g", what, i,
                      r->phi[i]);
        ck_assert_msg(isfinite(r->se[i]) || r->se[i] == INFINITY,
                      "%s: standard error %u is %g", what, i, r->se[i]);
    }
}

/* ===================================================================== */
/* Defect 1: the scaled space                                            */
/* ===================================================================== */

/* A game times 2^k gives credits and standard errors times 2^k, bit for
 * bit, for every method and k = 500, 1000, -1000: the run's arithmetic
 * is the unscaled run's. Before the scaled space, 2^1000 gave NaN or
 * infinite credits under AC_OK and 2^-1000 lost its variances to
 * underflow. */
START_TEST(power_of_two_scaling_keeps_every_bit)
{
    const config *cf = &CONFIGS[_i];
    static const int K[] = {500, 1000, -1000};
    outcome base, scaled;
    run_config(cf, 1.0, &base);
    ck_assert_msg(base.rc == AC_OK, "%s: %s", cf->name, base.err);
    assert_finite_result(&base, cf->name);
    for (size_t t = 0; t < sizeof K / sizeof K[0]; t++) {
        int k = K[t];
        run_config(cf, ldexp(1.0, k), &scaled);
        ck_assert_msg(scaled.rc == AC_OK, "%s at 2^%d: status %d: %s",
                      cf->name, k, scaled.rc, scaled.err);
        ck_assert_int_eq(scaled.method, base.method);
        ck_assert_int_eq(scaled.evaluations, base.evaluations);
        for (uint32_t i = 0; i < NS; i++) {
            ck_assert_msg(scaled.phi[i] == ldexp(base.phi[i], k),
                          "%s at 2^%d: credit %u is %a, not %a x 2^%d",
                          cf->name, k, i, scaled.phi[i], base.phi[i], k);
            ck_assert_msg(scaled.se[i] == ldexp(base.se[i], k),
                          "%s at 2^%d: standard error %u is %a, not %a x "
                          "2^%d", cf->name, k, i, scaled.se[i], base.se[i],
                          k);
        }
        assert_conserves_scaled(scaled.phi, NS, ldexp(1.75, k), 0.0, k,
                                cf->name);
    }
}
END_TEST

/* At 1e154 (squares overflow), 1e300 and 1.75e308 (differences overflow)
 * every configuration succeeds with finite credits conserving the total to
 * a relative 1e-12; the exact ones agree with c times the unscaled credits
 * to rounding. Before: NaN credits with AC_OK (OddSHAP from 1e154, exact
 * and adaptive from 1e306, KernelSHAP at 1e308). */
START_TEST(huge_values_give_finite_conserving_credits)
{
    const config *cf = &CONFIGS[_i];
    static const double C[] = {1e154, 1e300, 1e308};
    outcome base, big;
    run_config(cf, 1.0, &base);
    ck_assert_msg(base.rc == AC_OK, "%s: %s", cf->name, base.err);
    int exact = cf->method == AC_METHOD_EXACT ||
                (cf->method == AC_METHOD_ADAPTIVE && !cf->noisy);
    for (size_t t = 0; t < sizeof C / sizeof C[0]; t++) {
        char what[96];
        snprintf(what, sizeof what, "%s at %g", cf->name, C[t]);
        run_config(cf, C[t], &big);
        ck_assert_msg(big.rc == AC_OK, "%s: status %d: %s", what, big.rc,
                      big.err);
        assert_finite_result(&big, what);
        int k = ilogb(C[t]);
        assert_conserves_scaled(big.phi, NS, C[t] * 1.75, 0.0, k, what);
        for (uint32_t i = 0; exact && i < NS; i++) {
            double want = ldexp(base.phi[i], -k) * C[t];
            double got = ldexp(big.phi[i], -k);
            ck_assert_msg(fabs(got - want) <= 1e-12 * ldexp(C[t], -k),
                          "%s: credit %u is %.17g x 2^%d, want %.17g", what,
                          i, got, k, want);
        }
    }
}
END_TEST

/* The issue's case: v(S) = 1e154 |S| with 12 players and every default
 * (AUTO takes OddSHAP) gave NaN for every credit; each is 1e154. */
static int additive_fn(void *user, const uint64_t *coalitions,
                       uint32_t words, uint32_t count, double *values,
                       int32_t *status)
{
    const double *c = user;
    for (uint32_t k = 0; k < count; k++) {
        values[k] = *c * th_popcount(coalitions + (size_t)k * words, words);
        status[k] = 0;
    }
    return 0;
}

START_TEST(additive_game_at_1e154_with_defaults)
{
    static const double C[] = {1e154};
    for (size_t t = 0; t < sizeof C / sizeof C[0]; t++) {
        double c = C[t];
        ac_estimator *e = NULL;
        ck_assert_int_eq(ac_estimator_create(&e, NS, NULL), AC_OK);
        th_ok(ac_estimator_set_oracle(e, additive_fn, &c), e);
        th_ok(ac_estimator_run(e), e);
        ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_METHOD),
                         AC_METHOD_SURROGATE);
        double phi[NS], se[NS];
        th_ok(ac_estimator_result(e, phi, se, NS), e);
        for (uint32_t i = 0; i < NS; i++) {
            ck_assert_msg(fabs(phi[i] - c) <= 1e-9 * c,
                          "at %g: credit %u is %.17g", c, i, phi[i]);
            ck_assert_msg(isfinite(se[i]) || se[i] == INFINITY,
                          "at %g: standard error %u is %g", c, i, se[i]);
        }
        assert_conserves_scaled(phi, NS, c * NS, 0.0, ilogb(c), "additive");
        ac_estimator_free(e);
    }
}
END_TEST

/* ac_shapley_exact: the issue's table {0, 1e308, 1e308, -1e308} gave NaN
 * with AC_OK; its credits are -5e307 each. A table times 2^+-1000 gives the
 * credits times 2^+-1000, bit for bit. */
START_TEST(shapley_exact_any_magnitude)
{
    const double issue[4] = {0.0, 1e308, 1e308, -1e308};
    double phi[2] = {42.0, 42.0};
    ck_assert_int_eq(ac_shapley_exact(2, issue, 4, phi), AC_OK);
    for (int i = 0; i < 2; i++)
        ck_assert_msg(fabs(phi[i] + 5e307) <= 1e-15 * 5e307,
                      "credit %d is %.17g, not -5e307", i, phi[i]);

    enum { N = 10, LEN = 1 << N };
    static double table[LEN], scaled[LEN];
    double base[N], got[N];
    th_rng r = th_rng_make(13);
    for (int s = 0; s < LEN; s++)
        table[s] = th_rng_range(&r, -1.0, 1.0);
    table[LEN - 1] = 1.5; /* the largest, so the scaled table is this one */
    ck_assert_int_eq(ac_shapley_exact(N, table, LEN, base), AC_OK);
    static const int K[] = {1000, 600, -1000};
    for (size_t t = 0; t < sizeof K / sizeof K[0]; t++) {
        for (int s = 0; s < LEN; s++)
            scaled[s] = ldexp(table[s], K[t]);
        ck_assert_int_eq(ac_shapley_exact(N, scaled, LEN, got), AC_OK);
        for (int i = 0; i < N; i++)
            ck_assert_msg(got[i] == ldexp(base[i], K[t]),
                          "2^%d: credit %d is %a, not %a x 2^%d", K[t], i,
                          got[i], base[i], K[t]);
        assert_conserves_scaled(got, N, scaled[LEN - 1], scaled[0], K[t],
                                "ac_shapley_exact");
    }
}
END_TEST

/* What a double cannot hold is refused: v(all) - v(empty) = 2e308 (each
 * credit 1e308 would be representable, their sum is not), and a credit of
 * 4/3 x 1.7e308 with a total of 0. phi is not written. */
static const double SUM_BEYOND[4] = {-1e308, 1e308, 1e308, 1e308};
#define M 1.7e308
static const double CREDIT_BEYOND[8] = {0.0, M, -M, M, -M, M, -M, 0.0};
#undef M

START_TEST(shapley_exact_refuses_what_a_double_cannot_hold)
{
    double phi[3] = {42.0, 42.0, 42.0};
    ck_assert_int_eq(ac_shapley_exact(2, SUM_BEYOND, 4, phi), AC_E_TOO_LARGE);
    ck_assert_int_eq(ac_shapley_exact(3, CREDIT_BEYOND, 8, phi),
                     AC_E_TOO_LARGE);
    for (int i = 0; i < 3; i++)
        ck_assert(phi[i] == 42.0);
}
END_TEST

/* The estimator refuses the same tables with AC_E_TOO_LARGE and a message
 * naming the figure and its magnitude, whether the run is driven by run()
 * or by ask; the run has failed (no result, outcome ERROR). */
START_TEST(estimator_refuses_what_a_double_cannot_hold)
{
    static const struct {
        uint32_t n;
        const double *table;
        const char *names;
    } CASES[] = {{2, SUM_BEYOND, "v(all) - v(empty)"},
                 {3, CREDIT_BEYOND, "credit of player 0"}};
    for (int drive = 0; drive < 2; drive++)
        for (size_t t = 0; t < sizeof CASES / sizeof CASES[0]; t++) {
            uint32_t n = CASES[t].n;
            ac_estimator *e = th_est(n, AC_METHOD_EXACT, 16, 1);
            for (uint64_t s = 0; s < ((uint64_t)1 << n); s++)
                th_ok(ac_estimator_set_value(e, &s, 1, CASES[t].table[s]), e);
            int rc;
            if (drive == 0) {
                rc = ac_estimator_run(e);
            } else {
                uint64_t ticket, coalition;
                uint32_t count = 99;
                rc = ac_estimator_ask(e, 1, &ticket, &coalition, &count);
            }
            ck_assert_msg(rc == AC_E_TOO_LARGE, "case %zu: status %d: %s", t,
                          rc, ac_estimator_last_error(e));
            const char *msg = ac_estimator_last_error(e);
            ck_assert_msg(strstr(msg, CASES[t].names) != NULL &&
                              strstr(msg, "largest double") != NULL &&
                              strstr(msg, "1e308") != NULL,
                          "the message does not name the figure and its "
                          "magnitude: %s", msg);
            double phi[3];
            ck_assert_int_eq(ac_estimator_result(e, phi, NULL, n), AC_E_STATE);
            ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_OUTCOME),
                             AC_ESTIMATOR_OUTCOME_ERROR);
            ck_assert_int_eq(ac_estimator_run(e), AC_E_TOO_LARGE);
            ac_estimator_free(e);
        }
}
END_TEST

/* ===================================================================== */
/* Defect 4: a cancel while a method computes                            */
/* ===================================================================== */

/* n = 20, budget 8190: OddSHAP fits 4096 rows, seconds of work after the
 * last evaluation (14 s on the issue's machine), during which the cancel
 * was never looked at: the run returned AC_OK. */
#define NF 20u

typedef struct late_cancel {
    ac_estimator *e;
    atomic_int go; /* the ask that fits is about to start */
} late_cancel;

static void *cancel_50ms_after_go(void *arg)
{
    late_cancel *c = arg;
    const struct timespec tick = {0, 1000000}, wait = {0, 50000000};
    while (!atomic_load(&c->go))
        nanosleep(&tick, NULL);
    nanosleep(&wait, NULL);
    ac_estimator_cancel(c->e);
    return NULL;
}

/* Ask/tell: the first ask hands out all 8190 evaluations, the tell gives
 * them, and the next ask fits. A thread cancels 50 ms after that ask has
 * begun, so the cancel lands in the fit: the ask must return
 * AC_E_CANCELLED (the old code returned AC_OK and the result seconds
 * later). A cancel that came early would be cancelled too: the test
 * cannot fail on a slow machine. */
START_TEST(cancel_ends_oddshap_fit_in_ask)
{
    /* _i = 1: the surrogate method, whose estimate fits OddSHAP's model and
     * then its trees. */
    late_cancel c;
    c.e = th_est(NF, _i ? AC_METHOD_SURROGATE : AC_METHOD_ODDSHAP, 8190, 3);
    atomic_init(&c.go, 0);
    static uint64_t tickets[8190], coalitions[8190];
    static double values[8190];
    uint32_t count = 0;
    th_ok(ac_estimator_ask(c.e, 8190, tickets, coalitions, &count), c.e);
    ck_assert_uint_eq(count, 8190);
    for (uint32_t k = 0; k < count; k++)
        values[k] = (double)th_popcount64(coalitions[k]) +
                    0.1 * (double)(th_mix(coalitions[k]) % 1000) / 1000.0;
    th_ok(ac_estimator_tell(c.e, count, tickets, values, NULL), c.e);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, cancel_50ms_after_go, &c), 0);
    atomic_store(&c.go, 1);
    int rc = ac_estimator_ask(c.e, 8190, tickets, coalitions, &count);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_msg(rc == AC_E_CANCELLED,
                  "a cancel during the fit returned %d (%s): %s", rc,
                  ac_status_name(rc), ac_estimator_last_error(c.e));
    ck_assert_int_eq(th_audit(c.e, AC_ESTIMATOR_AUDIT_OUTCOME),
                     AC_ESTIMATOR_OUTCOME_CANCELLED);
    ck_assert_msg(strstr(ac_estimator_last_error(c.e), "cancelled") != NULL,
                  "%s", ac_estimator_last_error(c.e));
    double phi[NF];
    ck_assert_int_eq(ac_estimator_result(c.e, phi, NULL, NF), AC_E_STATE);
    ck_assert_int_eq(ac_estimator_tell(c.e, 0, NULL, NULL, NULL),
                     AC_E_CANCELLED);
    ac_estimator_free(c.e);
}
END_TEST

/* The same through ac_estimator_run: a thread cancels once the oracle has
 * been quiet for 20 ms (the evaluations take microseconds each, so the run
 * is then fitting, unless the machine stalled it between two calls, when
 * the cancel ends the run there); the run must end with AC_E_CANCELLED. */

typedef struct fit_watch {
    ac_estimator *e;
    atomic_llong last_call_ns; /* 0 until the first evaluation */
    atomic_int finished;       /* the run returned             */
    atomic_int cancelled;      /* the thread cancelled          */
} fit_watch;

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int watched_fn(void *user, const uint64_t *coalitions, uint32_t words,
                      uint32_t count, double *values, int32_t *status)
{
    fit_watch *w = user;
    for (uint32_t k = 0; k < count; k++) {
        const uint64_t *c = coalitions + (size_t)k * words;
        uint64_t mask = c[0];
        values[k] = (double)th_popcount(c, words) +
                    0.1 * (double)(th_mix(mask) % 1000) / 1000.0;
        status[k] = 0;
    }
    atomic_store(&w->last_call_ns, now_ns());
    return 0;
}

static void *cancel_when_quiet(void *arg)
{
    fit_watch *w = arg;
    const struct timespec tick = {0, 2000000}; /* 2 ms */
    while (!atomic_load(&w->finished)) {
        nanosleep(&tick, NULL);
        long long last = atomic_load(&w->last_call_ns);
        if (last != 0 && now_ns() - last > 20000000LL) {
            ac_estimator_cancel(w->e);
            atomic_store(&w->cancelled, 1);
            break;
        }
    }
    return NULL;
}

START_TEST(cancel_ends_oddshap_fit)
{
    fit_watch w;
    w.e = th_est(NF, AC_METHOD_ODDSHAP, 8190, 3);
    atomic_init(&w.last_call_ns, 0);
    atomic_init(&w.finished, 0);
    atomic_init(&w.cancelled, 0);
    th_ok(ac_estimator_set_oracle(w.e, watched_fn, &w), w.e);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, cancel_when_quiet, &w), 0);
    int rc = ac_estimator_run(w.e);
    atomic_store(&w.finished, 1);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_msg(atomic_load(&w.cancelled),
                  "the run ended (status %d) before the oracle was quiet "
                  "for 20 ms", rc);
    ck_assert_msg(rc == AC_E_CANCELLED,
                  "a cancel during the fit returned %d (%s): %s", rc,
                  ac_status_name(rc), ac_estimator_last_error(w.e));
    ck_assert_int_eq(th_audit(w.e, AC_ESTIMATOR_AUDIT_OUTCOME),
                     AC_ESTIMATOR_OUTCOME_CANCELLED);
    double phi[NF];
    ck_assert_int_eq(ac_estimator_result(w.e, phi, NULL, NF), AC_E_STATE);
    ck_assert_int_eq(ac_estimator_run(w.e), AC_E_CANCELLED);
    /* A reset forgets the cancel: the same handle then finishes. */
    th_ok(ac_estimator_reset(w.e, AC_RESET_SESSION), w.e);
    th_ok(ac_estimator_set_int(w.e, AC_ESTIMATOR_PARAM_BUDGET, 400), w.e);
    th_ok(ac_estimator_run(w.e), w.e);
    ac_estimator_free(w.e);
}
END_TEST

/* ===================================================================== */
/* Defect 7: ask sizes its tickets from the work                         */
/* ===================================================================== */

/* An allocator that refuses any block over 1 MiB and records the largest
 * request: 8 players need a few kilobytes. */
#define BLOCK_CAP ((size_t)1 << 20)

typedef struct capped {
    size_t largest;
    long live;
} capped;

static void *capped_alloc(void *opaque, size_t size)
{
    capped *c = opaque;
    if (size > c->largest)
        c->largest = size;
    if (size > BLOCK_CAP)
        return NULL;
    void *p = malloc(size ? size : 1);
    if (p != NULL)
        c->live++;
    return p;
}

static void capped_free(void *opaque, void *ptr)
{
    capped *c = opaque;
    if (ptr != NULL) {
        c->live--;
        free(ptr);
    }
}

/* max_count = UINT32_MAX ("as many as you have") with a budget of 2^40 and
 * 8 players: the table has 256 coalitions, and ask hands out all of them.
 * Before: ask reserved max_count tickets (64 GiB) and failed with
 * AC_E_NO_MEMORY; 2^26 reserved 1 GiB. The buffers hold the 256: no
 * ask can hand out more coalitions than the game has while none failed,
 * and the library writes `count` of them. */
START_TEST(ask_reserves_for_the_work_not_max_count)
{
    static const uint32_t MAX[] = {UINT32_MAX, (uint32_t)1 << 26};
    enum { N = 8, ALL = 1 << N };
    capped cap = {0, 0};
    ac_allocator a = {sizeof a, 0, capped_alloc, capped_free, &cap};
    ac_estimator *e = NULL;
    ck_assert_int_eq(ac_estimator_create(&e, N, &a), AC_OK);
    th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BUDGET,
                               (int64_t)1 << 40), e);
    uint64_t tickets[ALL], coalitions[ALL];
    double values[ALL];
    for (size_t t = 0; t < sizeof MAX / sizeof MAX[0]; t++) {
        uint32_t count = 0;
        int rc = ac_estimator_ask(e, MAX[t], tickets, coalitions, &count);
        ck_assert_msg(rc == AC_OK, "max_count %u: status %d: %s", MAX[t],
                      rc, ac_estimator_last_error(e));
        ck_assert_uint_eq(count, ALL);
        ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_METHOD),
                         AC_METHOD_EXACT);
        for (uint32_t k = 0; k < count; k++)
            values[k] = (double)th_popcount64(coalitions[k]);
        th_ok(ac_estimator_tell(e, count, tickets, values, NULL), e);
        th_ok(ac_estimator_ask(e, MAX[t], tickets, coalitions, &count), e);
        ck_assert_uint_eq(count, 0);
        double phi[N];
        th_ok(ac_estimator_result(e, phi, NULL, N), e);
        for (int i = 0; i < N; i++)
            ck_assert_msg(fabs(phi[i] - 1.0) <= 1e-12, "credit %d: %.17g",
                          i, phi[i]);
        ck_assert_msg(cap.largest <= 64 * 1024,
                      "max_count %u: an allocation of %zu bytes for 256 "
                      "coalitions", MAX[t], cap.largest);
        th_ok(ac_estimator_reset(e, AC_RESET_SESSION), e);
    }
    ac_estimator_free(e);
    ck_assert_int_eq(cap.live, 0);
}
END_TEST

/* ===================================================================== */
/* Found by fuzz_api: subnormal credits, a budget of 2^40                */
/* ===================================================================== */

/* v(S) in whole multiples of the smallest double, irregular in S. */
static int subnormal_fn(void *user, const uint64_t *coalitions,
                        uint32_t words, uint32_t count, double *values,
                        int32_t *status)
{
    (void)user;
    for (uint32_t k = 0; k < count; k++) {
        const uint64_t *c = coalitions + (size_t)k * words;
        uint64_t h = th_mix(c[0] ^ (words > 1 ? c[1] * 31u : 0));
        values[k] = (double)(th_popcount(c, words) + h % 5) * DBL_TRUE_MIN;
        status[k] = 0;
    }
    return 0;
}

/* Found by the long run of fuzz_api (stop 22): an agent whose bound the
 * refiner relaxed, credit 180 units of 2^-1074 over 19 messages, bound one
 * unit: the equal shares (9 units each) added up to 171. What they miss
 * now goes to the highest label (a gain) or the lowest (a loss). */
START_TEST(subnormal_relaxed_bound_conserves)
{
    for (int sign = -1; sign <= 1; sign += 2) {
        const uint32_t K = 19;
        double unit = ldexp(1.0, -1074), phi = sign * 180 * unit;
        uint32_t author[19] = {0};
        double labels[19], reward[19];
        for (uint32_t t = 0; t < K; t++)
            labels[t] = -1.0 + 2.0 * t / (K - 1);
        ac_refiner *r = NULL;
        ck_assert_int_eq(ac_refiner_create(&r, 1, K, NULL), AC_OK);
        ck_assert_int_eq(ac_refiner_set_f64(r, AC_REFINER_PARAM_BOUND, unit),
                         AC_OK);
        ck_assert_int_eq(ac_refiner_set_authors(r, author, K), AC_OK);
        ck_assert_int_eq(ac_refiner_set_credits(r, &phi, 1), AC_OK);
        ck_assert_int_eq(ac_refiner_set_labels(r, labels, K), AC_OK);
        ck_assert_int_eq(ac_refiner_run(r), AC_OK);
        ck_assert_int_eq(ac_refiner_rewards(r, reward, K), AC_OK);
        uint32_t flags = 0;
        ck_assert_int_eq(ac_refiner_agent_flags(r, &flags, 1), AC_OK);
        ck_assert(flags & AC_AGENT_FLAG_RELAXED_BOUND);
        double sum = 0.0; /* subnormal sums are exact */
        for (uint32_t t = 0; t < K; t++)
            sum += reward[t];
        ck_assert_msg(sum == phi, "sum %g, credit %g", sum, phi);
        for (uint32_t t = 1; t < K; t++) /* labels increase: so do rewards */
            ck_assert(reward[t - 1] <= reward[t]);
        ac_refiner_free(r);
    }
}
END_TEST

/* Credits in the subnormal range: each taken back from the scaled space
 * rounds to a multiple of the smallest double, and 51 of them summed to 0
 * where v(all) - v(empty) was 20 of it (tests/fuzz/crashes/
 * api_estimator_denormal_sum_zero.bin). Subnormal sums are exact, so the
 * credits now add up to it exactly, for every method and for
 * ac_shapley_exact. */
START_TEST(subnormal_credits_conserve_exactly)
{
    static const struct { uint32_t n; int64_t method, budget; } RUNS[] = {
        {51, AC_METHOD_AUTO, 48},       {51, AC_METHOD_PERMUTATION, 500},
        {51, AC_METHOD_KERNELSHAP, 500}, {12, AC_METHOD_EXACT, 4096},
        {12, AC_METHOD_ODDSHAP, 300},   {12, AC_METHOD_ADAPTIVE, 3 * 4096},
    };
    for (size_t t = 0; t < sizeof RUNS / sizeof RUNS[0]; t++) {
        uint32_t n = RUNS[t].n, words = (n + 63) / 64;
        ac_estimator *e = th_est(n, RUNS[t].method, RUNS[t].budget, 3);
        th_ok(ac_estimator_set_oracle(e, subnormal_fn, NULL), e);
        th_ok(ac_estimator_run(e), e);
        double phi[64], se[64], v_all, v_empty;
        uint64_t all[2] = {0, 0}, none[2] = {0, 0};
        for (uint32_t i = 0; i < n; i++)
            all[i / 64] |= (uint64_t)1 << (i % 64);
        int32_t st;
        subnormal_fn(NULL, all, words, 1, &v_all, &st);
        subnormal_fn(NULL, none, words, 1, &v_empty, &st);
        th_ok(ac_estimator_result(e, phi, se, n), e);
        ck_assert_msg(th_sum(phi, n) == v_all - v_empty,
                      "method %lld, n %u: sum(phi) = %a, v(all) - v(empty) "
                      "= %a", (long long)RUNS[t].method, n, th_sum(phi, n),
                      v_all - v_empty);
        ac_estimator_free(e);
    }
    enum { N = 10, LEN = 1 << N };
    static double table[LEN];
    double phi[N];
    for (uint64_t m = 0; m < LEN; m++)
        table[m] = (double)(th_mix(m) % 7) * DBL_TRUE_MIN;
    ck_assert_int_eq(ac_shapley_exact(N, table, LEN, phi), AC_OK);
    ck_assert_msg(th_sum(phi, N) == table[LEN - 1] - table[0],
                  "ac_shapley_exact: sum(phi) = %a, want %a", th_sum(phi, N),
                  table[LEN - 1] - table[0]);
}
END_TEST

/* v(all) - v(empty) = 3.8e-236 beside single-agent values of 1e300: the
 * scaled space (2^-997) loses the total to underflow, and every method
 * conserved 0 (fuzz_api). The credits now conserve the total in the
 * host's units. */
static const double TINY_BESIDE_HUGE[4] = {0.0, 1e300, 1e300, 3.8e-236};

static int table_fn(void *user, const uint64_t *coalitions, uint32_t words,
                    uint32_t count, double *values, int32_t *status)
{
    const double *table = user;
    for (uint32_t k = 0; k < count; k++) {
        values[k] = table[coalitions[(size_t)k * words]];
        status[k] = 0;
    }
    return 0;
}

START_TEST(tiny_total_beside_huge_values_conserves)
{
    static const int64_t METHODS[] = {AC_METHOD_EXACT, AC_METHOD_ADAPTIVE,
                                      AC_METHOD_PERMUTATION,
                                      AC_METHOD_KERNELSHAP};
    const double *t = TINY_BESIDE_HUGE, want = t[3] - t[0];
    for (size_t m = 0; m < sizeof METHODS / sizeof METHODS[0]; m++) {
        ac_estimator *e = th_est(2, METHODS[m], 64, 1);
        th_ok(ac_estimator_set_oracle(e, table_fn, (void *)t), e);
        th_ok(ac_estimator_run(e), e);
        double phi[2];
        th_ok(ac_estimator_result(e, phi, NULL, 2), e);
        ck_assert_msg(fabs(phi[0] + phi[1] - want) <= 1e-12 * want,
                      "method %lld: sum(phi) = %g, v(all) - v(empty) = %g",
                      (long long)METHODS[m], phi[0] + phi[1], want);
        ac_estimator_free(e);
    }
    double phi[2];
    ck_assert_int_eq(ac_shapley_exact(2, t, 4, phi), AC_OK);
    ck_assert_msg(fabs(phi[0] + phi[1] - want) <= 1e-12 * want,
                  "ac_shapley_exact: sum(phi) = %g", phi[0] + phi[1]);
}
END_TEST

/* The adaptive method with nothing to allocate (every coalition known)
 * and a budget above the phase cap: each phase planned nothing and, its
 * share capped, did not count as one, so planning went on for ever
 * (tests/fuzz/crashes/api_estimator_adaptive_nothing_to_plan.bin: n = 1,
 * budget 2^40, a libFuzzer timeout). The phases now end when one plans
 * nothing. */
START_TEST(adaptive_with_nothing_to_plan_ends)
{
    for (uint32_t n = 1; n <= 3; n++) {
        ac_estimator *e = th_est(n, AC_METHOD_ADAPTIVE, (int64_t)1 << 40, 1);
        th_ok(ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_NOISY, 1), e);
        for (uint64_t m = 0; m < ((uint64_t)1 << n); m++)
            th_ok(ac_estimator_set_value(e, &m, 1, (double)th_popcount64(m)),
                  e);
        th_ok(ac_estimator_run(e), e);
        double phi[3];
        th_ok(ac_estimator_result(e, phi, NULL, n), e);
        for (uint32_t i = 0; i < n; i++)
            ck_assert(fabs(phi[i] - 1.0) <= 1e-15);
        ck_assert_int_eq(th_audit(e, AC_ESTIMATOR_AUDIT_EVALUATIONS), 0);
        ac_estimator_free(e);
    }
}
END_TEST

/* An allocator that keeps the live bytes and their peak (a header before
 * each block holds its size). */
typedef struct metered {
    size_t live, peak;
} metered;

static void *metered_alloc(void *opaque, size_t size)
{
    metered *m = opaque;
    max_align_t *p = malloc(sizeof *p + size);
    if (p == NULL)
        return NULL;
    memcpy(p, &size, sizeof size);
    m->live += size;
    if (m->live > m->peak)
        m->peak = m->live;
    return p + 1;
}

static void metered_free(void *opaque, void *ptr)
{
    metered *m = opaque;
    if (ptr == NULL)
        return;
    max_align_t *p = (max_align_t *)ptr - 1;
    size_t size;
    memcpy(&size, p, sizeof size);
    m->live -= size;
    free(p);
}

typedef struct noisy_count {
    uint64_t calls, stop_after;
    ac_estimator *e;
} noisy_count;

static int noisy_count_fn(void *user, const uint64_t *coalitions,
                          uint32_t words, uint32_t count, double *values,
                          int32_t *status)
{
    noisy_count *o = user;
    for (uint32_t k = 0; k < count; k++) {
        uint64_t h = th_mix(coalitions[(size_t)k * words] ^ (++o->calls << 9));
        values[k] = (double)th_popcount(coalitions + (size_t)k * words, words) +
                    (double)(h % 1000) / 1000.0;
        status[k] = 0;
    }
    if (o->calls >= o->stop_after)
        ac_estimator_cancel(o->e);
    return 0;
}

/* The adaptive method with a noisy oracle and a budget of 2^40 planned a
 * sixteenth of the budget at once: 805 MB of queue and 2.1 GB in all for 8
 * players before the first extra evaluation (tests/fuzz/crashes/
 * api_estimator_adaptive_plans_whole_budget.bin). A phase now plans at
 * most 2^16 evaluations (or the table, when larger) and the values of the
 * phases before are folded into per-coalition sums: after 2.5 million
 * evaluations (some forty phases) the handle holds under 64 MB, and a
 * cancel ends the run. */
START_TEST(adaptive_memory_does_not_grow_with_the_budget)
{
    enum { N = 8 };
    metered m = {0, 0};
    ac_allocator a = {sizeof a, 0, metered_alloc, metered_free, &m};
    noisy_count o = {0, (uint64_t)5 << 19, NULL};
    ck_assert_int_eq(ac_estimator_create(&o.e, N, &a), AC_OK);
    th_ok(ac_estimator_set_int(o.e, AC_ESTIMATOR_PARAM_METHOD,
                               AC_METHOD_ADAPTIVE), o.e);
    th_ok(ac_estimator_set_int(o.e, AC_ESTIMATOR_PARAM_NOISY, 1), o.e);
    th_ok(ac_estimator_set_int(o.e, AC_ESTIMATOR_PARAM_BATCH, 4096), o.e);
    th_ok(ac_estimator_set_int(o.e, AC_ESTIMATOR_PARAM_BUDGET,
                               (int64_t)1 << 40), o.e);
    th_ok(ac_estimator_set_oracle(o.e, noisy_count_fn, &o), o.e);
    int rc = ac_estimator_run(o.e);
    ck_assert_msg(rc == AC_E_CANCELLED, "status %d: %s", rc,
                  ac_estimator_last_error(o.e));
    ck_assert_uint_ge(o.calls, o.stop_after);
    ck_assert_msg(m.peak < (size_t)64 << 20, "the handle held %zu bytes",
                  m.peak);
    ac_estimator_free(o.e);
    ck_assert_uint_eq(m.live, 0);
}
END_TEST

/* ===================================================================== */
/* --figures                                                             */
/* ===================================================================== */

typedef struct lat_run {
    ac_estimator *e;
    atomic_llong last_call_ns;
    atomic_int finished;
    long long quiet_ns, cancel_ns; /* cancel after this much quiet; when */
    int noisy;
    uint64_t calls;
} lat_run;

static int lat_fn(void *user, const uint64_t *coalitions, uint32_t words,
                  uint32_t count, double *values, int32_t *status)
{
    lat_run *r = user;
    for (uint32_t k = 0; k < count; k++) {
        const uint64_t *c = coalitions + (size_t)k * words;
        uint64_t h = th_mix(c[0] ^ (r->noisy ? ++r->calls << 32 : 0));
        values[k] = (double)th_popcount(c, words) + 0.1 * (double)(h % 1000) /
                                                        1000.0;
        status[k] = 0;
    }
    atomic_store(&r->last_call_ns, now_ns());
    return 0;
}

static void *lat_canceller(void *arg)
{
    lat_run *r = arg;
    const struct timespec tick = {0, 1000000};
    while (!atomic_load(&r->finished)) {
        nanosleep(&tick, NULL);
        long long last = atomic_load(&r->last_call_ns);
        if (last != 0 && now_ns() - last > r->quiet_ns) {
            r->cancel_ns = now_ns();
            ac_estimator_cancel(r->e);
            break;
        }
    }
    return NULL;
}

/* One run: *status, the run's wall time and the time after its last
 * evaluation; with quiet_ns > 0, a cancel once the oracle has been quiet
 * that long, and *latency the time from the cancel to the run's return. */
static int lat_once(uint32_t n, int64_t method, int64_t budget, int noisy,
                    long long quiet_ns, double *total, double *tail,
                    double *latency)
{
    lat_run r;
    memset(&r, 0, sizeof r);
    atomic_init(&r.last_call_ns, 0);
    atomic_init(&r.finished, 0);
    r.quiet_ns = quiet_ns;
    r.noisy = noisy;
    if (ac_estimator_create(&r.e, n, NULL) != AC_OK ||
        ac_estimator_set_int(r.e, AC_ESTIMATOR_PARAM_METHOD, method) != AC_OK ||
        ac_estimator_set_int(r.e, AC_ESTIMATOR_PARAM_BUDGET, budget) != AC_OK ||
        ac_estimator_set_int(r.e, AC_ESTIMATOR_PARAM_NOISY, noisy) != AC_OK ||
        ac_estimator_set_oracle(r.e, lat_fn, &r) != AC_OK)
        return AC_E_STATE;
    pthread_t th;
    int threaded = quiet_ns > 0 &&
                   pthread_create(&th, NULL, lat_canceller, &r) == 0;
    long long t0 = now_ns();
    int rc = ac_estimator_run(r.e);
    long long t1 = now_ns();
    atomic_store(&r.finished, 1);
    if (threaded)
        pthread_join(th, NULL);
    *total = (double)(t1 - t0) * 1e-9;
    *tail = (double)(t1 - atomic_load(&r.last_call_ns)) * 1e-9;
    *latency = r.cancel_ns ? (double)(t1 - r.cancel_ns) * 1e-9 : -1.0;
    ac_estimator_free(r.e);
    return rc;
}

/* Cancels spread over the computation after the last evaluation. */
static void lat_scenario(const char *name, uint32_t n, int64_t method,
                         int64_t budget, int noisy, int trials)
{
    double total, tail, latency, worst = 0.0, sum = 0.0;
    int rc = lat_once(n, method, budget, noisy, 0, &total, &tail, &latency);
    int cancelled = 0, tried = 0;
    for (int t = 0; t < trials && rc == AC_OK; t++) {
        double quiet = 0.005 + (tail - 0.01) * t / trials;
        double tot, tl;
        int r = lat_once(n, method, budget, noisy,
                         (long long)(fmax(quiet, 0.005) * 1e9), &tot, &tl,
                         &latency);
        if (latency < 0.0)
            continue; /* ended before the cancel was sent */
        tried++;
        if (r == AC_E_CANCELLED) {
            cancelled++;
            sum += latency;
            worst = fmax(worst, latency);
        }
    }
    printf("%-34s %7.2f s, %7.3f s after the last evaluation; "
           "%2d/%2d cancels ended it: latency mean %6.2f ms, max %6.2f ms\n",
           name, total, tail, cancelled, tried,
           cancelled ? 1e3 * sum / cancelled : 0.0, 1e3 * worst);
}

static int print_figures(void)
{
    printf("Cancel latency: the oracle answers at once; a thread cancels "
           "once it has been\nquiet for 5 ms .. the whole computation "
           "(evenly spread), and the time from\nac_estimator_cancel to "
           "the run's return is taken.\n");
    lat_scenario("oddshap n=20, budget 8190", 20, AC_METHOD_ODDSHAP, 8190, 0,
                 10);
    lat_scenario("auto n=11, default budget", 11, AC_METHOD_AUTO, 2048, 0,
                 20);
    lat_scenario("kernelshap n=512, budget 20000", 512, AC_METHOD_KERNELSHAP,
                 20000, 0, 10);
    lat_scenario("exact n=22", 22, AC_METHOD_EXACT, (int64_t)1 << 22, 0, 10);
    lat_scenario("adaptive n=18, noisy, budget 2^21", 18, AC_METHOD_ADAPTIVE,
                 (int64_t)1 << 21, 1, 10);

    printf("\nAsk sizing: 8 players, budget 2^40, one ask of max_count, the "
           "largest block the\nestimator allocates from create to the "
           "result.\n");
    static const uint32_t MAX[] = {UINT32_MAX, (uint32_t)1 << 26, 256, 1};
    for (size_t t = 0; t < sizeof MAX / sizeof MAX[0]; t++) {
        capped cap = {0, 0};
        ac_allocator a = {sizeof a, 0, capped_alloc, capped_free, &cap};
        ac_estimator *e = NULL;
        uint64_t tickets[256], coalitions[256];
        double values[256];
        uint32_t count = 0, asks = 0;
        int rc = ac_estimator_create(&e, 8, &a);
        if (rc == AC_OK)
            rc = ac_estimator_set_int(e, AC_ESTIMATOR_PARAM_BUDGET,
                                      (int64_t)1 << 40);
        do {
            if (rc == AC_OK)
                rc = ac_estimator_ask(e, MAX[t], tickets, coalitions, &count);
            for (uint32_t k = 0; rc == AC_OK && k < count; k++)
                values[k] = (double)th_popcount64(coalitions[k]);
            if (rc == AC_OK && count > 0)
                rc = ac_estimator_tell(e, count, tickets, values, NULL);
            asks++;
        } while (rc == AC_OK && count > 0);
        printf("max_count %10u: %s after %u asks, largest block %zu bytes\n",
               MAX[t], ac_status_name(rc), asks, cap.largest);
        ac_estimator_free(e);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--figures") == 0)
        return print_figures();
    Suite *s = suite_create("numerics");
    TCase *tc = th_tcase(s, "scaled space");
    tcase_add_loop_test(tc, power_of_two_scaling_keeps_every_bit, 0,
                        N_CONFIGS);
    tcase_add_loop_test(tc, huge_values_give_finite_conserving_credits, 0,
                        N_CONFIGS);
    tcase_add_test(tc, additive_game_at_1e154_with_defaults);
    tcase_add_test(tc, shapley_exact_any_magnitude);
    tcase_add_test(tc, shapley_exact_refuses_what_a_double_cannot_hold);
    tcase_add_test(tc, estimator_refuses_what_a_double_cannot_hold);
    tc = th_tcase(s, "cancel");
    tcase_add_loop_test(tc, cancel_ends_oddshap_fit_in_ask, 0, 2);
    tcase_add_test(tc, cancel_ends_oddshap_fit);
    tc = th_tcase(s, "ask sizing");
    tcase_add_test(tc, ask_reserves_for_the_work_not_max_count);
    tc = th_tcase(s, "found by fuzzing");
    tcase_add_test(tc, subnormal_credits_conserve_exactly);
    tcase_add_test(tc, subnormal_relaxed_bound_conserves);
    tcase_add_test(tc, tiny_total_beside_huge_values_conserves);
    tcase_add_test(tc, adaptive_with_nothing_to_plan_ends);
    tcase_add_test(tc, adaptive_memory_does_not_grow_with_the_budget);
    return th_run_suite(s);
}
